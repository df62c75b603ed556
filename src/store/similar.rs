//! Each paper's similar papers (`N`), worked out in the background once the search index holds
//! the paper (`search::neighbours`), so that a paper's page and `/similar` read a list instead
//! of querying the whole index. A list names the paper version it was worked out for: a
//! replaced paper's list is stale until worked out again. The job's place in the change log
//! (`similar_seq`) holds the log's pruning back, so no change is pruned before it was read.

use super::codec::{self, decode, encode};
use super::{Result, Store, StoreError, key};

/// Meta name of the last change whose papers have their lists.
const SIMILAR_SEQ: &str = "similar_seq";
/// Meta name of the backfill's place: the next announcement day to work down from, or `done`.
const SIMILAR_BACKFILL: &str = "similar_backfill";

/// One paper's similar papers, most similar first, with scores comparable between lists of
/// the same kind (each list's raw scores divided by the paper's own score against its query;
/// when `embedded`, blended with the embeddings' cosine).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimilarList {
    /// The paper version the list was worked out for.
    pub version: u32,
    /// Whether the paper's embedding weighed in (`search::rerank`): a list worked out before
    /// the paper was embedded is worked out again once it is.
    pub embedded: bool,
    pub papers: Vec<(String, f32)>,
}

/// A list as `SIMILAR_V1` wrote it: words only.
#[derive(serde::Deserialize)]
struct SimilarListV1 {
    version: u32,
    papers: Vec<(String, f32)>,
}

/// A kept list in either layout.
fn decode_list(bytes: &[u8]) -> Result<SimilarList> {
    match bytes.first() {
        Some(&codec::SIMILAR_V1) => {
            let l: SimilarListV1 = decode(codec::SIMILAR_V1, "similar papers", bytes)?;
            Ok(SimilarList {
                version: l.version,
                embedded: false,
                papers: l.papers,
            })
        }
        _ => decode(codec::SIMILAR_V2, "similar papers", bytes),
    }
}

/// Where the backfill of lists for papers stored before the job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfill {
    /// Not started: from the newest day down.
    Start,
    /// Days after this one are done.
    From(chrono::NaiveDate),
    Done,
}

fn similar_key(id: &str) -> Vec<u8> {
    key(b'N', &[id.as_bytes()])
}

impl Store {
    pub fn put_similar(&self, id: &str, list: &SimilarList) -> Result<()> {
        self.db
            .insert(similar_key(id), encode(codec::SIMILAR_V2, list)?)?;
        Ok(())
    }

    /// Writes `bytes` as `id`'s list, as a damaged record would be.
    #[cfg(test)]
    pub(crate) fn put_raw_similar_for_test(&self, id: &str, bytes: &[u8]) {
        self.db.insert(similar_key(id), bytes).unwrap();
    }

    /// The list kept for `id`, whatever version it was worked out for.
    pub fn similar(&self, id: &str) -> Result<Option<SimilarList>> {
        self.db
            .get(similar_key(id))?
            .map(|v| decode_list(&v))
            .transpose()
    }

    /// Changes `id`'s list with `change` (given the list, it returns the new one, or `None`
    /// to leave it), atomically against other writers of the list; a change is a change to
    /// what pages show.
    pub fn update_similar(
        &self,
        id: &str,
        mut change: impl FnMut(SimilarList) -> Option<SimilarList>,
    ) -> Result<()> {
        let mut failed = None;
        let mut changed = false;
        self.db.update_and_fetch(similar_key(id), |old| {
            let old = old?;
            let list = match decode_list(old) {
                Ok(l) => l,
                Err(e) => {
                    failed = Some(e);
                    return Some(old.to_vec());
                }
            };
            match change(list).map(|l| encode(codec::SIMILAR_V2, &l)) {
                Some(Ok(v)) => {
                    changed = true;
                    Some(v)
                }
                Some(Err(e)) => {
                    failed = Some(e);
                    Some(old.to_vec())
                }
                None => Some(old.to_vec()),
            }
        })?;
        if changed {
            // The paper's page lists it: a page made before the change must not be kept.
            self.shown_changed();
        }
        failed.map_or(Ok(()), Err)
    }

    /// The last change whose papers have their lists, `None` before the job first ran.
    pub fn similar_seq(&self) -> Result<Option<u64>> {
        self.meta(SIMILAR_SEQ)?
            .map(|v| {
                v.parse()
                    .map_err(|_| StoreError::Corrupt(format!("{SIMILAR_SEQ} {v:?}")))
            })
            .transpose()
    }

    pub fn set_similar_seq(&self, seq: u64) -> Result<()> {
        self.set_meta(SIMILAR_SEQ, &seq.to_string())
    }

    pub fn similar_backfill(&self) -> Result<Backfill> {
        Ok(match self.meta(SIMILAR_BACKFILL)?.as_deref() {
            None => Backfill::Start,
            Some("done") => Backfill::Done,
            Some(day) => Backfill::From(
                day.parse()
                    .map_err(|_| StoreError::Corrupt(format!("{SIMILAR_BACKFILL} {day:?}")))?,
            ),
        })
    }

    pub fn set_similar_backfill(&self, at: Backfill) -> Result<()> {
        match at {
            Backfill::Start => {
                self.db.remove(key(b'm', &[SIMILAR_BACKFILL.as_bytes()]))?;
                Ok(())
            }
            Backfill::From(day) => self.set_meta(SIMILAR_BACKFILL, &day.to_string()),
            Backfill::Done => self.set_meta(SIMILAR_BACKFILL, "done"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_the_first_layout_reads_as_worked_out_from_words() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let v1 = SimilarListV1 {
            version: 2,
            papers: vec![("2411.00001".into(), 0.5)],
        };
        #[derive(serde::Serialize)]
        struct Written<'a>(u32, &'a [(String, f32)]);
        let bytes = encode(codec::SIMILAR_V1, &Written(v1.version, &v1.papers)).unwrap();
        store.put_raw_similar_for_test("2411.00002", &bytes);
        let list = store.similar("2411.00002").unwrap().unwrap();
        assert_eq!(
            list,
            SimilarList {
                version: 2,
                embedded: false,
                papers: vec![("2411.00001".into(), 0.5)],
            }
        );
        let now = SimilarList {
            embedded: true,
            ..list
        };
        store.put_similar("2411.00002", &now).unwrap();
        assert_eq!(store.similar("2411.00002").unwrap().unwrap(), now);
    }
}
