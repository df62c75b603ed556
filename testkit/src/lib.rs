//! Test-only fakes of the services paperbell talks to (arXiv, Telegram, Discord, Hugging Face,
//! an OpenAI-compatible LLM). Each speaks the real protocol over real
//! HTTP on 127.0.0.1 (an ephemeral port), so the real clients (teloxide, serenity, reqwest) talk
//! to them unchanged; each is strict where the real service is strict and can inject faults.
//! Shared by the root crate's integration tests and benches and by the adapters' own tests.

pub mod arxiv;
pub mod discord;
pub mod http;
pub mod huggingface;
pub mod llm;
pub mod multipart;
pub mod process;
pub mod telegram;
