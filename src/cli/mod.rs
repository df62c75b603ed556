//! What the command line's subcommands compute, as library code with tests: the check-config
//! report (`check_config`), the topic listing (`topics`), the export page or JSON and the
//! stored-paper JSON (`export`), and `paper`'s lookup (the store, else arXiv; the LLM's summary
//! or the extractive one). `main` parses arguments, calls these, prints and sets exit codes.

pub mod check_config;
pub mod export;
pub mod paper;
pub mod topics;
