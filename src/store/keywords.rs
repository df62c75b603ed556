//! A topic day's overview keywords (`K`), worked out once when the day is stored, so that the
//! first view of a topic day does not tokenise its papers and the topic's background again.
//! Each record says how many papers it was worked out from: a day that has since grown is
//! worked out again where it is shown.

use chrono::NaiveDate;

use super::{Result, Store, codec, day_key, decode, encode, key};

impl Store {
    /// Keeps `keywords` as `topic`'s keywords of `day`, worked out from `papers` papers.
    pub fn put_day_keywords(
        &self,
        topic: &str,
        day: NaiveDate,
        papers: usize,
        keywords: &[String],
    ) -> Result<()> {
        self.db.insert(
            key(b'K', &[topic.as_bytes(), &day_key(day)]),
            encode(codec::KEYWORDS_V1, &(papers as u64, keywords))?,
        )?;
        Ok(())
    }

    /// `topic`'s keywords of `day` and the number of papers they were worked out from.
    pub fn day_keywords(
        &self,
        topic: &str,
        day: NaiveDate,
    ) -> Result<Option<(usize, Vec<String>)>> {
        let Some(v) = self.db.get(key(b'K', &[topic.as_bytes(), &day_key(day)]))? else {
            return Ok(None);
        };
        let (n, k): (u64, Vec<String>) = decode(codec::KEYWORDS_V1, "day keywords", &v)?;
        Ok(Some((n as usize, k)))
    }
}
