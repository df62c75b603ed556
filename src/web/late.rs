//! Routes that exist before their handlers: the listener is up from the first second
//! (`/healthz`, the pages), while the chat platforms' webhook and interaction routes arrive
//! once each platform has connected. Until then those paths answer 503 with `Retry-After`
//! (Telegram and Discord both retry).

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

/// The platforms' routes, set as each connects.
#[derive(Clone, Default)]
pub struct LateRoutes(Arc<RwLock<Option<Router>>>);

impl LateRoutes {
    /// Adds a connected platform's routes.
    pub fn add(&self, routes: Router) {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        *slot = Some(match slot.take() {
            Some(r) => r.merge(routes),
            None => routes,
        });
    }

    /// A router that sends `paths` to the routes added later.
    pub fn router(&self, paths: &[&str]) -> Router {
        paths
            .iter()
            .fold(Router::new(), |r, p| r.route(p, any(forward)))
            .with_state(self.clone())
    }
}

async fn forward(State(late): State<LateRoutes>, req: Request) -> Response {
    let routes = late.0.read().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(mut routes) = routes else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "the chat platform is still connecting",
        )
            .into_response();
    };
    match tower_service::Service::call(&mut routes, req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}
