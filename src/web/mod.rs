//! The archive on the web: the stored papers as pages (home, a topic's day, a paper, search),
//! Atom feeds and SVG charts, served on the service's HTTP listener with `/healthz` and
//! `/metrics` (`http`), or written as a static site (`export`).
//!
//! `pages` reads the store into values, `templates` (minijinja), `chart` (plotters) and `feed`
//! (atom_syndication) turn values into text, `site` puts them together for both the served
//! pages and the export, and `links` is the one place that knows where a page is.

pub mod chart;
pub mod export;
pub mod feed;
pub mod health;
pub mod http;
pub mod late;
pub mod links;
pub mod makers;
pub mod pages;
pub mod site;
pub mod templates;

pub use health::{PlatformState, Platforms};
pub use http::{Web, router};
pub use late::LateRoutes;
pub use pages::Archive;
pub use site::Site;

#[cfg(test)]
mod tests;
