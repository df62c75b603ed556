//! The extractive TL;DR on real-looking abstracts from several fields, and its guarantees on
//! arbitrary text: at most 280 characters, never empty, maths never cut open.

use paperbell::summary::tldr::{MAX_CHARS, tldr};
use proptest::prelude::*;

fn check(title: &str, abs: &str, must_start: &str) -> String {
    let t = tldr(title, abs);
    assert!(t.starts_with(must_start), "got: {t}");
    assert!(
        t.chars().count() <= MAX_CHARS,
        "{} chars: {t}",
        t.chars().count()
    );
    t
}

#[test]
fn computer_vision() {
    let abs = "Neural radiance fields have recently attracted much attention for novel view synthesis. \
However, training remains slow on consumer hardware. We propose SparseNeRF, a voxel-hashed radiance \
field that trains in minutes on a single GPU. On the LLFF benchmark it outperforms prior work by 1.2 dB \
PSNR while being 20x faster. Code is available at https://github.com/x/sparsenerf.";
    let t = check("SparseNeRF", abs, "We propose SparseNeRF");
    assert!(
        t.contains("outperforms prior work by 1.2 dB"),
        "the result is appended when it fits: {t}"
    );
}

#[test]
fn language_models() {
    let abs = "Large language models (LLMs) are increasingly used as agents. Recent work has been \
limited to short horizons. In this work, we introduce a benchmark of 1,200 long-horizon tasks, i.e. \
tasks needing more than 50 tool calls. We find that even the strongest models solve fewer than 30% of them.";
    check(
        "LongBench",
        abs,
        "In this work, we introduce a benchmark of 1,200 long-horizon tasks, i.e. tasks",
    );
}

#[test]
fn mathematics_with_latex() {
    let abs = "Let $G$ be a finite group and $p$ a prime. The study of $p$-local structure has a long \
history. We prove that if $|G| = p^n m$ with $\\gcd(p, m) = 1$, then the number of Sylow subgroups \
satisfies $n_p \\equiv 1 \\pmod{p^2}$ under the stated hypotheses. As a corollary we obtain a new bound on $|\\mathrm{Out}(G)|$.";
    let t = check("Sylow", abs, "We prove that if $|G| = p^n m$");
    assert_eq!(t.matches('$').count() % 2, 0, "maths never cut open: {t}");
}

#[test]
fn physics() {
    let abs = "The muon anomalous magnetic moment is a precision test of the Standard Model. We report \
a new lattice QCD calculation of the hadronic vacuum polarization contribution, $a_\\mu^{\\rm HVP} = \
(707.5 \\pm 5.5) \\times 10^{-10}$. Our result reduces the tension with experiment to 0.9 standard deviations.";
    check("HVP", abs, "We report a new lattice QCD calculation");
}

#[test]
fn biology() {
    let abs = "Protein folding is a fundamental problem in biology. Here we present FoldFlow, a \
flow-matching generative model for protein backbones. FoldFlow designs novel, designable backbones \
with 92% success in silico, which significantly improves over diffusion baselines.";
    check("FoldFlow", abs, "Here we present FoldFlow");
}

#[test]
fn economics_without_cue_phrases_still_gets_a_sentence() {
    let abs = "Minimum wage increases affect employment heterogeneously across regions. Using county-level \
data from 1990 to 2019, employment effects are close to zero in high-wage areas and negative in \
low-wage areas.";
    let t = tldr("Minimum wages", abs);
    assert!(!t.is_empty() && t.chars().count() <= MAX_CHARS);
}

#[test]
fn empty_abstract_falls_back_to_the_title() {
    assert_eq!(tldr("A Title", ""), "A Title");
    assert_eq!(tldr("A Title", "   "), "A Title");
}

/// `$` signs that open or close maths (`\$` is a literal dollar).
fn unescaped_dollars(s: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in s.chars() {
        if c == '$' && !escaped {
            n += 1;
        }
        escaped = c == '\\' && !escaped;
    }
    n
}

proptest! {
    #[test]
    fn bounded_nonempty_and_maths_balanced(
        title in "[A-Za-z ]{1,40}",
        abs in "([A-Za-z ,]{0,60}(\\$[a-z^_{}\\\\ ]{0,19}[a-z]\\$)?[.!?] ){0,12}",
    ) {
        let t = tldr(&title, &abs);
        prop_assert!(t.chars().count() <= MAX_CHARS);
        prop_assert!(!t.trim().is_empty() || title.trim().is_empty());
        prop_assert_eq!(unescaped_dollars(&t) % 2, 0, "{}", t);
    }
}
