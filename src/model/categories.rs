//! The arXiv category taxonomy (https://arxiv.org/category_taxonomy), so that any category works
//! as a topic, typos in config are caught, and chats get "did you mean" answers.

/// Every category arXiv announces under, in its canonical spelling.
pub const CATEGORIES: &[&str] = &[
    "astro-ph",
    "astro-ph.CO",
    "astro-ph.EP",
    "astro-ph.GA",
    "astro-ph.HE",
    "astro-ph.IM",
    "astro-ph.SR",
    "cond-mat",
    "cond-mat.dis-nn",
    "cond-mat.mes-hall",
    "cond-mat.mtrl-sci",
    "cond-mat.other",
    "cond-mat.quant-gas",
    "cond-mat.soft",
    "cond-mat.stat-mech",
    "cond-mat.str-el",
    "cond-mat.supr-con",
    "cs.AI",
    "cs.AR",
    "cs.CC",
    "cs.CE",
    "cs.CG",
    "cs.CL",
    "cs.CR",
    "cs.CV",
    "cs.CY",
    "cs.DB",
    "cs.DC",
    "cs.DL",
    "cs.DM",
    "cs.DS",
    "cs.ET",
    "cs.FL",
    "cs.GL",
    "cs.GR",
    "cs.GT",
    "cs.HC",
    "cs.IR",
    "cs.IT",
    "cs.LG",
    "cs.LO",
    "cs.MA",
    "cs.MM",
    "cs.MS",
    "cs.NA",
    "cs.NE",
    "cs.NI",
    "cs.OH",
    "cs.OS",
    "cs.PF",
    "cs.PL",
    "cs.RO",
    "cs.SC",
    "cs.SD",
    "cs.SE",
    "cs.SI",
    "cs.SY",
    "econ.EM",
    "econ.GN",
    "econ.TH",
    "eess.AS",
    "eess.IV",
    "eess.SP",
    "eess.SY",
    "gr-qc",
    "hep-ex",
    "hep-lat",
    "hep-ph",
    "hep-th",
    "math.AC",
    "math.AG",
    "math.AP",
    "math.AT",
    "math.CA",
    "math.CO",
    "math.CT",
    "math.CV",
    "math.DG",
    "math.DS",
    "math.FA",
    "math.GM",
    "math.GN",
    "math.GR",
    "math.GT",
    "math.HO",
    "math.IT",
    "math.KT",
    "math.LO",
    "math.MG",
    "math.MP",
    "math.NA",
    "math.NT",
    "math.OA",
    "math.OC",
    "math.PR",
    "math.QA",
    "math.RA",
    "math.RT",
    "math.SG",
    "math.SP",
    "math.ST",
    "math-ph",
    "nlin.AO",
    "nlin.CD",
    "nlin.CG",
    "nlin.PS",
    "nlin.SI",
    "nucl-ex",
    "nucl-th",
    "physics.acc-ph",
    "physics.ao-ph",
    "physics.app-ph",
    "physics.atm-clus",
    "physics.atom-ph",
    "physics.bio-ph",
    "physics.chem-ph",
    "physics.class-ph",
    "physics.comp-ph",
    "physics.data-an",
    "physics.ed-ph",
    "physics.flu-dyn",
    "physics.gen-ph",
    "physics.geo-ph",
    "physics.hist-ph",
    "physics.ins-det",
    "physics.med-ph",
    "physics.optics",
    "physics.plasm-ph",
    "physics.pop-ph",
    "physics.soc-ph",
    "physics.space-ph",
    "q-bio.BM",
    "q-bio.CB",
    "q-bio.GN",
    "q-bio.MN",
    "q-bio.NC",
    "q-bio.OT",
    "q-bio.PE",
    "q-bio.QM",
    "q-bio.SC",
    "q-bio.TO",
    "q-fin.CP",
    "q-fin.EC",
    "q-fin.GN",
    "q-fin.MF",
    "q-fin.PM",
    "q-fin.PR",
    "q-fin.RM",
    "q-fin.ST",
    "q-fin.TR",
    "quant-ph",
    "stat.AP",
    "stat.CO",
    "stat.ME",
    "stat.ML",
    "stat.OT",
    "stat.TH",
];

/// The canonical spelling of a category typed in any case (`CS.cv` -> `cs.CV`).
pub fn canonical(s: &str) -> Option<&'static str> {
    let s = s.trim();
    CATEGORIES
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(s))
}

/// A name that is not an arXiv category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not an arXiv category")]
pub struct UnknownCategory(pub String);

/// A set of known categories (`/settings cats cs.CV cs.RO`), a bit per entry of `CATEGORIES`:
/// small and `Copy`, like the other settings it sits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CategorySet([u64; 3]);

impl CategorySet {
    /// The set of `names` (any case, separated by spaces or commas); `Err` with the first name
    /// that is not a category.
    pub fn parse(names: &str) -> Result<CategorySet, UnknownCategory> {
        let mut set = CategorySet::default();
        for name in names
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|n| !n.is_empty())
        {
            let i = CATEGORIES
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
                .ok_or_else(|| UnknownCategory(name.to_string()))?;
            set.0[i / 64] |= 1 << (i % 64);
        }
        Ok(set)
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// Its categories in `CATEGORIES`' order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        CATEGORIES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0[i / 64] & (1 << (i % 64)) != 0)
            .map(|(_, c)| *c)
    }

    /// The categories, space-separated, as `/settings` shows them and the store keeps them.
    pub fn text(&self) -> String {
        self.names().collect::<Vec<_>>().join(" ")
    }
}

/// The busiest categories, to break ties between equally close suggestions.
const BUSIEST: &[&str] = &[
    "cs.CV", "cs.LG", "cs.CL", "cs.AI", "stat.ML", "cs.RO", "quant-ph", "math.OC",
];

/// Up to `n` known names closest to `s` (case-insensitive edit distance counting a swap of two
/// letters as one edit), best first; ties go to the busier category.
pub fn closest<'a>(
    s: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let needle = s.to_lowercase();
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            let rank = BUSIEST
                .iter()
                .position(|b| *b == c)
                .unwrap_or(BUSIEST.len());
            (strsim::osa_distance(&needle, &c.to_lowercase()), rank, c)
        })
        .filter(|(d, _, c)| *d <= (c.chars().count().max(needle.chars().count()) / 3).max(1))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored.into_iter().take(n).map(|(_, _, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_spelling_ignores_case() {
        assert_eq!(canonical("CS.cv"), Some("cs.CV"));
        assert_eq!(canonical("hep-th"), Some("hep-th"));
        assert_eq!(canonical("cs.XX"), None);
    }

    #[test]
    fn category_sets_hold_known_categories_in_any_case() {
        const { assert!(CATEGORIES.len() <= 192, "a CategorySet holds 192") };
        let set = CategorySet::parse("CS.cv, cs.RO  stat.TH").unwrap();
        assert_eq!(set.text(), "cs.CV cs.RO stat.TH");
        assert_eq!(CategorySet::parse(&set.text()), Ok(set));
        assert_eq!(
            CategorySet::parse("cs.CV cs.CVV"),
            Err(UnknownCategory("cs.CVV".into()))
        );
        assert!(CategorySet::parse(" ").unwrap().is_empty());
        assert!(!set.is_empty());
    }

    #[test]
    fn closest_finds_typos() {
        assert_eq!(closest("cs.CW", CATEGORIES.iter().copied(), 1), ["cs.CV"]);
        assert!(closest("zzzzzzzz", CATEGORIES.iter().copied(), 3).is_empty());
    }
}
