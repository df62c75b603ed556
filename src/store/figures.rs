//! Papers' figures (`F`): what asking a paper version's HTML edition found (its first figure,
//! no figure, or no edition), one record per (paper, version), so nothing is asked twice.

use super::codec::{self, decode, encode};
use super::{Result, Store, key};
use crate::model::enrichment::FigureLookup;

fn figure_key(id: &str, version: u32) -> Vec<u8> {
    key(b'F', &[id.as_bytes(), &version.to_be_bytes()])
}

impl Store {
    pub fn put_figure(&self, id: &str, version: u32, lookup: &FigureLookup) -> Result<()> {
        self.db
            .insert(figure_key(id, version), encode(codec::FIGURE_V1, lookup)?)?;
        // Pages show figures: their tags must change.
        self.shown_changed();
        Ok(())
    }

    /// What asking for this version's figure found, if it was asked.
    pub fn figure(&self, id: &str, version: u32) -> Result<Option<FigureLookup>> {
        self.db
            .get(figure_key(id, version))?
            .map(|v| decode(codec::FIGURE_V1, "figure", &v))
            .transpose()
    }
}
