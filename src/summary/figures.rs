//! Papers' figures at the edge: asking arXiv's HTML edition for a paper version's first figure
//! (`ArxivClient::figure`, at arXiv's pace) and keeping what it found, a figure, no figure, or
//! no edition, so nothing is asked twice. The enrich job asks for what digests will show
//! (`compose::figures::wanted`); `/paper` and `paperbell paper` ask on demand.

use crate::model::enrichment::FigureLookup;
use crate::model::paper::StoredPaper;
use crate::sources::fetch::{ArxivClient, Edition, FetchError};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("arXiv's HTML edition: {0}")]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What asking for figures did (the figures of one run, or one on-demand look-up).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FigureCounts {
    /// HTML pages asked for (a request each).
    pub asked: usize,
    pub found: usize,
    pub no_figure: usize,
    pub no_edition: usize,
    /// Bytes of HTML read (pages are read only up to their first complete figure).
    pub bytes: u64,
}

impl FigureCounts {
    fn merge(&mut self, other: &FigureCounts) {
        self.asked += other.asked;
        self.found += other.found;
        self.no_figure += other.no_figure;
        self.no_edition += other.no_edition;
        self.bytes += other.bytes;
    }

    fn add(&mut self, lookup: &FigureLookup, bytes: u64) {
        self.asked += 1;
        self.bytes += bytes;
        match lookup {
            FigureLookup::Found(_) => self.found += 1,
            FigureLookup::NoFigure => self.no_figure += 1,
            FigureLookup::NoEdition => self.no_edition += 1,
        }
    }
}

/// `sp`'s figure: what the store knows, else asked of arXiv and kept (`patient`: with the
/// client's retries; else once, for someone waiting).
pub async fn look_up(
    client: &ArxivClient,
    store: &Store,
    sp: &StoredPaper,
    patient: bool,
) -> Result<(FigureLookup, FigureCounts), FigureError> {
    let (id, version) = (sp.paper.id.as_str(), sp.paper.version);
    let mut counts = FigureCounts::default();
    if let Some(known) = store.figure(id, version)? {
        return Ok((known, counts));
    }
    let (lookup, bytes) = match client.figure(&sp.paper.id, version, patient).await? {
        Edition::Page {
            figure: Some(f),
            bytes,
        } => (FigureLookup::Found(f), bytes),
        Edition::Page {
            figure: None,
            bytes,
        } => (FigureLookup::NoFigure, bytes),
        Edition::Missing => (FigureLookup::NoEdition, 0),
    };
    store.put_figure(id, version, &lookup)?;
    counts.add(&lookup, bytes);
    crate::metrics::figures(
        counts.found,
        counts.no_figure,
        counts.no_edition,
        counts.bytes,
    );
    Ok((lookup, counts))
}

/// Asks for each paper's figure in turn, counting each request against `day`'s budget
/// (`Store::figure_pages`); stops at the first failure to reach arXiv (the rest waits for the
/// next run), returning what was done and that failure.
pub async fn look_up_all(
    client: &ArxivClient,
    store: &Store,
    day: chrono::NaiveDate,
    papers: &[StoredPaper],
) -> (FigureCounts, Option<FigureError>) {
    let mut total = FigureCounts::default();
    for sp in papers {
        match look_up(client, store, sp, true).await {
            Ok((_, c)) => {
                if c.asked > 0
                    && let Err(e) = store.add_figure_pages(day, c.asked as u64)
                {
                    return (total, Some(e.into()));
                }
                total.merge(&c);
            }
            Err(e) => return (total, Some(e)),
        }
    }
    (total, None)
}
