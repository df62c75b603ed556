//! Fuzz target: the arXiv parser must never panic, whatever the bytes, and whatever it
//! accepts must be normalised (no runs of whitespace, valid ids).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = paperbell::sources::parse(data) {
        for p in parsed.papers {
            assert_eq!(p.title, paperbell::model::paper::normalize_ws(&p.title));
            assert_eq!(p.abstract_text, paperbell::model::paper::normalize_ws(&p.abstract_text));
            assert!(paperbell::model::paper::PaperId::parse(p.id.as_str()).is_some());
            assert!(p.version >= 1);
        }
    }
});
