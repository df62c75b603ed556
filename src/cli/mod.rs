//! What the command line's subcommands compute, as library code with tests: the check-config
//! report (`check_config`), the topic listing (`topics`), the export page or JSON and the
//! stored-paper JSON (`export`), `paper`'s lookup (the store, else arXiv; the LLM's summary
//! or the extractive one), `parse` of local documents, `fetch` (files, arXiv, enrichment) and
//! `search` (ranked search and similar papers through the index). `main` parses arguments, calls these, prints and sets exit codes.

pub mod check_config;
pub mod export;
pub mod fetch;
pub mod paper;
pub mod parse;
pub mod search;
pub mod taste;
pub mod topics;
