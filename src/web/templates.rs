//! The pages' HTML templates (minijinja, compiled into the binary) and how they are rendered:
//! every value is HTML-escaped unless a template says otherwise (only the charts' SVG, which
//! the service draws itself, is marked safe). TeX in papers' texts is read by two filters:
//! `tex` (HTML with MathML Core formulas, their TeX annotated, everything else escaped: made by
//! `paperbell_chat::tex`, so marked safe) and `plain` (Unicode text, escaped as usual).

use minijinja::{Environment, State, Value};
use paperbell_chat::Lang;
use serde::Serialize;

/// The pages' templates, parsed once.
pub struct Templates {
    env: Environment<'static>,
}

const SOURCES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("home.html", include_str!("templates/home.html")),
    ("topic.html", include_str!("templates/topic.html")),
    ("paper.html", include_str!("templates/paper.html")),
    ("search.html", include_str!("templates/search.html")),
    ("missing.html", include_str!("templates/missing.html")),
    ("entry.html", include_str!("templates/entry.html")),
];

/// A template failed: a bug in a template, reported rather than shown half-made.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct TemplateError {
    name: &'static str,
    source: minijinja::Error,
}

impl Templates {
    pub fn new() -> Templates {
        let mut env = Environment::new();
        // Escaping by the template's name: every template here ends in .html.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (name, source) in SOURCES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
        }
        env.set_formatter(escape_html);
        env.add_function("tr", tr);
        env.add_filter("thousands", thousands);
        env.add_filter("tex", tex);
        env.add_filter("plain", |s: String| paperbell_chat::tex::plain(&s));
        Templates { env }
    }

    /// Renders `name` with `ctx` (which must hold `lang`, the page's language code).
    pub fn render<S: Serialize>(
        &self,
        name: &'static str,
        ctx: S,
    ) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|source| TemplateError { name, source })
    }
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

/// minijinja's escaping without its `/` -> `&#x2f;` (links stay readable): `&`, `<`, `>`, `"`
/// and `'` are escaped in every text a template prints, unless it is marked safe.
fn escape_html(
    out: &mut minijinja::Output,
    state: &State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(s) if !value.is_safe() && state.auto_escape() == minijinja::AutoEscape::Html => {
            let mut from = 0;
            for (i, b) in s.bytes().enumerate() {
                let with = match b {
                    b'&' => "&amp;",
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'"' => "&quot;",
                    b'\'' => "&#39;",
                    _ => continue,
                };
                out.write_str(&s[from..i])?;
                out.write_str(with)?;
                from = i + 1;
            }
            out.write_str(&s[from..])?;
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// `{{ text|tex }}`: TeX read as HTML with MathML, marked safe (`tex::html` escapes the rest).
/// Most texts hold no TeX: they go back as they came, for the formatter to escape as any value.
fn tex(v: Value) -> Value {
    match v.as_str() {
        Some(s) if paperbell_chat::tex::may_hold_tex(s) => {
            Value::from_safe_string(paperbell_chat::tex::html(s))
        }
        _ => v,
    }
}

/// `tr("English", "中文")`: the text in the page's language.
fn tr(state: &State, en: String, zh: String) -> String {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::from_code));
    match lang {
        Some(Lang::Zh) => zh,
        _ => en,
    }
}

/// 12345 -> "12,345".
fn thousands(v: Value) -> String {
    let n = v.to_string();
    let mut out = String::with_capacity(n.len() + n.len() / 3);
    for (i, c) in n.chars().enumerate() {
        if i > 0 && (n.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_texts_follow_the_language() {
        let t = Templates::new();
        let html = t
            .render(
                "missing.html",
                serde_json::json!({
                    "lang": "zh", "what": "<script>alert(1)</script> & co",
                    "nav": {"home": "/", "search": "/search", "lang_en": "/?lang=en", "lang_zh": "/?lang=zh", "lang_param": false},
                    "q": "",
                    "title": "x"
                }),
            )
            .unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("lang=\"zh\""));
        let quoted = t
            .render("entry.html", serde_json::json!({"lang": "en", "p": {
                "tldr": "a \"b\" 'c'", "tldr_kind": "llm", "authors": [], "abs_url": "https://arxiv.org/abs/1",
                "pdf_url": null, "code_urls": [], "project_url": null, "upvotes": null, "abstract_text": "x",
                "html_url": null, "figure": null}}))
            .unwrap();
        assert!(quoted.contains("a &quot;b&quot; &#39;c&#39;"), "{quoted}");
        assert!(
            quoted.contains("href=\"https://arxiv.org/abs/1\""),
            "{quoted}"
        );
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(Value::from(1234567)), "1,234,567");
        assert_eq!(thousands(Value::from(999)), "999");
    }
}
