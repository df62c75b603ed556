//! Digests and papers as the terminal and files show them, pure: plain text (TeX read as
//! Unicode), the Markdown page, and the JSON objects the command line prints (TeX kept as
//! arXiv has it: scripts depend on it); the chat renderings live in the adapters.

use chrono::NaiveDate;
use serde_json::{Value, json};

use paperbell_chat::tex::plain;
use paperbell_chat::{Lang, PaperItem, Relevance, TldrSource};

use crate::model::paper::{Paper, StoredPaper};
use crate::summary::code_links;
use crate::summary::tldr::tldr;

/// One topic's papers for one announcement day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDigest {
    pub topic_id: String,
    pub topic_name: String,
    pub day: NaiveDate,
    pub papers: Vec<StoredPaper>,
    /// Each paper's relevance to the reader (`papers[i]`'s), when the reader has a taste model;
    /// empty otherwise.
    pub relevance: Vec<Relevance>,
}

/// Code links of a paper (abstract and comment).
pub fn links(p: &Paper) -> code_links::Links {
    let mut texts = vec![p.abstract_text.as_str()];
    if let Some(c) = &p.comment {
        texts.push(c);
    }
    code_links::find(&texts)
}

fn authors_short(p: &Paper) -> String {
    match p.authors.len() {
        0 => "(no authors listed)".into(),
        1..=3 => p.authors.join(", "),
        _ => format!("{} et al.", p.authors[..3].join(", ")),
    }
}

/// A digest as plain text, for the terminal (`paperbell run` with no chat platform).
pub fn render_text(d: &TopicDigest) -> String {
    let mut out = format!(
        "== {} — {} — {} paper(s) ==\n",
        d.topic_name,
        d.day,
        d.papers.len()
    );
    for (i, sp) in d.papers.iter().enumerate() {
        let p = &sp.paper;
        out.push_str(&format!(
            "* {} ({}v{})\n  {}\n",
            plain(&p.title),
            p.id,
            p.version,
            authors_short(p),
        ));
        if let Some(r) = d.relevance.get(i) {
            out.push_str(&format!("  {}\n", r.line(Lang::En)));
        }
        out.push_str(&format!(
            "  TL;DR: {}\n  {}\n",
            plain(&tldr(&p.title, &p.abstract_text)),
            p.id.abs_url()
        ));
        let l = links(p);
        if let Some(code) = l.code.first() {
            out.push_str(&format!("  code: {code}\n"));
        }
    }
    out
}

/// A list of papers as plain text lines, for `paperbell recent`.
pub fn render_list(papers: &[StoredPaper]) -> String {
    let mut out = String::new();
    for sp in papers {
        let p = &sp.paper;
        let day = sp
            .first_announced
            .map(|d| d.to_string())
            .unwrap_or_else(|| "----------".into());
        out.push_str(&format!(
            "{day}  {:<18} {}\n            {}\n",
            format!("{}v{}", p.id, p.version),
            plain(&p.title),
            authors_short(p)
        ));
    }
    out
}

/// A paper in detail, for `paperbell paper`: `view` is how chats show it (summary, links).
pub fn render_paper(sp: &StoredPaper, view: &PaperItem) -> String {
    let p = &sp.paper;
    let mut out = format!("{}\n", plain(&p.title));
    if let Some(t) = &view.title_translated {
        out.push_str(&format!("{}\n", plain(t)));
    }
    out.push_str(&format!("{}\n\n", p.authors.join(", ")));
    out.push_str(&format!("arXiv:      {}v{}\n", p.id, p.version));
    if let Some(d) = sp.first_announced {
        out.push_str(&format!("announced:  {d}\n"));
    }
    let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
    out.push_str(&format!("categories: {}\n", cats.join(" ")));
    out.push_str(&format!("abstract:   {}\n", p.id.abs_url()));
    if let Some(pdf) = &p.pdf_url {
        out.push_str(&format!("pdf:        {pdf}\n"));
    }
    if let Some(html) = &view.html_url {
        out.push_str(&format!("html:       {html}\n"));
    }
    if let Some(f) = &view.figure {
        out.push_str(&format!("figure:     {}\n", f.url));
        if !f.caption.is_empty() {
            out.push_str(&format!("            {}\n", f.caption));
        }
    }
    for c in &view.code_urls {
        out.push_str(&format!("code:       {c}\n"));
    }
    if let Some(u) = &view.project_url {
        out.push_str(&format!("project:    {u}\n"));
    }
    for (label, v) in [
        ("comment", &p.comment),
        ("journal", &p.journal_ref),
        ("doi", &p.doi),
    ] {
        if let Some(v) = v {
            let v = if label == "comment" {
                plain(v)
            } else {
                v.clone()
            };
            out.push_str(&format!("{label:<11} {v}\n", label = format!("{label}:")));
        }
    }
    if let Some(n) = view.upvotes {
        out.push_str(&format!("upvotes:    {n} (Hugging Face)\n"));
    }
    let source = match view.tldr_source {
        TldrSource::Extractive => "extractive",
        TldrSource::Llm => "LLM",
    };
    out.push_str(&format!(
        "tl;dr:      {} ({source})\n",
        plain(view.tldr.as_deref().unwrap_or(""))
    ));
    if let Some(t) = &view.tldr_translated {
        out.push_str(&format!("            {}\n", plain(t)));
    }
    for k in &view.takeaways {
        out.push_str(&format!("  • {}\n", plain(k)));
    }
    out.push_str(&format!("\n{}\n", plain(&p.abstract_text)));
    out
}

fn ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    })
}

/// The JSON object `paperbell parse` prints: exactly these keys, `null` for missing values.
pub fn paper_json(p: &Paper) -> Value {
    json!({
        "id": p.id.as_str(),
        "version": p.version,
        "title": p.title,
        "authors": p.authors,
        "primary_category": p.primary_category.as_ref().map(|c| c.as_str()),
        "categories": p.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "published": ts(p.published),
        "updated": ts(p.updated),
        "abstract": p.abstract_text,
        "comment": p.comment,
        "doi": p.doi,
        "journal_ref": p.journal_ref,
        "pdf_url": p.pdf_url,
        "announce_type": p.announce_type.map(|a| a.as_str()),
    })
}

/// A stored paper: the parse object plus what the store knows, and its summary as chats see
/// it (`view`): `tldr`, `tldr_source`, `code_urls`, and when there are some, `takeaways`,
/// `title_translated`, `tldr_translated`.
pub fn stored_json(sp: &StoredPaper, view: &PaperItem) -> Value {
    let mut v = paper_json(&sp.paper);
    if let Value::Object(m) = &mut v {
        m.insert(
            "first_announced".into(),
            sp.first_announced
                .map_or(Value::Null, |d| Value::String(d.to_string())),
        );
        m.insert(
            "topics".into(),
            json!(
                sp.topics
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
            ),
        );
        m.insert("tldr".into(), json!(view.tldr));
        m.insert("tldr_source".into(), json!(view.tldr_source.as_str()));
        m.insert("code_urls".into(), json!(view.code_urls));
        m.insert(
            "project_pages".into(),
            json!(view.project_url.iter().collect::<Vec<_>>()),
        );
        if !view.takeaways.is_empty() {
            m.insert("takeaways".into(), json!(view.takeaways));
        }
        if let Some(t) = &view.title_translated {
            m.insert("title_translated".into(), json!(t));
        }
        if let Some(t) = &view.tldr_translated {
            m.insert("tldr_translated".into(), json!(t));
        }
        if let Some(n) = view.upvotes {
            m.insert("hf_upvotes".into(), json!(n));
        }
        m.insert(
            "figure".into(),
            view.figure
                .as_ref()
                .map_or(Value::Null, |f| json!({"url": f.url, "caption": f.caption})),
        );
    }
    v
}

fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn anchor(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() {
                Some(c)
            } else if c == ' ' || c == '-' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The familiar daily page: "Updated on" line, table of contents, and one table per topic.
pub fn render_markdown(updated: NaiveDate, sections: &[(String, Vec<StoredPaper>)]) -> String {
    let mut out = format!("## Updated on {}\n\n", updated.format("%Y.%m.%d"));
    out.push_str("<details>\n  <summary>Table of Contents</summary>\n  <ol>\n");
    for (name, _) in sections {
        out.push_str(&format!(
            "    <li><a href=\"#{}\">{}</a></li>\n",
            anchor(name),
            md_cell(name)
        ));
    }
    out.push_str("  </ol>\n</details>\n\n");
    for (name, papers) in sections {
        out.push_str(&format!(
            "## {name}\n\n|Publish Date|Title|Code|Abstract|\n|---|---|---|---|\n"
        ));
        for sp in papers {
            let p = &sp.paper;
            let date = sp
                .first_announced
                .map(|d| d.to_string())
                .unwrap_or_default();
            let l = links(p);
            let code = l
                .code
                .first()
                .or(l.pages.first())
                .map_or("null".to_string(), |u| format!("[link]({u})"));
            out.push_str(&format!(
                "|**{date}**|[{}]({})|{code}|{}|\n",
                md_cell(&p.title),
                p.id.abs_url(),
                md_cell(&p.abstract_text)
            ));
        }
        out.push('\n');
    }
    out
}
