//! A reader's library to import, pure: a BibTeX file (a Zotero, Mendeley or Google Scholar
//! export, parsed by the `biblatex` crate) or text with one arXiv id or URL per line, read into
//! entries that name an arXiv id (from `eprint`, an arXiv URL or an arXiv DOI in any field) or
//! else a title to look up.

use biblatex::{Bibliography, ChunksExt};

use crate::model::paper::{Paper, PaperId};

/// The largest file an import reads.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// One entry of a library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryEntry {
    /// How the reader knows it: the citation key, or the line.
    pub label: String,
    pub id: Option<PaperId>,
    /// The title, when there is no id to go by.
    pub title: Option<String>,
}

/// Why a file could not be read as a library; nothing is imported from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LibraryError {
    #[error("the file is {0} bytes; an import reads at most 2 MB")]
    TooLarge(usize),
    #[error("the file is not text (UTF-8): a BibTeX export or one arXiv id or URL per line")]
    NotText,
    #[error("the BibTeX does not parse at line {line}: {what}")]
    BibTex { line: usize, what: String },
    #[error(
        "found no BibTeX entry and no arXiv id or URL (send a .bib export, or one id like 2407.11422 per line)"
    )]
    Empty,
}

/// A saved paper as a BibTeX export writes it: the paper when the store has it, else its id.
pub enum Saved<'a> {
    Stored(&'a Paper),
    Id(&'a str),
}

/// A BibTeX file of `papers`, as arXiv's own export writes them (`@misc` with `eprint`,
/// `archivePrefix` and `primaryClass`), so that Zotero and `paperbell import` read them back.
pub fn to_bibtex(papers: &[Saved]) -> String {
    let mut out = String::new();
    let mut keys = std::collections::HashSet::new();
    for saved in papers {
        let (id, paper) = match saved {
            Saved::Stored(p) => (p.id.as_str(), Some(*p)),
            Saved::Id(id) => (*id, None),
        };
        let mut key = format!("arxiv{}", id.replace(['.', '/', '-'], "_"));
        if keys.contains(&key) {
            key.push_str(&format!("_{}", keys.len()));
        }
        keys.insert(key.clone());
        out.push_str(&format!("@misc{{{key},\n"));
        if let Some(p) = paper {
            field(&mut out, "title", &p.title);
            field(&mut out, "author", &p.authors.join(" and "));
            if let Some(year) = p.published.map(|d| d.format("%Y").to_string()) {
                field(&mut out, "year", &year);
            }
        }
        field(&mut out, "eprint", id);
        field(&mut out, "archivePrefix", "arXiv");
        if let Some(c) = paper.and_then(|p| p.primary_category.as_ref()) {
            field(&mut out, "primaryClass", c.as_str());
        }
        if let Some(doi) = paper.and_then(|p| p.doi.as_deref()) {
            field(&mut out, "doi", doi);
        }
        field(&mut out, "url", &format!("https://arxiv.org/abs/{id}"));
        out.push_str("}\n\n");
    }
    out
}

/// `  name = {value},`; a value whose braces do not pair has them escaped, so the file parses.
fn field(out: &mut String, name: &str, value: &str) {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut depth = 0i32;
    let paired = value.chars().all(|c| {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        depth >= 0
    }) && depth == 0;
    let value = if paired {
        value
    } else {
        value.replace('{', "\\{").replace('}', "\\}")
    };
    out.push_str(&format!("  {name} = {{{value}}},\n"));
}

/// Reads `bytes` as a BibTeX file or as lines of arXiv ids and URLs.
pub fn parse_library(bytes: &[u8]) -> Result<Vec<LibraryEntry>, LibraryError> {
    if bytes.len() > MAX_BYTES {
        return Err(LibraryError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| LibraryError::NotText)?;
    let text = text.trim_start_matches('\u{feff}');
    let entries = if looks_like_bibtex(text) {
        bibtex_entries(text)?
    } else {
        line_entries(text)
    };
    if entries.is_empty() || entries.iter().all(|e| e.id.is_none() && e.title.is_none()) {
        return Err(LibraryError::Empty);
    }
    Ok(entries)
}

/// An `@type{` at the start of a line.
fn looks_like_bibtex(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with('@')
            && l[1..].split_once(['{', '(']).is_some_and(|(kind, _)| {
                !kind.is_empty() && kind.trim().chars().all(|c| c.is_ascii_alphabetic())
            })
    })
}

fn bibtex_entries(text: &str) -> Result<Vec<LibraryEntry>, LibraryError> {
    let bib = Bibliography::parse(text).map_err(|e| LibraryError::BibTex {
        line: text[..e.span.start.min(text.len())].lines().count().max(1),
        what: e.kind.to_string(),
    })?;
    Ok(bib
        .iter()
        .map(|entry| {
            let field = |name: &str| entry.get(name).map(|c| c.format_verbatim());
            let id = field("eprint")
                .and_then(|e| PaperId::parse(&e))
                .or_else(|| {
                    entry
                        .fields
                        .values()
                        .find_map(|v| find_arxiv_id(&v.format_verbatim()))
                });
            LibraryEntry {
                label: entry.key.clone(),
                title: if id.is_none() {
                    field("title")
                        .map(|t| t.replace(['{', '}'], ""))
                        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                        .filter(|t| !t.is_empty())
                } else {
                    None
                },
                id,
            }
        })
        .collect())
}

fn line_entries(text: &str) -> Vec<LibraryEntry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| LibraryEntry {
            label: l.to_string(),
            id: PaperId::parse(l).or_else(|| find_arxiv_id(l)),
            title: None,
        })
        .collect()
}

/// An arXiv id inside free text: after `arxiv.org/abs/` or `/pdf/`, `arXiv:`, or the arXiv
/// DOI prefix `10.48550/arXiv.`.
pub fn find_arxiv_id(text: &str) -> Option<PaperId> {
    let lower = text.to_ascii_lowercase();
    for marker in [
        "arxiv.org/abs/",
        "arxiv.org/pdf/",
        "10.48550/arxiv.",
        "arxiv:",
    ] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(marker) {
            let start = from + pos + marker.len();
            let rest = &text[start..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-')))
                .unwrap_or(rest.len());
            let candidate = rest[..end].trim_end_matches(['.', '/']);
            if let Some(id) = PaperId::parse(candidate) {
                return Some(id);
            }
            from = start;
        }
    }
    None
}

/// A title folded for comparison: letters and digits only, lower-cased.
pub fn title_key(title: &str) -> String {
    title
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Option<PaperId> {
        PaperId::parse(s)
    }

    #[test]
    fn an_export_reads_back_as_the_same_papers() {
        let paper = |i: &str, title: &str| Paper {
            id: PaperId::parse(i).unwrap(),
            version: 1,
            title: title.into(),
            authors: vec!["Ada Lovelace".into(), "Jürgen Zweite".into()],
            primary_category: Some(crate::model::paper::Category("cs.CV".into())),
            categories: vec![],
            published: chrono::DateTime::from_timestamp(1_700_000_000, 0),
            updated: None,
            abstract_text: String::new(),
            comment: None,
            doi: None,
            journal_ref: None,
            pdf_url: None,
            announce_type: None,
        };
        let a = paper("2401.00001", "{NeRF}s & 100% of $O(n)$ radiance");
        let b = paper("2401.00002", "An unpaired } brace {");
        let bib = to_bibtex(&[
            Saved::Stored(&a),
            Saved::Stored(&b),
            Saved::Id("hep-th/9901001"),
        ]);
        assert!(bib.contains("  eprint = {2401.00001},\n"), "{bib}");
        assert!(bib.contains("  year = {2023},\n"), "{bib}");
        let back = parse_library(bib.as_bytes()).unwrap();
        let ids: Vec<_> = back.iter().map(|e| e.id.clone()).collect();
        assert_eq!(
            ids,
            [id("2401.00001"), id("2401.00002"), id("hep-th/9901001")]
        );
        assert_eq!(back[0].label, "arxiv2401_00001");
    }

    #[test]
    fn reads_a_zotero_export_by_eprint_url_doi_or_title() {
        let bib = r#"
@article{mildenhall2020nerf,
  title = {{NeRF}: Representing Scenes as Neural Radiance Fields for View Synthesis},
  author = {Mildenhall, Ben and Srinivasan, Pratul P.},
  eprint = {2003.08934},
  archivePrefix = {arXiv},
}
@misc{kerbl2023,
  title = {3D Gaussian Splatting for Real-Time Radiance Field Rendering},
  url = {http://arxiv.org/abs/2308.04079v1},
}
@article{doi2024,
  title = {Something},
  doi = {10.48550/arXiv.2401.01234},
}
@inproceedings{scholar,
  title={Attention is {All} you Need},
  author={Vaswani, Ashish},
  booktitle={NeurIPS},
  year={2017}
}
@article{journal,
  title = {A journal paper},
  journal = {arXiv preprint arXiv:1706.03762},
}
"#;
        let e = parse_library(bib.as_bytes()).unwrap();
        assert_eq!(e.len(), 5);
        assert_eq!(e[0].id, id("2003.08934"));
        assert_eq!(e[1].id, id("2308.04079"));
        assert_eq!(e[2].id, id("2401.01234"));
        assert_eq!(e[3].id, None);
        assert_eq!(e[3].title.as_deref(), Some("Attention is All you Need"));
        assert_eq!(e[3].label, "scholar");
        assert_eq!(e[4].id, id("1706.03762"));
    }

    #[test]
    fn reads_lines_of_ids_and_urls() {
        let text = "# my list\n2407.11422\nhttps://arxiv.org/pdf/2401.00001v2.pdf\n\narXiv:hep-th/9901001\nnot an id\n";
        let e = parse_library(text.as_bytes()).unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].id, id("2407.11422"));
        assert_eq!(e[1].id, id("2401.00001"));
        assert_eq!(e[2].id, id("hep-th/9901001"));
        assert_eq!(e[3].id, None);
    }

    #[test]
    fn broken_files_say_why() {
        assert!(matches!(
            parse_library(b"@article{x, title = {unclosed"),
            Err(LibraryError::BibTex { line: 1, .. })
        ));
        assert_eq!(
            parse_library(&[0xff, 0xfe, 0x00]),
            Err(LibraryError::NotText)
        );
        assert_eq!(parse_library(b"hello\nworld"), Err(LibraryError::Empty));
        assert_eq!(parse_library(b""), Err(LibraryError::Empty));
        let big = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(
            parse_library(&big),
            Err(LibraryError::TooLarge(MAX_BYTES + 1))
        );
        assert_eq!(
            title_key("NeRF: Representing {Scenes}"),
            "nerfrepresentingscenes"
        );
    }
}
