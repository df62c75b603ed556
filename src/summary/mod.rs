//! Summaries and enrichment. For now: code and project-page links found in a paper's abstract
//! and comment (extractive TL;DRs, Hugging Face and the optional LLM come with the summary issue).

pub mod code_links;
