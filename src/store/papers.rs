//! Papers in sled: paper records (`p`), posting lists by topic (`t`), category (`c`) and day
//! (`d`), ingest (one atomic batch per page, merging versions and sources, matching topics),
//! the reads that lists serve (recent, a topic's days, days between), reindexing and the
//! consistency check.

use std::collections::{BTreeMap, HashMap, HashSet};

use std::sync::atomic::Ordering;

use chrono::NaiveDate;

use super::codec::{self, PaperRecordRef};
use super::{
    COUNT_META, Result, Store, StoreError, UNCOUNTED, decode_list, decode_paper, encode, key,
    list_day, list_key, list_len,
};
use crate::model::paper::{Paper, PaperId, StoredPaper};
use crate::topics::{Topic, TopicSet};

/// What one ingest changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestStats {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Papers newly entered under each topic.
    pub topic_hits: HashMap<String, usize>,
    /// Papers with no announcement day (no date in the source): stored, but in no index.
    pub undated: usize,
}

impl Store {
    pub(super) fn get_paper_raw(&self, id: &str) -> Result<Option<StoredPaper>> {
        match self.db.get(key(b'p', &[id.as_bytes()]))? {
            Some(v) => Ok(Some(decode_paper(&v)?)),
            None => Ok(None),
        }
    }

    pub fn paper(&self, id: &PaperId) -> Result<Option<StoredPaper>> {
        self.get_paper_raw(id.as_str())
    }

    /// A paper by its id as a rating, a message or a file gave it (text); `None` for text that
    /// is not an arXiv id too.
    pub fn paper_by_id(&self, id: &str) -> Result<Option<StoredPaper>> {
        match PaperId::parse(id) {
            Some(p) => self.paper(&p),
            None => Ok(None),
        }
    }

    /// The posting list at `key` without the ids in `remove` and with `add` appended (each id
    /// once, in arrival order), as it is to be written.
    pub(super) fn list_edited<S: AsRef<str>>(
        &self,
        key: &[u8],
        add: impl IntoIterator<Item = S>,
        remove: &HashSet<String>,
    ) -> Result<Vec<String>> {
        let mut list = self.list(key)?;
        list.retain(|id| !remove.contains(id));
        let mut seen: HashSet<String> = list.iter().cloned().collect();
        for id in add {
            if seen.insert(id.as_ref().to_string()) {
                list.push(id.as_ref().to_string());
            }
        }
        Ok(list)
    }

    pub(super) fn list(&self, key: &[u8]) -> Result<Vec<String>> {
        match self.db.get(key)? {
            Some(v) => decode_list(&v),
            None => Ok(Vec::new()),
        }
    }

    /// Stores a page of papers and indexes them under `topics`, atomically: either every paper
    /// and index entry of the page is written, or (on error or crash) none is.
    pub fn ingest(&self, papers: &[Paper], topics: &TopicSet) -> Result<IngestStats> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut stats = IngestStats::default();
        let mut batch = sled::Batch::default();
        // A page may repeat an id, and reads do not see this batch: keep one per id, the newest.
        let mut newest: HashMap<&PaperId, usize> = HashMap::with_capacity(papers.len());
        for (i, p) in papers.iter().enumerate() {
            match newest.get(&p.id) {
                Some(&j) if papers[j].version >= p.version => {}
                _ => {
                    newest.insert(&p.id, i);
                }
            }
        }
        // Ids to append to each posting list touched by this page (a page is mostly one day,
        // so this is a few dozen lists, not one key per paper and index).
        let mut appends: BTreeMap<Vec<u8>, Vec<&str>> = BTreeMap::new();
        let mut changed: Vec<&str> = Vec::new();
        for (i, p) in papers.iter().enumerate() {
            if newest.get(&p.id) != Some(&i) {
                stats.unchanged += 1;
                continue;
            }
            let existing = self.paper(&p.id)?;
            let Some(next) = merge(existing.as_ref(), p, topics, &mut stats) else {
                continue;
            };
            let id = p.id.as_str();
            let old = existing.as_ref();
            if let Some(day) = next.first_announced {
                let old_day = old.and_then(|o| o.first_announced);
                if old_day != Some(day) {
                    appends
                        .entry(list_key(b'd', None, day))
                        .or_default()
                        .push(id);
                }
                for c in &next.paper.categories {
                    let had =
                        old_day == Some(day) && old.is_some_and(|o| o.paper.categories.contains(c));
                    if !had {
                        appends
                            .entry(list_key(b'c', Some(c.0.as_bytes()), day))
                            .or_default()
                            .push(id);
                    }
                }
            }
            for (t, day) in &next.topics {
                if !old.is_some_and(|o| o.topics.iter().any(|(ot, _)| ot == t)) {
                    appends
                        .entry(list_key(b't', Some(t.as_bytes()), *day))
                        .or_default()
                        .push(id);
                }
            }
            batch.insert(
                key(b'p', &[id.as_bytes()]),
                encode(codec::PAPER_V1, &PaperRecordRef::from(&next))?,
            );
            changed.push(id);
        }
        self.log_changes(&mut batch, &changed)?;
        for (k, ids) in appends {
            let list = self.list_edited(&k, ids, &HashSet::new())?;
            batch.insert(k, encode(codec::LIST_V1, &list)?);
        }
        let total = self.count_added(&mut batch, stats.new)?;
        self.db.apply_batch(batch)?;
        self.paper_total.store(total, Ordering::Release);
        self.papers_changed();
        Ok(stats)
    }

    /// Every stored paper, in id order: for rebuilding what is derived from all of them.
    pub fn for_each_paper<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(StoredPaper) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        for item in self.db.scan_prefix([b'p']) {
            let (_, v) = item.map_err(StoreError::from)?;
            f(decode_paper(&v)?)?;
        }
        Ok(())
    }

    /// Newest papers entered under a configured topic, newest day first.
    pub fn recent_by_topic(&self, topic_id: &str, n: usize) -> Result<Vec<StoredPaper>> {
        self.scan_lists(
            key(b't', &[topic_id.as_bytes(), b""]),
            n,
            usize::MAX,
            |_| true,
        )
    }

    /// Newest papers first announced in a category.
    pub fn recent_by_category(&self, cat: &str, n: usize) -> Result<Vec<StoredPaper>> {
        self.scan_lists(key(b'c', &[cat.as_bytes(), b""]), n, usize::MAX, |_| true)
    }

    /// Newest papers for any topic: the index when the topic is configured (or a category),
    /// else a scan of the newest days, matching as it goes, over at most `scan_limit` papers.
    pub fn recent(
        &self,
        topic: &Topic,
        configured: bool,
        n: usize,
        scan_limit: usize,
    ) -> Result<Vec<StoredPaper>> {
        if configured {
            return self.recent_by_topic(&topic.id, n);
        }
        if let Some(c) = topic.query().only_category()
            && topic.include_cross
        {
            return self.recent_by_category(c, n);
        }
        self.scan_lists(vec![b'd'], n, scan_limit, |sp| {
            topic
                .matches(&sp.paper, &crate::topics::MatchText::of_stored(sp))
                .is_some()
        })
    }

    /// Every paper entered under a topic on one announcement day, in the order they came.
    pub fn topic_day(&self, topic_id: &str, day: NaiveDate) -> Result<Vec<StoredPaper>> {
        self.papers_of(&self.list(&list_key(b't', Some(topic_id.as_bytes()), day))?)
    }

    /// Papers entered under a topic on `since` or later, newest day first.
    pub fn topic_since(&self, topic_id: &str, since: NaiveDate) -> Result<Vec<StoredPaper>> {
        let start = list_key(b't', Some(topic_id.as_bytes()), since);
        let mut end = key(b't', &[topic_id.as_bytes(), b""]);
        end.push(0xff);
        let mut out = Vec::new();
        for item in self.db.range(start..end).rev() {
            let (_, v) = item?;
            let ids = decode_list(&v)?;
            let mut day = self.papers_of(&ids)?;
            day.reverse();
            out.extend(day);
        }
        Ok(out)
    }

    /// How many papers entered a topic on each announcement day from `since` on, oldest first
    /// (days with none are left out).
    pub fn topic_day_counts(
        &self,
        topic_id: &str,
        since: NaiveDate,
    ) -> Result<Vec<(NaiveDate, usize)>> {
        self.topic_day_counts_between(topic_id, since, NaiveDate::MAX)
    }

    /// `topic_day_counts` of the days in `[from, to]`: a page of a day years back reads its
    /// neighbours' lists, not every list since.
    pub fn topic_day_counts_between(
        &self,
        topic_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, usize)>> {
        let start = list_key(b't', Some(topic_id.as_bytes()), from);
        let mut end = key(b't', &[topic_id.as_bytes(), b""]);
        end.push(0xff);
        let mut out = Vec::new();
        for item in self.db.range(start..end) {
            let (k, v) = item?;
            let Some(day) = list_day(&k) else { continue };
            if day > to {
                break;
            }
            out.push((day, list_len(&v)?));
        }
        Ok(out)
    }

    /// The topic's announcement days nearest to `day`: the one before it and the one after it
    /// that have papers.
    pub fn topic_days_around(
        &self,
        topic_id: &str,
        day: NaiveDate,
    ) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
        let first = key(b't', &[topic_id.as_bytes(), b""]);
        let mut end = first.clone();
        end.push(0xff);
        let at = list_key(b't', Some(topic_id.as_bytes()), day);
        let mut after = at.clone();
        after.push(0);
        let before = match self.db.range(first..at).next_back() {
            Some(item) => list_day(&item?.0),
            None => None,
        };
        let next = match self.db.range(after..end).next() {
            Some(item) => list_day(&item?.0),
            None => None,
        };
        Ok((before, next))
    }

    /// The newest announcement day with any paper in the store.
    pub fn latest_day(&self) -> Result<Option<NaiveDate>> {
        match self.db.scan_prefix([b'd']).next_back() {
            Some(item) => Ok(list_day(&item?.0)),
            None => Ok(None),
        }
    }

    /// The newest announcement day before `day`.
    pub fn day_before(&self, day: NaiveDate) -> Result<Option<NaiveDate>> {
        match self
            .db
            .range(vec![b'd']..list_key(b'd', None, day))
            .next_back()
        {
            Some(item) => Ok(list_day(&item?.0)),
            None => Ok(None),
        }
    }

    /// Papers first announced in `[from, to]`, oldest day first.
    pub fn papers_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<StoredPaper>> {
        let start = list_key(b'd', None, from);
        let end = list_key(b'd', None, to + chrono::Duration::days(1));
        let mut out = Vec::new();
        for item in self.db.range(start..end) {
            let (_, v) = item?;
            let ids = decode_list(&v)?;
            out.extend(self.papers_of(&ids)?);
        }
        Ok(out)
    }

    /// Runs every stored paper through `topics` again, in pages, so that topics added or
    /// changed in the config index what is already stored. Existing topic entries stay.
    pub fn reindex(&self, topics: &TopicSet) -> Result<IngestStats> {
        let mut total = IngestStats::default();
        let mut from = vec![b'p'];
        loop {
            let mut page = Vec::with_capacity(2000);
            for item in self.db.range(from.clone()..vec![b'q']) {
                let (k, v) = item?;
                if k.as_ref() == from.as_slice() {
                    continue;
                }
                page.push(decode_paper(&v)?.paper);
                from = k.to_vec();
                if page.len() == 2000 {
                    break;
                }
            }
            if page.is_empty() {
                return Ok(total);
            }
            let stats = self.ingest(&page, topics)?;
            total.unchanged += stats.unchanged + stats.updated;
            for (t, n) in stats.topic_hits {
                *total.topic_hits.entry(t).or_default() += n;
            }
        }
    }

    /// How many papers are stored: the count the writes that add papers keep in the store
    /// (meta `paper_count`), read once per process. Never a scan of the papers in a store
    /// that has the record: sled keeps every node a scan reads in memory (about the papers'
    /// size: 110 MB for 69k papers), whatever its cache's capacity.
    pub fn paper_count(&self) -> usize {
        let known = self.paper_total.load(Ordering::Acquire);
        if known != UNCOUNTED {
            return known as usize;
        }
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        match self.counted() {
            Ok(n) => n as usize,
            Err(e) => {
                tracing::warn!(error = %e, "cannot count the stored papers");
                0
            }
        }
    }

    /// Under the write lock: the number of papers, from memory, from its record, or (once,
    /// for a store older than the record) counted and recorded.
    fn counted(&self) -> Result<u64> {
        let known = self.paper_total.load(Ordering::Acquire);
        if known != UNCOUNTED {
            return Ok(known);
        }
        let n = match self.meta(COUNT_META)?.and_then(|v| v.parse().ok()) {
            Some(n) => n,
            None => {
                let n = self.db.scan_prefix([b'p']).count() as u64;
                self.set_meta(COUNT_META, &n.to_string())?;
                n
            }
        };
        self.paper_total.store(n, Ordering::Release);
        Ok(n)
    }

    /// Under the write lock, for a batch that stores `n` papers the store did not have: the
    /// count after it, written into the batch (so the record moves with the papers).
    pub(super) fn count_added(&self, batch: &mut sled::Batch, n: usize) -> Result<u64> {
        let total = self.counted()? + n as u64;
        if n > 0 {
            batch.insert(
                key(b'm', &[COUNT_META.as_bytes()]),
                total.to_string().as_bytes(),
            );
        }
        Ok(total)
    }

    pub(super) fn papers_of(&self, ids: &[String]) -> Result<Vec<StoredPaper>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(sp) = self.get_paper_raw(id)? {
                out.push(sp);
            }
        }
        Ok(out)
    }

    /// Up to `n` papers that pass `keep`, newest first, from the posting lists under `prefix`
    /// (newest day first; within a day, the latest added first), looking at no more than
    /// `max_examined` papers.
    pub(super) fn scan_lists(
        &self,
        prefix: Vec<u8>,
        n: usize,
        max_examined: usize,
        mut keep: impl FnMut(&StoredPaper) -> bool,
    ) -> Result<Vec<StoredPaper>> {
        let mut out = Vec::new();
        let mut examined = 0;
        for item in self.db.scan_prefix(&prefix).rev() {
            let (_, v) = item?;
            let ids = decode_list(&v)?;
            for id in ids.iter().rev() {
                if out.len() >= n || examined >= max_examined {
                    return Ok(out);
                }
                examined += 1;
                if let Some(sp) = self.get_paper_raw(id)?
                    && keep(&sp)
                {
                    out.push(sp);
                }
            }
        }
        Ok(out)
    }

    /// Checks that every index entry points at a stored paper and every paper is listed where
    /// its record says. Returns the problems found (empty when consistent).
    pub fn check_consistency(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut lists: HashMap<Vec<u8>, HashSet<String>> = HashMap::new();
        for prefix in [b't', b'c', b'd'] {
            for item in self.db.scan_prefix([prefix]) {
                let (k, v) = item?;
                let ids = decode_list(&v)?;
                for id in &ids {
                    if self.get_paper_raw(id)?.is_none() {
                        problems.push(format!(
                            "index {:?} lists missing paper {id}",
                            String::from_utf8_lossy(&k)
                        ));
                    }
                }
                lists.insert(k.to_vec(), ids.into_iter().collect());
            }
        }
        let listed = |k: Vec<u8>, id: &str| lists.get(&k).is_some_and(|l| l.contains(id));
        for item in self.db.scan_prefix([b'p']) {
            let (_, v) = item?;
            let sp = decode_paper(&v)?;
            let id = sp.paper.id.as_str();
            for (t, day) in &sp.topics {
                if !listed(list_key(b't', Some(t.as_bytes()), *day), id) {
                    problems.push(format!("{id}: missing from topic index {t}"));
                }
            }
            if let Some(day) = sp.first_announced {
                if !listed(list_key(b'd', None, day), id) {
                    problems.push(format!("{id}: missing from day index"));
                }
                for c in &sp.paper.categories {
                    if !listed(list_key(b'c', Some(c.0.as_bytes()), day), id) {
                        problems.push(format!("{id}: missing from category index {c}"));
                    }
                }
            }
        }
        Ok(problems)
    }
}

/// The record that results from seeing `p` when `existing` is stored; `None` if nothing changes.
fn merge(
    existing: Option<&StoredPaper>,
    p: &Paper,
    topics: &TopicSet,
    stats: &mut IngestStats,
) -> Option<StoredPaper> {
    let this_day = p.announce_day();
    if this_day.is_none() {
        stats.undated += 1;
    }
    let mut next = match existing {
        None => {
            stats.new += 1;
            StoredPaper {
                paper: p.clone(),
                first_announced: this_day,
                topics: vec![],
            }
        }
        Some(old) if old.paper.version > p.version => {
            stats.unchanged += 1;
            return None;
        }
        Some(old) => {
            let mut paper = p.clone();
            if old.paper.version == p.version {
                // Same version from another source: keep what only the other one knew.
                paper.comment = paper.comment.or_else(|| old.paper.comment.clone());
                paper.doi = paper.doi.or_else(|| old.paper.doi.clone());
                paper.journal_ref = paper.journal_ref.or_else(|| old.paper.journal_ref.clone());
                paper.updated = paper.updated.or(old.paper.updated);
                paper.pdf_url = paper.pdf_url.or_else(|| old.paper.pdf_url.clone());
                if paper.announce_type.is_none() {
                    paper.announce_type = old.paper.announce_type;
                }
            }
            paper.published = paper.published.or(old.paper.published);
            StoredPaper {
                paper,
                first_announced: old.first_announced.or(this_day),
                topics: old.topics.clone(),
            }
        }
    };
    // Matched even when nothing else changed: a topic added to the config since the paper was
    // stored picks it up the next time the paper is seen.
    let mut new_hits = Vec::new();
    if let Some(day) = this_day.or(next.first_announced) {
        // Dated clauses read the day the index gives the paper: its first announcement.
        for (t, _hit) in topics.matching(p, next.first_announced.or(Some(day))) {
            if !next.topics.iter().any(|(id, _)| id == &t.id) {
                next.topics.push((t.id.clone(), day));
                new_hits.push(t.id.clone());
            }
        }
    }
    match existing {
        Some(old) if next == *old => {
            stats.unchanged += 1;
            return None;
        }
        Some(old) if old.paper.version < p.version => stats.updated += 1,
        Some(_) => stats.unchanged += 1,
        None => {}
    }
    for t in new_hits {
        *stats.topic_hits.entry(t).or_default() += 1;
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lists_length_is_read_from_its_prefix() {
        for n in [0usize, 1, 127, 128, 300, 16_384, 20_000] {
            let ids: Vec<String> = (0..n).map(|i| format!("2401.{i:05}")).collect();
            let v = encode(codec::LIST_V1, &ids).unwrap();
            assert_eq!(list_len(&v).unwrap(), n);
            assert_eq!(decode_list(&v).unwrap().len(), n);
        }
        assert!(list_len(&[codec::LIST_V1, 0x80]).is_err(), "a cut varint");
        assert!(list_len(&[9, 1]).is_err(), "an unknown version");
    }

    #[test]
    fn day_counts_between_two_days_stop_at_the_second() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let topics = crate::config::Config::shipped().topic_set().unwrap();
        for (day, ids) in [(18, 0..30), (19, 30..50), (20, 50..90)] {
            crate::store::ingest_test_day(&store, day, ids);
        }
        let d = |n| NaiveDate::from_ymd_opt(2024, 11, n).unwrap();
        let topic = &topics.topics[0].id;
        let all = store.topic_day_counts(topic, d(1)).unwrap();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all.iter().all(|&(_, n)| n > 0));
        assert_eq!(
            store.topic_day_counts_between(topic, d(18), d(19)).unwrap(),
            all[..2].to_vec()
        );
        assert_eq!(
            store.topic_day_counts_between(topic, d(19), d(19)).unwrap(),
            all[1..2].to_vec()
        );
        let by_list: Vec<usize> = [18, 19, 20]
            .iter()
            .map(|&n| store.topic_day(topic, d(n)).unwrap().len())
            .collect();
        assert_eq!(all.iter().map(|&(_, n)| n).collect::<Vec<_>>(), by_list);
    }
}
