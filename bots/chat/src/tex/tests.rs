//! The TeX reader on what titles and abstracts hold: examples, fallbacks, hostile input, and
//! properties over generated TeX.

use super::*;

#[test]
fn titles_read_as_math() {
    assert_eq!(
        plain("GSBAK$^K$: $top$-$K$ Geometric Score-based Black-box Attack"),
        "GSBAKᴷ: top-K Geometric Score-based Black-box Attack"
    );
    assert_eq!(
        plain(r"Sampling from $\mathcal{N}(0, \sigma^2)$"),
        "Sampling from 𝒩(0, σ²)"
    );
    assert_eq!(plain(r"Functions on $\mathbb{R}^d$"), "Functions on ℝᵈ");
    assert_eq!(plain(r"$x_i$ and $x^{2}_{j}$"), "xᵢ and xⱼ²");
    assert_eq!(plain(r"$\frac{a}{b}$, $\frac{a+b}{2}$"), "a/b, (a+b)/2");
    assert_eq!(plain(r"$\sqrt{x}$ and $\sqrt[3]{x+1}$"), "√x and ∛(x+1)");
    assert_eq!(plain(r"$O(n \log n)$ time"), "O(n log n) time");
    assert_eq!(plain(r"$\ell_1$-regularised"), "ℓ₁-regularised");
    assert_eq!(plain(r"$10^{-3}$"), "10⁻³");
    assert_eq!(plain(r"$\alpha \leq \beta$"), "α ≤ β");
    assert_eq!(plain(r"$\tilde{O}(\sqrt{T})$ regret"), "Õ(√T) regret");
    assert_eq!(plain(r"$x \neq y$"), "x ≠ y");
    assert_eq!(plain(r"$\sum_{i=1}^n x_i$"), "∑ᵢ₌₁ⁿxᵢ");
}

#[test]
fn scripts_unicode_lacks_keep_a_caret() {
    assert_eq!(plain(r"$x^{Q}$"), "x^Q");
    assert_eq!(plain(r"$x^{q+1}$"), "x^(q+1)");
    assert_eq!(plain(r"$W_{\mathrm{QK}}$"), "W_QK");
    assert_eq!(plain(r"$A^\top$"), "Aᵀ");
    assert_eq!(plain(r"$x^*$"), "x*");
}

#[test]
fn text_commands_and_accents() {
    assert_eq!(plain(r"\textbf{Bold} and \emph{it}"), "Bold and it");
    assert_eq!(
        plain(r#"Schr\"odinger, Erd\H{o}s, \'Etienne, \c{c}a, G\"{o}del"#),
        "Schrödinger, Erdős, Étienne, ça, Gödel"
    );
    assert_eq!(
        plain(r"pages 1--10 --- and 50\% \& more"),
        "pages 1–10 — and 50% & more"
    );
    assert_eq!(plain(r"``quoted''"), "“quoted”");
    assert_eq!(plain(r"{\em emphasised} text"), "emphasised text");
    assert_eq!(plain(r"see~\cite{foo} here"), "see here");
    assert_eq!(plain(r"\alpha-decay with \LaTeX{}"), "α-decay with LaTeX");
    assert_eq!(plain(r"costs \$5"), "costs $5");
    assert_eq!(plain(r"$a\é$ and \(b\é\)"), r"a\é and b\é");
    assert_eq!(
        plain(r"tasks, \ie, \emph{\eg} pooling \etal{}"),
        "tasks, i.e., e.g. pooling et al."
    );
    assert_eq!(plain(r"1\textpertenthousand{} sampling"), "1‱ sampling");
    assert_eq!(plain(r"and so on, \etc."), "and so on, etc.");
}

#[test]
fn pieces_keep_bold_and_italic_for_platforms_that_have_them() {
    let p = pieces(r"A \textbf{bold} and \textit{slanted} $x$");
    assert_eq!(
        p,
        vec![
            Piece::Text("A ".into(), Style::default()),
            Piece::Text(
                "bold".into(),
                Style {
                    bold: true,
                    italic: false
                }
            ),
            Piece::Text(" and ".into(), Style::default()),
            Piece::Text(
                "slanted".into(),
                Style {
                    bold: false,
                    italic: true
                }
            ),
            Piece::Text(" ".into(), Style::default()),
            Piece::Math {
                tex: "x",
                display: false
            },
        ]
    );
}

#[test]
fn what_does_not_parse_shows_its_source_without_dollars() {
    assert_eq!(plain(r"$\foo{x}$ here"), r"\foo{x} here");
    assert_eq!(plain(r"a lone $ sign"), "a lone sign");
    assert_eq!(plain(r"$\unicode{x41}$"), r"\unicode{x41}");
    assert_eq!(plain(r"\href{http://evil/}{click}"), "click");
    assert_eq!(plain(r"unclosed \textbf{bold"), "unclosed bold");
}

#[test]
fn html_gives_mathml_with_the_tex_annotated_and_escapes_everything_else() {
    let h = html(r"Bounds for $\frac{a}{b}<c$ <script>alert(1)</script> & \textbf{more}");
    assert!(h.contains("<math"), "{h}");
    assert!(h.contains("<mfrac>"), "{h}");
    assert!(
        h.contains(r#"<annotation encoding="application/x-tex">\frac{a}{b}&lt;c</annotation>"#),
        "{h}"
    );
    assert!(
        h.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; <b>more</b>"),
        "{h}"
    );
    assert!(!h.contains("<mo><</mo>"), "{h}");
    // Nothing in it opens a tag that is not MathML or b/i.
    for tag in h.split('<').skip(1) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(
            [
                "math",
                "mi",
                "mo",
                "mn",
                "mfrac",
                "mrow",
                "msup",
                "msub",
                "msubsup",
                "msqrt",
                "mroot",
                "mtext",
                "semantics",
                "annotation",
                "b",
                "i",
                "mover",
                "munder",
                "munderover",
                "mspace",
                "mstyle",
                "mpadded",
                "mtable",
                "mtr",
                "mtd",
                ""
            ]
            .contains(&name.as_str()),
            "unexpected tag {name} in {h}"
        );
    }
    assert_eq!(html("plain <b> & text"), "plain &lt;b&gt; &amp; text");
    // A formula that does not parse is its source, escaped.
    assert_eq!(html(r"$\href{x}{<y>}$"), r"\href{x}{&lt;y&gt;}");
}

#[test]
fn hostile_inputs_answer_quickly() {
    let deep = format!("{}a{}", "{".repeat(4000), "}".repeat(4000));
    let title = format!("${deep}$ {}", "x".repeat(10_000 - deep.len() - 3));
    let started = std::time::Instant::now();
    let out = plain(&title);
    assert!(!out.contains('$'));
    let many = r"$\sqrt\sqrt".repeat(2000);
    let _ = plain(&many);
    let _ = html(&many);
    let unclosed = r"\( \cite{ \href{ $".repeat(1000);
    let _ = plain(&unclosed);
    let _ = html(&unclosed);
    // Generous for an unoptimised build on a busy machine: quadratic work would take minutes.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn texish() -> impl Strategy<Value = String> {
        let atoms = prop::sample::select(vec![
            "$",
            "$$",
            "\\",
            "{",
            "}",
            "^",
            "_",
            "\\frac",
            "\\sqrt",
            "\\mathcal",
            "\\mathbb",
            "\\textbf",
            "\\emph",
            "\\alpha",
            "\\(",
            "\\)",
            "\\[",
            "\\]",
            "x",
            "2",
            " ",
            "--",
            "\\\"",
            "o",
            "\\href",
            "\\url",
            "<",
            ">",
            "&",
            "\\unicode",
            "\\left(",
            "\\right)",
            "\\begin{cases}",
            "\\end{cases}",
            "\\\\",
            "é",
            "≤",
            "~",
            "`",
            "'",
            "\\%",
            "a",
            "\\hat",
            "\\not",
            "\\cite",
            "%",
        ]);
        prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn reading_never_leaves_a_dollar_nor_panics(s in texish()) {
            // `\$` is a dollar sign the author wrote as such.
            prop_assume!(!s.contains("\\$"));
            let out = plain(&s);
            prop_assert!(!out.contains('$'), "{s:?} -> {out:?}");
            let h = html(&s);
            prop_assert!(!h.contains('$'), "{s:?} -> {h:?}");
        }

        #[test]
        fn any_text_is_read_without_panic(s in any::<String>()) {
            let _ = plain(&s);
            let _ = html(&s);
        }

        #[test]
        fn html_never_opens_a_script(s in texish()) {
            let h = html(&format!("{s}<script>"));
            prop_assert!(!h.contains("<script"), "{h}");
        }
    }
}
