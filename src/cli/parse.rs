//! `paperbell parse`: the papers of local arXiv documents as one JSON array, each document's
//! problems, and the exit code (2: not an arXiv document or truncated, beats 3: an arXiv API
//! error feed, beats 0).

use serde_json::Value;

use crate::digest;
use crate::sources::{self, ParseError};

/// What parsing the documents gave.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Every paper of every document, as `parse` prints it.
    pub papers: Vec<Value>,
    /// Warnings and errors, each naming its document (for stderr).
    pub messages: Vec<String>,
    pub exit_code: u8,
}

/// Parses each `(name, contents)`; a document that could not be read is `Err(why)`.
pub fn parse_documents(docs: Vec<(String, Result<Vec<u8>, std::io::Error>)>) -> Parsed {
    let mut out = Parsed::default();
    for (name, bytes) in docs {
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => {
                out.messages.push(format!("{name}: cannot read: {e}"));
                out.exit_code = 2;
                continue;
            }
        };
        match sources::parse(&bytes) {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    out.messages.push(format!("warning: {name}: {w}"));
                }
                out.papers
                    .extend(parsed.papers.iter().map(digest::paper_json));
            }
            Err(ParseError::Invalid {
                line,
                column,
                reason,
            }) => {
                out.messages
                    .push(format!("{name}:{line}:{column}: {reason}"));
                out.exit_code = 2;
            }
            Err(ParseError::Api { message }) => {
                out.messages
                    .push(format!("{name}: arXiv API error: {message}"));
                if out.exit_code == 0 {
                    out.exit_code = 3;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_counts_and_the_worst_problem_sets_the_code() {
        let rss = include_bytes!("../../tests/fixtures/rss.xml").to_vec();
        let api_error = include_bytes!("../../tests/fixtures/api_error.xml").to_vec();
        let truncated = include_bytes!("../../tests/fixtures/truncated.xml").to_vec();
        let ok = parse_documents(vec![("rss.xml".into(), Ok(rss.clone()))]);
        assert_eq!(ok.exit_code, 0);
        assert!(ok.papers.len() >= 4);
        let api = parse_documents(vec![
            ("rss.xml".into(), Ok(rss.clone())),
            ("api_error.xml".into(), Ok(api_error.clone())),
        ]);
        assert_eq!((api.exit_code, api.papers.len()), (3, ok.papers.len()));
        let worst = parse_documents(vec![
            ("api_error.xml".into(), Ok(api_error)),
            ("truncated.xml".into(), Ok(truncated)),
            ("gone.xml".into(), Err(std::io::ErrorKind::NotFound.into())),
        ]);
        assert_eq!(worst.exit_code, 2);
        assert!(
            worst
                .messages
                .iter()
                .any(|m| m.starts_with("truncated.xml:"))
        );
        assert!(
            worst
                .messages
                .iter()
                .any(|m| m.starts_with("gone.xml: cannot read"))
        );
    }
}
