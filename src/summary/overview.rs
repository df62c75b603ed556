//! The overview line of a topic's digest, pure: how many papers, cross-lists and papers with
//! code, and the day's distinctive keywords (TF-IDF of the day's papers against the topic's
//! recent papers).

// Fx hashing for the term tables: planning counts every term of thousands of abstracts for a
// day's overview lines, and SipHash was a large part of that. Results do not depend on the
// tables' order (terms are ranked by score, then by text).
use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use paperbell_chat::{Lang, t};

/// Words that say nothing about a topic: English function words and the filler of abstracts.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "across",
    "after",
    "again",
    "against",
    "all",
    "allow",
    "allows",
    "along",
    "also",
    "although",
    "among",
    "an",
    "and",
    "another",
    "any",
    "approach",
    "approaches",
    "are",
    "as",
    "at",
    "based",
    "be",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "cannot",
    "challenge",
    "challenges",
    "challenging",
    "code",
    "compared",
    "could",
    "current",
    "data",
    "demonstrate",
    "demonstrates",
    "design",
    "despite",
    "different",
    "do",
    "does",
    "due",
    "during",
    "each",
    "effective",
    "either",
    "enable",
    "enables",
    "even",
    "existing",
    "experiments",
    "extensive",
    "few",
    "first",
    "for",
    "framework",
    "from",
    "further",
    "github",
    "given",
    "has",
    "have",
    "here",
    "high",
    "how",
    "however",
    "https",
    "http",
    "i",
    "if",
    "improve",
    "improved",
    "improves",
    "in",
    "including",
    "into",
    "introduce",
    "is",
    "it",
    "its",
    "key",
    "known",
    "large",
    "less",
    "like",
    "low",
    "made",
    "make",
    "makes",
    "many",
    "may",
    "method",
    "methods",
    "more",
    "most",
    "much",
    "must",
    "new",
    "no",
    "not",
    "novel",
    "of",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "paper",
    "performance",
    "present",
    "problem",
    "problems",
    "propose",
    "proposed",
    "provide",
    "provides",
    "recent",
    "recently",
    "remains",
    "result",
    "results",
    "several",
    "show",
    "shows",
    "significant",
    "significantly",
    "so",
    "some",
    "state",
    "study",
    "such",
    "superior",
    "task",
    "tasks",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "though",
    "three",
    "through",
    "thus",
    "to",
    "towards",
    "two",
    "under",
    "up",
    "upon",
    "use",
    "used",
    "uses",
    "using",
    "various",
    "very",
    "via",
    "was",
    "we",
    "well",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "work",
    "works",
    "would",
    "yet",
    "art",
    "available",
    "achieve",
    "achieves",
    "achieving",
    "address",
    "outperforms",
    "prior",
    "previous",
    "art",
    "benchmark",
    "benchmarks",
    // Seen as keywords on real days (2026-06): words of every abstract, and URL parts.
    "often",
    "beyond",
    "typically",
    "widely",
    "com",
    "www",
    "org",
    "io",
    "able",
    "etc",
    "et",
    "al",
    "e",
    "g",
    "ie",
];

/// `STOPWORDS` as a set: a word is looked up for every word of every abstract.
fn stopwords() -> &'static FxHashSet<&'static str> {
    static SET: std::sync::OnceLock<FxHashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOPWORDS.iter().copied().collect())
}

/// One paper of the day, as the overview needs it.
#[derive(Debug, Clone, Copy)]
pub struct DayPaper<'a> {
    pub title: &'a str,
    pub abstract_text: &'a str,
    pub cross: bool,
    pub has_code: bool,
}

/// Lower-case words of at least three letters outside `$...$` maths, with each word's place
/// after a stopword or break marked, so bigrams never span one.
fn words(text: &str) -> Vec<Option<String>> {
    // A link's parts (the host, the path) say where the code is, not what the paper is about.
    let without_links;
    let text = if text.contains("://") || text.contains("www.") {
        without_links = text
            .split_whitespace()
            .map(|w| {
                if w.contains("://") || w.starts_with("www.") {
                    "."
                } else {
                    w
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        without_links.as_str()
    } else {
        text
    };
    let mut out = Vec::new();
    let mut in_math = false;
    // Inside a TeX command's name (`\textbf`, `\emph`): not a word of the text.
    let mut in_command = false;
    let mut word = String::new();
    // The buffer is reused: only kept words are allocated (planning tokenises thousands of
    // abstracts for a day's overview lines).
    let flush = |word: &mut String, out: &mut Vec<Option<String>>| {
        if word.is_empty() {
            return;
        }
        let w = word.trim_matches('-');
        let keep = w.chars().count() >= 3
            && w.chars().any(|c| c.is_alphabetic())
            && !stopwords().contains(w);
        out.push(keep.then(|| w.to_string()));
        word.clear();
    };
    for c in text.chars() {
        if c == '$' {
            flush(&mut word, &mut out);
            out.push(None);
            in_math = !in_math;
            continue;
        }
        if in_math {
            continue;
        }
        if c == '\\' {
            flush(&mut word, &mut out);
            in_command = true;
            continue;
        }
        if in_command {
            if c.is_ascii_alphabetic() {
                continue;
            }
            in_command = false;
        }
        if c.is_alphanumeric() || c == '-' {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word, &mut out);
            if !c.is_whitespace() {
                out.push(None);
            }
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The distinct terms of a document: its words and its two-word phrases.
fn terms(text: &str) -> FxHashSet<String> {
    let w = words(text);
    let mut out = FxHashSet::default();
    out.reserve(w.len() * 2);
    for (i, x) in w.iter().enumerate() {
        let Some(x) = x else { continue };
        if let Some(Some(y)) = w.get(i + 1) {
            let mut phrase = String::with_capacity(x.len() + 1 + y.len());
            phrase.push_str(x);
            phrase.push(' ');
            phrase.push_str(y);
            out.insert(phrase);
        }
        out.insert(x.clone());
    }
    out
}

/// The terms of a list of papers, each distinct term kept once. Worked out once per list: a
/// topic's papers appear in many overview lines (one per set of them a chat is shown), and
/// tokenising them is most of a line's cost.
#[derive(Debug, Clone, Default)]
pub struct TermTable {
    terms: Vec<String>,
    /// Each document's distinct terms, as indexes into `terms`.
    docs: Vec<Vec<u32>>,
}

impl TermTable {
    pub fn new(papers: &[DayPaper]) -> TermTable {
        TermTable::of_texts(papers.iter().map(day_text))
    }

    /// Documents in the table.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    fn of_texts(texts: impl Iterator<Item = String>) -> TermTable {
        let mut ids: HashMap<String, u32> = HashMap::default();
        let docs = texts
            .map(|text| {
                terms(&text)
                    .into_iter()
                    .map(|term| {
                        let next = ids.len() as u32;
                        *ids.entry(term).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        let mut terms = vec![String::new(); ids.len()];
        for (term, i) in ids {
            terms[i as usize] = term;
        }
        TermTable { terms, docs }
    }
}

/// What a paper's terms are taken from.
fn day_text(p: &DayPaper) -> String {
    paper_text(p.title, p.abstract_text)
}

/// A paper's title and abstract as one text. Its TeX is left to `words`, which reads no formula
/// (`$...$`) and no command name (`\textbf`) as a word: a keyword is never TeX, and a day's
/// overview does not pay for reading every abstract's TeX.
pub fn paper_text(title: &str, abstract_text: &str) -> String {
    format!("{title}. {abstract_text}")
}

/// What keywords are weighed against: the document frequency of every term in a topic's recent
/// papers, worked out once per topic rather than by tokenising its 300 abstracts again for
/// every overview line.
#[derive(Debug, Default)]
pub struct Background {
    docs: usize,
    df: HashMap<String, u32>,
}

impl crate::model::weigh::Weigh for Background {
    fn weigh(&self) -> usize {
        // A table entry: the term's `String`, its count, its bytes (and a control byte).
        let entry = size_of::<(String, u32)>() + 1;
        size_of::<Background>() + self.df.keys().map(|t| t.capacity() + entry).sum::<usize>()
    }
}

impl Background {
    pub fn new(docs: &[String]) -> Background {
        let mut df: HashMap<String, u32> = HashMap::default();
        for d in docs {
            for term in terms(d) {
                *df.entry(term).or_default() += 1;
            }
        }
        Background {
            docs: docs.len(),
            df,
        }
    }
}

/// The `n` terms most particular to `day` against `background` (the topic's recent papers):
/// document frequency in the day times inverse document frequency in the background, phrases
/// preferred to their words, a term in a single paper only when the day has fewer than four.
pub fn keywords(day: &[String], background: &Background, n: usize) -> Vec<String> {
    let table = TermTable::of_texts(day.iter().cloned());
    keywords_in(&table, &(0..day.len()).collect::<Vec<_>>(), background, n)
}

/// `keywords` of the documents `day` (indexes) of `table`.
pub fn keywords_in(
    table: &TermTable,
    day: &[usize],
    background: &Background,
    n: usize,
) -> Vec<String> {
    if day.len() < MIN_KEYWORD_PAPERS || n == 0 {
        return Vec::new();
    }
    let mut df_day: HashMap<u32, usize> = HashMap::default();
    for d in day {
        for term in &table.docs[*d] {
            *df_day.entry(*term).or_default() += 1;
        }
    }
    let min_df = if day.len() >= 4 { 2 } else { 1 };
    let nb = background.docs as f64;
    let mut scored: Vec<(f64, &str)> = df_day
        .iter()
        .filter(|(_, df)| **df >= min_df)
        .map(|(&term, df)| {
            let term = table.terms[term as usize].as_str();
            let idf =
                ((nb + 1.0) / (*background.df.get(term).unwrap_or(&0) as f64 + 1.0)).ln() + 1.0;
            // Phrases are more telling than either of their words.
            let phrase = if term.contains(' ') { 1.5 } else { 1.0 };
            (*df as f64 / day.len() as f64 * idf * phrase, term)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<(f64, &str)> = Vec::new();
    let mut first_left_out = None;
    for (score, term) in scored {
        // A word already inside a chosen phrase, or a phrase around a chosen word, says the
        // same again.
        let overlaps = out
            .iter()
            .any(|(_, o)| o.split(' ').any(|w| w == term) || term.split(' ').any(|w| w == *o));
        if overlaps {
            continue;
        }
        if out.len() == n {
            first_left_out = Some(score);
            break;
        }
        out.push((score, term));
    }
    // Terms that score the same as one left out were chosen by the alphabet, not by weight:
    // the day's text cannot tell them apart, so none of them is shown.
    if let Some(cut) = first_left_out {
        out.retain(|(score, _)| *score > cut);
    }
    out.into_iter().map(|(_, term)| term.to_string()).collect()
}

/// Papers a day needs before its overview names keywords: the terms of one or two abstracts
/// all weigh the same, and listing them shows noise ("acquisition variability, additive
/// noise, ..."), where the titles right below say more.
const MIN_KEYWORD_PAPERS: usize = 3;

/// The overview line: "12 papers · 3 cross-lists · 5 with code · keywords: a, b, c".
pub fn line(papers: &[DayPaper], background: &Background, lang: Lang) -> String {
    let table = TermTable::new(papers);
    let docs: Vec<usize> = (0..papers.len()).collect();
    line_in(papers, &table, &docs, background, lang)
}

/// Keywords an overview line names.
pub const LINE_KEYWORDS: usize = 5;

/// `line` with the papers' terms in `table` already: `docs[i]` is `papers[i]`'s document.
pub fn line_in(
    papers: &[DayPaper],
    table: &TermTable,
    docs: &[usize],
    background: &Background,
    lang: Lang,
) -> String {
    line_with(
        papers,
        &keywords_in(table, docs, background, LINE_KEYWORDS),
        lang,
    )
}

/// `line` with its keywords worked out already (a topic day's, kept by the store).
pub fn line_with(papers: &[DayPaper], keywords: &[String], lang: Lang) -> String {
    let cross = papers.iter().filter(|p| p.cross).count();
    let code = papers.iter().filter(|p| p.has_code).count();
    let mut parts = vec![match lang {
        Lang::En if papers.len() == 1 => "1 paper".to_string(),
        Lang::En => format!("{} papers", papers.len()),
        Lang::Zh => format!("{} 篇论文", papers.len()),
    }];
    if cross > 0 {
        parts.push(match lang {
            Lang::En if cross == 1 => "1 cross-list".to_string(),
            Lang::En => format!("{cross} cross-lists"),
            Lang::Zh => format!("{cross} 篇交叉列出"),
        });
    }
    parts.push(match lang {
        Lang::En => format!("{code} with code"),
        Lang::Zh => format!("{code} 篇有代码"),
    });
    if !keywords.is_empty() {
        parts.push(format!(
            "{} {}",
            t(lang, "keywords:", "关键词："),
            keywords.join(", ")
        ));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_prefer_what_sets_the_day_apart() {
        let day = vec![
            "Dynamic Gaussian splatting for avatars. We propose dynamic Gaussian splatting.".into(),
            "Relightable Gaussian splatting of heads.".into(),
            "Gaussian splatting meets SLAM for robots.".into(),
            "Neural radiance fields for cities.".into(),
        ];
        let background: Vec<String> = (0..50)
            .map(|i| format!("Neural radiance fields variant {i} for view synthesis."))
            .collect();
        let k = keywords(&day, &Background::new(&background), 3);
        assert_eq!(k[0], "gaussian splatting", "{k:?}");
        assert!(!k.contains(&"gaussian".to_string()), "{k:?}");
        assert!(!k.iter().any(|w| w.contains("radiance")), "{k:?}");
    }

    #[test]
    fn a_day_too_small_to_weigh_names_no_keywords() {
        // One or two abstracts: every term weighs the same.
        let one = vec![
            "Acquisition variability and additive noise in aggregate approximation of Allen interval algebra.".to_string(),
        ];
        assert_eq!(
            keywords(&one, &Background::default(), 5),
            Vec::<String>::new()
        );
        let two = vec![
            one[0].clone(),
            "Temporal reasoning with Allen intervals.".to_string(),
        ];
        assert_eq!(
            keywords(&two, &Background::default(), 5),
            Vec::<String>::new()
        );
        // Three papers whose terms all tie (each in one paper): the alphabet would choose, so
        // they are not named; a term the day shares stays.
        let three = vec![
            "Sparse attention for video.".to_string(),
            "Sparse attention for speech.".to_string(),
            "Quantised kernels for graphs.".to_string(),
        ];
        let k = keywords(&three, &Background::default(), 2);
        assert_eq!(
            k.first().map(String::as_str),
            Some("sparse attention"),
            "{k:?}"
        );
        assert!(!k.iter().any(|w| w == "video" || w == "speech"), "{k:?}");
        let unrelated = vec![
            "Protein folding kinetics.".to_string(),
            "Galaxy cluster lensing.".to_string(),
            "Quantised kernels for graphs.".to_string(),
        ];
        // Five phrases tie for three places.
        assert_eq!(
            keywords(&unrelated, &Background::default(), 3),
            Vec::<String>::new()
        );
    }

    #[test]
    fn links_are_not_keywords() {
        let day: Vec<String> = (0..4)
            .map(|i| {
                format!(
                    "Sparse voxel fields {i}. Code: https://github.com/lab/sparse-voxel-fields and www.lab-site.org/page"
                )
            })
            .collect();
        // Room for every term: none is left out by a tie.
        let k = keywords(&day, &Background::default(), 20);
        assert!(k.contains(&"sparse voxel".to_string()), "{k:?}");
        assert!(
            k.iter().all(|w| !["lab", "site", "page", "org", "com"]
                .iter()
                .any(|p| w.contains(p))),
            "{k:?}"
        );
    }

    #[test]
    fn maths_and_stopwords_are_not_keywords() {
        let day = vec!["We show that $\\mathbb{R}^n$ is the result of the method.".to_string(); 3];
        let k = keywords(&day, &Background::default(), 5);
        assert!(
            k.iter().all(|w| !w.contains("mathbb") && w != "the"),
            "{k:?}"
        );
    }

    #[test]
    fn a_days_line_reads_its_papers_tex_as_readers_do() {
        let p = |title| DayPaper {
            title,
            abstract_text: r"Samples from $\mathcal{N}(0, 1)$ with \textbf{calibrated} $\mathcal{L}_2$ losses.",
            cross: false,
            has_code: false,
        };
        let day = [
            p(r"$\mathcal{H}$-calibration"),
            p("Calibrated samplers"),
            p("More calibration"),
        ];
        let l = line(&day, &Background::default(), Lang::En);
        assert!(l.contains("keywords: "), "{l}");
        for tex in ["mathcal", "textbf", "mathbb"] {
            assert!(!l.contains(tex), "{l}");
        }
    }

    #[test]
    fn a_line_from_a_lists_term_table_is_the_line_of_its_papers() {
        let p = |title, abstract_text, cross| DayPaper {
            title,
            abstract_text,
            cross,
            has_code: false,
        };
        let list = [
            p(
                "Gaussian splatting",
                "Dynamic Gaussian splatting for avatars.",
                false,
            ),
            p(
                "Radiance fields",
                "Neural radiance fields for cities.",
                true,
            ),
            p(
                "Splatting SLAM",
                "Gaussian splatting meets SLAM for robots.",
                false,
            ),
            p(
                "Relighting",
                "Relightable Gaussian splatting of heads.",
                true,
            ),
        ];
        let background = Background::new(&["Neural radiance fields in general.".to_string()]);
        let table = TermTable::new(&list);
        for about in [vec![0, 2, 3], vec![1], vec![0, 1, 2, 3]] {
            let papers: Vec<DayPaper> = about.iter().map(|i| list[*i]).collect();
            assert_eq!(
                line_in(&papers, &table, &about, &background, Lang::En),
                line(&papers, &background, Lang::En),
                "{about:?}"
            );
        }
    }

    #[test]
    fn line_counts_papers_cross_lists_and_code() {
        let p = |cross, has_code| DayPaper {
            title: "Sparse attention",
            abstract_text: "Sparse attention kernels.",
            cross,
            has_code,
        };
        let l = line(
            &[p(true, true), p(false, true), p(false, false)],
            &Background::default(),
            Lang::En,
        );
        assert!(
            l.starts_with("3 papers · 1 cross-list · 2 with code · keywords: ")
                && l.contains("sparse attention"),
            "{l}"
        );
        let l = line(&[p(false, false)], &Background::default(), Lang::Zh);
        assert_eq!(l, "1 篇论文 · 0 篇有代码", "one paper: counts, no keywords");
    }
}
