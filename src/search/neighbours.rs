//! Similar papers kept per paper (the store's `N` lists): worked out by a background job once
//! the index holds a paper, new and changed papers first, then every older paper, newest day
//! first; read by `/similar` and the paper pages, which work a list out themselves (and keep
//! it) only for a paper the job has not reached. At a million papers a list takes 10-30 ms of
//! the index, a kept one microseconds (BENCHMARKS.md).
//!
//! A new paper also enters the kept lists of the papers it is like, when it is as close to
//! them as their own entries: lists are worked out once, and a paper's page would otherwise
//! never show what was announced after it. With `[llm] embedding_model`, a paper's list is
//! re-scored with the embeddings (`rerank`); a paper embedded after its list was worked out is
//! in the change log again (`Store::put_embeddings`), and its list is worked out anew.

use tokio_util::sync::CancellationToken;

use super::{Hit, SearchError, SearchIndex, rerank};
use crate::model::paper::StoredPaper;
use crate::store::{Backfill, SimilarList, Store, StoreError};

/// How many similar papers a list keeps: the page shows 5, `/similar` pages through 5 at a time.
pub const KEPT: usize = 30;
/// How often a long backfill logs where it is.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(300);
/// Changes read from the store's log at a time.
const CHANGES_PER_STEP: usize = 64;

type Result<T> = std::result::Result<T, SearchError>;

/// `list` with `id` entered at `score`, when it is closer than the list's last entry or the
/// list has room; `None` when it does not enter (or is already there).
pub fn with_newcomer(list: &SimilarList, id: &str, score: f32, kept: usize) -> Option<SimilarList> {
    if list.papers.iter().any(|(p, _)| p == id) {
        return None;
    }
    let full = list.papers.len() >= kept;
    if full && list.papers.last().is_some_and(|(_, s)| *s >= score) {
        return None;
    }
    let at = list.papers.partition_point(|(_, s)| *s >= score);
    let mut papers = list.papers.clone();
    papers.insert(at, (id.to_string(), score));
    papers.truncate(kept);
    Some(SimilarList {
        version: list.version,
        embedded: list.embedded,
        papers,
    })
}

/// The papers like `sp`, `offset` and `limit` as `/similar` pages them: from its kept list when
/// that is of this version and long enough, else from the index (keeping the list when the
/// paper had none).
pub fn similar(
    index: &SearchIndex,
    store: &Store,
    sp: &StoredPaper,
    offset: usize,
    limit: usize,
) -> Result<Vec<Hit>> {
    let id = sp.paper.id.as_str();
    let (kept, mut own) = answering(store, sp)?;
    if let Some(list) = &kept {
        // A list shorter than it could be holds every paper that was alike.
        if offset + limit <= list.papers.len() || list.papers.len() < KEPT {
            return Ok(hits(list, offset, limit));
        }
        if list.embedded {
            own = own_embedding(store, id)?;
        }
    }
    let live = live(index, store, sp, &own, KEPT.max(offset + limit))?.shown;
    if kept.is_none() {
        store.put_similar(id, &list_of(sp, own.is_some(), &live))?;
    }
    Ok(live.into_iter().skip(offset).take(limit).collect())
}

/// The paper's embedding, when papers are embedded and it has one.
fn own_embedding(store: &Store, id: &str) -> Result<Option<Vec<f32>>> {
    Ok(match store.embeddings()? {
        Some(e) => e.get(id)?,
        None => None,
    })
}

/// A paper's similar papers as worked out now.
struct Live {
    /// The `n` asked for: by words, or with embeddings when the paper has one (`rerank`).
    shown: Vec<Hit>,
    /// The index's candidates with their word scores (those `shown` came from).
    words: Vec<Hit>,
}

fn live(
    index: &SearchIndex,
    store: &Store,
    sp: &StoredPaper,
    own: &Option<Vec<f32>>,
    n: usize,
) -> Result<Live> {
    let (Some(own), Some(embeddings)) = (own, store.embeddings()?) else {
        let words = index.similar(sp, 0, n)?;
        return Ok(Live {
            shown: words.clone(),
            words,
        });
    };
    let words = index.similar(sp, 0, rerank::CANDIDATES.max(n))?;
    let theirs = words
        .iter()
        .map(|h| embeddings.get(&h.id))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut shown = rerank::blend(words.clone(), own, &theirs, rerank::WORD_WEIGHT);
    shown.truncate(n);
    Ok(Live { shown, words })
}

/// `sp`'s kept list when it still answers for the paper (worked out for this version, and not
/// before the paper had the embedding it has now), and the paper's embedding when it was read to
/// know: a list worked out with the embedding needs no look at it, so `None` then.
fn answering(store: &Store, sp: &StoredPaper) -> Result<(Option<SimilarList>, Option<Vec<f32>>)> {
    let id = sp.paper.id.as_str();
    match kept(store, id)?.filter(|l| l.version == sp.paper.version) {
        Some(list) if list.embedded => Ok((Some(list), None)),
        list => {
            let own = own_embedding(store, id)?;
            Ok((list.filter(|_| own.is_none()), own))
        }
    }
}

fn hits(list: &SimilarList, offset: usize, limit: usize) -> Vec<Hit> {
    list.papers
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, score)| Hit {
            id: id.clone(),
            score: Some(*score),
            day: None,
        })
        .collect()
}

fn list_of(sp: &StoredPaper, embedded: bool, hits: &[Hit]) -> SimilarList {
    SimilarList {
        version: sp.paper.version,
        embedded,
        papers: hits
            .iter()
            .take(KEPT)
            .map(|h| (h.id.clone(), h.score.unwrap_or(0.0)))
            .collect(),
    }
}

/// Works out and keeps `sp`'s list; with `enter`, also enters `sp` into the lists of the papers
/// it is like (a paper new to the index).
fn work_out(
    index: &SearchIndex,
    store: &Store,
    sp: &StoredPaper,
    own: &Option<Vec<f32>>,
    enter: bool,
) -> Result<()> {
    let live = live(index, store, sp, own, KEPT)?;
    store.put_similar(
        sp.paper.id.as_str(),
        &list_of(sp, own.is_some(), &live.shown),
    )?;
    if enter {
        let id = sp.paper.id.as_str();
        for h in &live.shown {
            let blended = h.score.unwrap_or(0.0);
            let words = live
                .words
                .iter()
                .find(|w| w.id == h.id)
                .and_then(|w| w.score)
                .unwrap_or(0.0);
            // A neighbour's unreadable list is left to be worked out again when it is read.
            // The paper enters at the score of the neighbour's own kind of list: a list of
            // words alone compares word scores.
            let entered = store.update_similar(&h.id, |list| {
                let score = if list.embedded { blended } else { words };
                with_newcomer(&list, id, score, KEPT)
            });
            match entered {
                Err(StoreError::Corrupt(_)) | Ok(()) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// `sp`'s embedding when its kept list no longer answers for it (`answering`), else `None`.
fn stale(store: &Store, sp: &StoredPaper) -> Result<Option<Option<Vec<f32>>>> {
    let (kept, own) = answering(store, sp)?;
    Ok(kept.is_none().then_some(own))
}

/// `id`'s kept list; one that cannot be read is as none (worked out again and overwritten, so
/// a damaged record costs a page its speed, not its answer, and does not stop the job).
fn kept(store: &Store, id: &str) -> Result<Option<SimilarList>> {
    match store.similar(id) {
        Err(StoreError::Corrupt(e)) => {
            tracing::warn!(paper = id, error = %e, "a kept similar-papers list cannot be read: working it out again");
            Ok(None)
        }
        other => Ok(other?),
    }
}

/// How far a run of the job went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Every paper the index holds has its list.
    Done,
    /// The store has papers the index has not taken yet: they go first, after a catch-up.
    Yielded,
}

/// What a run of the job worked out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Worked {
    /// Lists of papers new to the index, or changed.
    pub changed: usize,
    /// Lists of papers stored before (the backfill).
    pub backfilled: usize,
}

/// One run of the job, until `stop`: the lists of the papers of every change the index holds
/// that the job has not read, then the backfill, a day at a time, until it is done or the store
/// has changes the index has not taken. Each step's place is kept, so a run stopped anywhere
/// goes on from there. `pace` is called before each list is worked out (the service waits there
/// while pages are being made).
pub fn catch_up(
    index: &SearchIndex,
    store: &Store,
    stop: &CancellationToken,
    pace: &dyn Fn(),
    worked: &mut Worked,
) -> Result<Progress> {
    let held = index.held()?;
    let mut seq = match store.similar_seq()? {
        Some(s) => s,
        None => {
            // A store from before the job: what the index holds is the backfill's.
            store.set_similar_backfill(Backfill::Start)?;
            store.set_similar_seq(held)?;
            held
        }
    };
    while seq < held {
        let changes = store.changes_since(seq, CHANGES_PER_STEP)?;
        if changes.is_empty() {
            break;
        }
        for (n, ids) in changes {
            if n > held {
                break;
            }
            for id in ids {
                if stop.is_cancelled() {
                    return Err(SearchError::Stopped);
                }
                let Some(sp) = store.paper_by_id(&id)? else {
                    continue;
                };
                if let Some(own) = stale(store, &sp)? {
                    pace();
                    work_out(index, store, &sp, &own, true)?;
                    worked.changed += 1;
                }
            }
            seq = n;
            store.set_similar_seq(seq)?;
        }
    }
    // The index has read these too (the log is pruned by whichever of the two reads last).
    store.prune_changes(seq.min(held))?;
    let mut said = std::time::Instant::now();
    loop {
        if store.change_seq() > index.held()? {
            return Ok(Progress::Yielded);
        }
        let day = match store.similar_backfill()? {
            Backfill::Done => return Ok(Progress::Done),
            Backfill::Start => store.latest_day()?,
            Backfill::From(d) => store.day_before(d)?,
        };
        let Some(day) = day else {
            store.set_similar_backfill(Backfill::Done)?;
            return Ok(Progress::Done);
        };
        for sp in store.papers_between(day, day)? {
            if stop.is_cancelled() {
                return Err(SearchError::Stopped);
            }
            if let Some(own) = stale(store, &sp)? {
                pace();
                work_out(index, store, &sp, &own, false)?;
                worked.backfilled += 1;
            }
        }
        store.set_similar_backfill(Backfill::From(day))?;
        // A backfill at a million papers takes hours: say where it is now and then.
        if said.elapsed() >= PROGRESS_EVERY {
            said = std::time::Instant::now();
            tracing::info!(
                down_to = %day,
                lists = worked.backfilled,
                "similar papers: backfill going on, newest days first"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use std::path::Path;

    fn open(dir: &Path) -> (Store, SearchIndex) {
        let store = Store::open(&dir.join("data")).unwrap();
        let index = SearchIndex::open(&SearchIndex::dir_for(&dir.join("data"))).unwrap();
        (store, index)
    }

    fn run(index: &SearchIndex, store: &Store) -> (Progress, Worked) {
        let mut worked = Worked::default();
        let p = catch_up(index, store, &CancellationToken::new(), &|| {}, &mut worked).unwrap();
        (p, worked)
    }

    fn all(store: &Store) -> Vec<StoredPaper> {
        let mut papers = Vec::new();
        store
            .for_each_paper(|sp| {
                papers.push(sp);
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        papers
    }

    #[test]
    fn every_paper_gets_its_list_and_pages_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = open(dir.path());
        crate::store::ingest_test_day(&store, 18, 0..40);
        crate::store::ingest_test_day(&store, 19, 40..80);
        index.catch_up(&store).unwrap();
        // A store from before the job: all of it is the backfill's, newest day first.
        assert_eq!(
            run(&index, &store),
            (
                Progress::Done,
                Worked {
                    changed: 0,
                    backfilled: 80
                }
            )
        );
        assert_eq!(store.similar_backfill().unwrap(), Backfill::Done);
        for sp in all(&store) {
            let kept = store.similar(sp.paper.id.as_str()).unwrap().unwrap();
            assert_eq!(kept.version, sp.paper.version);
            let live = index.similar(&sp, 0, KEPT).unwrap();
            assert_eq!(kept.papers.len(), live.len());
            let ids = |h: &[Hit]| h.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
            // What a page shows is the kept list, the same the index gives.
            assert_eq!(
                ids(&similar(&index, &store, &sp, 0, 5).unwrap()),
                ids(&live[..5])
            );
            assert!(kept.papers.windows(2).all(|w| w[0].1 >= w[1].1));
            assert!(
                kept.papers
                    .iter()
                    .all(|(id, s)| id != sp.paper.id.as_str() && *s <= 1.0)
            );
        }
        // Nothing left: a second run works nothing out.
        assert_eq!(run(&index, &store), (Progress::Done, Worked::default()));
    }

    #[test]
    fn new_and_replaced_papers_are_worked_out_and_new_ones_enter_older_lists() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = open(dir.path());
        // Lists with room for every paper (fewer than `KEPT`), so every new paper must enter
        // the lists of the older papers it is like.
        crate::store::ingest_test_day(&store, 18, 0..20);
        index.catch_up(&store).unwrap();
        run(&index, &store);
        // New papers, and one replaced (a new version).
        crate::store::ingest_test_day(&store, 19, 20..25);
        let mut replaced = all(&store).remove(0).paper;
        replaced.version += 1;
        replaced
            .abstract_text
            .push_str(" A revised version adds experiments.");
        let topics = crate::config::Config::shipped().topic_set().unwrap();
        store
            .ingest(std::slice::from_ref(&replaced), &topics)
            .unwrap();
        // The index has not taken them: the job waits for it, and the log keeps them.
        assert_eq!(run(&index, &store), (Progress::Yielded, Worked::default()));
        let before = store.similar_seq().unwrap().unwrap();
        index.catch_up(&store).unwrap();
        assert!(
            !store.changes_since(before, 1).unwrap().is_empty(),
            "the index does not prune what the job has yet to read"
        );
        assert_eq!(
            run(&index, &store),
            (
                Progress::Done,
                Worked {
                    changed: 6,
                    backfilled: 0
                }
            )
        );
        assert_eq!(
            store
                .similar(replaced.id.as_str())
                .unwrap()
                .unwrap()
                .version,
            replaced.version
        );
        // Each new paper is in the lists of the older papers it is like (they have room).
        for sp in all(&store)
            .iter()
            .filter(|sp| sp.first_announced.is_some_and(|d| d.day() == 19))
        {
            let id = sp.paper.id.as_str();
            let older = |p: &str| !p.starts_with("2401.0002");
            for (other, _) in store
                .similar(id)
                .unwrap()
                .unwrap()
                .papers
                .into_iter()
                .filter(|(p, _)| older(p))
            {
                let theirs = store.similar(&other).unwrap().unwrap();
                assert!(
                    theirs.papers.iter().any(|(p, _)| p == id),
                    "{id} not in {other}'s list"
                );
            }
        }
        // The log is pruned once both have read it.
        assert!(store.changes_since(0, 1).unwrap().is_empty());
    }

    #[test]
    fn an_unreadable_kept_list_is_worked_out_again() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = open(dir.path());
        crate::store::ingest_test_day(&store, 18, 0..20);
        index.catch_up(&store).unwrap();
        run(&index, &store);
        let sp = all(&store).remove(2);
        let id = sp.paper.id.as_str();
        store.put_raw_similar_for_test(id, b"\x01\xff\xff");
        assert!(store.similar(id).is_err());
        let shown = similar(&index, &store, &sp, 0, 5).unwrap();
        assert_eq!(shown, index.similar(&sp, 0, 5).unwrap());
        assert_eq!(
            store.similar(id).unwrap().unwrap().version,
            sp.paper.version
        );
    }

    #[test]
    fn a_page_works_out_a_list_the_job_has_not_reached_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = open(dir.path());
        crate::store::ingest_test_day(&store, 18, 0..30);
        index.catch_up(&store).unwrap();
        let sp = all(&store).remove(3);
        assert!(store.similar(sp.paper.id.as_str()).unwrap().is_none());
        let shown = similar(&index, &store, &sp, 0, 5).unwrap();
        assert_eq!(shown, index.similar(&sp, 0, 5).unwrap());
        let kept = store.similar(sp.paper.id.as_str()).unwrap().unwrap();
        let all_alike = index.similar(&sp, 0, KEPT).unwrap();
        assert!(all_alike.len() > 5 && all_alike.len() < KEPT);
        assert_eq!(kept.papers.len(), all_alike.len());
        // A page past the kept list: what remains of it (it held every paper alike).
        let tail = similar(&index, &store, &sp, all_alike.len() - 2, 5).unwrap();
        let ids = |h: &[Hit]| h.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&tail), ids(&all_alike[all_alike.len() - 2..]));
    }

    #[test]
    fn embedded_papers_are_worked_out_again_with_their_embeddings() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = open(dir.path());
        crate::store::ingest_test_day(&store, 18, 0..30);
        index.catch_up(&store).unwrap();
        run(&index, &store);
        let papers = all(&store);
        let sp = &papers[3];
        let id = sp.paper.id.as_str();
        let by_words = store.similar(id).unwrap().unwrap();
        assert!(!by_words.embedded);
        // Embeddings that put the paper's last word neighbour closest: every paper gets a
        // direction of its own, that one the paper's.
        let last = by_words.papers.last().unwrap().0.clone();
        let vectors: Vec<(String, Vec<f32>)> = papers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut v = vec![0f32; papers.len()];
                let pid = p.paper.id.as_str();
                v[if pid == last { 3 } else { i }] = 1.0;
                (pid.to_string(), v)
            })
            .collect();
        let embedded: Vec<(&str, &[f32])> = vectors
            .iter()
            .map(|(i, v)| (i.as_str(), v.as_slice()))
            .collect();
        store.set_embedding_model("m").unwrap();
        store.put_embeddings("m", &embedded).unwrap();
        // The embedded papers are changes: the index takes them, then the job works them out.
        assert_eq!(run(&index, &store).0, Progress::Yielded);
        index.catch_up(&store).unwrap();
        assert_eq!(
            run(&index, &store),
            (
                Progress::Done,
                Worked {
                    changed: 30,
                    backfilled: 0
                }
            )
        );
        let kept = store.similar(id).unwrap().unwrap();
        assert!(kept.embedded);
        assert_eq!(kept.papers[0].0, last, "the closest embedding comes first");
        let words = index.similar(sp, 0, rerank::CANDIDATES).unwrap();
        let theirs: Vec<Option<Vec<f32>>> = words
            .iter()
            .map(|h| {
                vectors
                    .iter()
                    .find(|(i, _)| *i == h.id)
                    .map(|(_, v)| v.clone())
            })
            .collect();
        let expected = rerank::blend(words, &vectors[3].1, &theirs, rerank::WORD_WEIGHT);
        let ids = |h: &[Hit]| h.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&similar(&index, &store, sp, 0, 5).unwrap()),
            ids(&expected[..5])
        );
        assert_eq!(run(&index, &store), (Progress::Done, Worked::default()));
    }

    #[test]
    fn an_embedded_paper_enters_lists_of_words_alone_at_its_word_score() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = open(dir.path());
        // Fewer papers than a list keeps: a new paper alike has room in the older lists.
        crate::store::ingest_test_day(&store, 18, 0..20);
        index.catch_up(&store).unwrap();
        run(&index, &store);
        // A new paper, embedded before the job reaches it; the older papers have no embedding.
        crate::store::ingest_test_day(&store, 19, 20..21);
        let new = all(&store)
            .into_iter()
            .find(|sp| sp.first_announced.is_some_and(|d| d.day() == 19))
            .unwrap();
        let id = new.paper.id.as_str();
        store.set_embedding_model("m").unwrap();
        store.put_embeddings("m", &[(id, &[1.0, 0.0][..])]).unwrap();
        index.catch_up(&store).unwrap();
        assert_eq!(run(&index, &store).1.changed, 1);
        assert!(store.similar(id).unwrap().unwrap().embedded);
        // Its own list is the blend (the others' cosine unknown: half the word score); in the
        // older lists, of words alone, it stands at its word score.
        let words = index.similar(&new, 0, KEPT).unwrap();
        assert!(!words.is_empty());
        for w in &words {
            let theirs = store.similar(&w.id).unwrap().unwrap();
            assert!(!theirs.embedded);
            let (_, entered) = theirs.papers.iter().find(|(p, _)| p == id).unwrap();
            assert!(
                (entered - w.score.unwrap()).abs() < 1e-6,
                "{entered} vs {w:?}"
            );
        }
        let own = store.similar(id).unwrap().unwrap();
        assert!((own.papers[0].1 - 0.5 * words[0].score.unwrap()).abs() < 1e-6);
    }

    fn list(papers: &[(&str, f32)]) -> SimilarList {
        SimilarList {
            version: 2,
            embedded: false,
            papers: papers.iter().map(|(i, s)| (i.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn a_newcomer_enters_a_list_where_its_score_puts_it() {
        let l = list(&[("a", 0.9), ("b", 0.5), ("c", 0.3)]);
        assert_eq!(
            with_newcomer(&l, "x", 0.6, 3),
            Some(list(&[("a", 0.9), ("x", 0.6), ("b", 0.5)]))
        );
        assert_eq!(
            with_newcomer(&l, "x", 0.1, 4),
            Some(list(&[("a", 0.9), ("b", 0.5), ("c", 0.3), ("x", 0.1)]))
        );
        // Full, and no closer than the last: left as it is.
        assert_eq!(with_newcomer(&l, "x", 0.3, 3), None);
        assert_eq!(with_newcomer(&l, "x", 0.2, 3), None);
        // Already there.
        assert_eq!(with_newcomer(&l, "b", 0.95, 3), None);
        assert_eq!(
            with_newcomer(&list(&[]), "x", 0.2, 3),
            Some(list(&[("x", 0.2)]))
        );
    }
}
