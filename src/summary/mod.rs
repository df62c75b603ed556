//! Summaries and enrichment: the extractive TL;DR (`tldr`) and code and project-page links
//! (`code_links`), both pure. Hugging Face enrichment and the optional LLM come with the
//! summary issue.

pub mod code_links;
pub mod tldr;
