//! The full-text index beside the store (tantivy), derived from it: the only code that knows
//! tantivy. Papers are indexed by title, abstract and authors (in the query language's words),
//! categories and announcement day, and a query's tree is compiled clause for clause into
//! tantivy's queries, so the index selects exactly what the topic matcher does; the index catches up from the store's change log after every ingest and
//! at start-up, and is rebuilt from the store when it is missing, damaged or of another
//! layout. Its commit payload records the last change it holds, so a crash at any point loses
//! nothing: the store's log is pruned only after the index made those changes durable.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{Datelike, NaiveDate};
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, Bm25StatisticsProvider, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring,
    MoreLikeThisQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, OwnedValue, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader,
    TantivyDocument, Term,
};

use tantivy::indexer::IndexWriterOptions;
use tantivy::merge_policy::LogMergePolicy;
use tokio_util::sync::CancellationToken;

use crate::model::paper::StoredPaper;
use crate::query::{Expr, Place, Term as QueryTerm};
use crate::store::{Store, StoreError};

/// The index layout this build writes; another one is rebuilt.
const LAYOUT: &str = "paperbell-search-3";
/// Indexing memory (tantivy's writer arenas, split between its threads): used while papers
/// are being added and released at each commit, so an idle writer holds next to nothing.
const WRITER_HEAP: usize = 64 * 1024 * 1024;
/// Indexing threads: both cores during a rebuild or a large fetch; idle otherwise.
const WRITER_THREADS: usize = 2;
/// Segments below this many papers are merged by size like larger ones (tantivy's default,
/// 10,000, lumps them together: a day's small segment was merged into the same growing one
/// again and again, most of a catch-up's cost).
const MIN_LAYER_DOCS: u32 = 1_000;
/// Segment merges run in the background on one thread, beside ingest and search.
const MERGE_THREADS: usize = 1;
/// Changes read from the store's log per step of a catch-up.
const CHANGES_PER_STEP: usize = 256;
/// A title match weighs this much more than the same match in the abstract.
const TITLE_BOOST: f32 = 2.0;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stopped by shutdown before the index caught up")]
    Stopped,
    #[error("search index directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, SearchError>;

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// BM25, a title match above an abstract match; the newer paper first on a tie.
    Relevance,
    Newest,
}

/// One result: the paper's id, its score (none when sorted by date) and announcement day.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: Option<f32>,
    pub day: Option<NaiveDate>,
}

/// Decompressed doc-store blocks kept per segment.
const DOC_STORE_BLOCKS: usize = 4;
/// The words of a paper that stand for it when looking for similar ones (the most telling
/// first), those of them that find the candidates, and how many candidates all the words score.
const SIMILAR_WORDS: usize = 64;
const SIMILAR_FIRST_WORDS: usize = 10;
const SIMILAR_CANDIDATES: usize = 150;
/// What MoreLikeThis (the method before, kept for the benchmark) asked with.
const MORE_LIKE_THIS_WORDS: usize = 24;

/// What `catch_up` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Papers (re)indexed from the change log.
    pub updated: usize,
    /// The whole index was rebuilt from the store (and how many papers it holds).
    pub rebuilt: Option<usize>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    abstract_text: Field,
    authors: Field,
    categories: Field,
    day: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(super::analysis::WORDS)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", words.clone()),
        abstract_text: b.add_text_field("abstract", words.clone()),
        // One value per author: tantivy leaves a position free between values, so a phrase
        // never runs from one author's name into the next.
        authors: b.add_text_field("authors", words),
        categories: b.add_text_field("categories", STRING),
        day: b.add_i64_field("day", INDEXED | FAST),
    };
    (b.build(), fields)
}

fn day_number(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64
}

fn day_of(n: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(n).ok()?)
}

/// The payload a commit records: the layout and the last change of the store it holds.
fn payload(seq: u64) -> String {
    format!("{LAYOUT} seq={seq}")
}

fn held_seq(payload: Option<&str>) -> Option<u64> {
    payload?
        .strip_prefix(LAYOUT)?
        .trim()
        .strip_prefix("seq=")?
        .parse()
        .ok()
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The writing side; its lock makes catch-ups one at a time.
    writing: Mutex<Writing>,
}

struct Writing {
    /// Made at the first catch-up with work and kept for the index's life: its threads and
    /// background merges outlive each commit (a writer per catch-up left a segment per fetch
    /// unmerged, or waited for the merges in the fetch's time).
    writer: Option<IndexWriter>,
    /// The index was created empty (missing, damaged, another layout): the next catch-up
    /// rebuilds it from the store.
    fresh: bool,
}

impl SearchIndex {
    /// Opens the index in `dir`, or creates it empty there (to be rebuilt by `catch_up`) when
    /// it is missing, cannot be opened or has another layout.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        let (schema, fields) = schema();
        let existing = Index::open_in_dir(dir).ok().filter(|i| {
            i.schema() == schema
                && i.load_metas()
                    .ok()
                    .and_then(|m| held_seq(m.payload.as_deref()))
                    .is_some()
        });
        let fresh = existing.is_none();
        let index = match existing {
            Some(i) => i,
            None => {
                if dir.exists() {
                    tracing::warn!(dir = %dir.display(), "search index unreadable or of another layout: rebuilding it from the store");
                    std::fs::remove_dir_all(dir).map_err(|source| dir_error(dir, source))?;
                }
                std::fs::create_dir_all(dir).map_err(|source| dir_error(dir, source))?;
                Index::create_in_dir(dir, schema)?
            }
        };
        index.tokenizers().register(
            super::analysis::WORDS,
            TextAnalyzer::from(super::analysis::QueryWords::default()),
        );
        // Reloaded explicitly after each commit (so a catch-up's papers are searchable when it
        // returns) and by tantivy's watch of the index's meta file when background merges
        // finish (so searches move to the merged segments without waiting for a fetch).
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            // A hit's id is read from the doc store: tantivy keeps 100 decompressed blocks
            // per segment by default, 100 MB of a service's memory at a million papers; a
            // page of hits reads a handful.
            .doc_store_cache_num_blocks(DOC_STORE_BLOCKS)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            writing: Mutex::new(Writing {
                writer: None,
                fresh,
            }),
        })
    }

    /// Where the index of a store in `data` lives.
    pub fn dir_for(data: &Path) -> PathBuf {
        data.join("search")
    }

    /// The last store change the index holds durably.
    pub fn held(&self) -> Result<u64> {
        Ok(held_seq(self.index.load_metas()?.payload.as_deref()).unwrap_or(0))
    }

    /// Brings the index up to the store: rebuilds it when it was created fresh, else indexes
    /// the papers of every change after the one it holds; commits, then prunes the store's
    /// log up to what the commit holds.
    pub fn catch_up(&self, store: &Store) -> Result<CatchUp> {
        self.catch_up_until(store, &CancellationToken::new())
    }

    /// `catch_up` that gives up, committing nothing, once `stop` is cancelled (a rebuild of a
    /// large store takes a while; a shutdown does not wait for it, the next start redoes it).
    pub fn catch_up_until(&self, store: &Store, stop: &CancellationToken) -> Result<CatchUp> {
        let mut writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let Writing {
            writer: slot,
            fresh,
        } = &mut *writing;
        let held = self.held()?;
        // Up to date: no writer (its lock file and threads) for a search or a quiet fetch.
        if !*fresh && store.changes_since(held, 1)?.is_empty() {
            return Ok(CatchUp::default());
        }
        if slot.is_none() {
            let options = IndexWriterOptions::builder()
                .num_worker_threads(WRITER_THREADS)
                .memory_budget_per_thread(WRITER_HEAP / WRITER_THREADS)
                .num_merge_threads(MERGE_THREADS)
                .build();
            let writer: IndexWriter = self.index.writer_with_options(options)?;
            let mut merges = LogMergePolicy::default();
            merges.set_min_layer_size(MIN_LAYER_DOCS);
            writer.set_merge_policy(Box::new(merges));
            *slot = Some(writer);
        }
        let writer = slot.as_mut().expect("made above");
        let result = self.write(writer, store, held, *fresh, stop);
        if result.is_ok() {
            *fresh = false;
        } else {
            // What was added since the last commit is dropped; the next catch-up starts
            // again from what the index holds.
            if let Err(e) = writer.rollback() {
                tracing::warn!(error = %e, "search index: rollback failed; the writer is remade");
                *slot = None;
            }
        }
        result
    }

    fn write(
        &self,
        writer: &mut IndexWriter,
        store: &Store,
        held: u64,
        fresh: bool,
        stop: &CancellationToken,
    ) -> Result<CatchUp> {
        let mut report = CatchUp::default();
        let mut seq = held;
        if fresh {
            // Changes from now on are caught up later: take the number before reading.
            seq = store.change_seq();
            writer.delete_all_documents()?;
            let mut n = 0;
            store.for_each_paper(|sp| {
                if stop.is_cancelled() {
                    return Err(SearchError::Stopped);
                }
                self.add(writer, &sp)?;
                n += 1;
                Ok::<_, SearchError>(())
            })?;
            report.rebuilt = Some(n);
        }
        // A changed paper replaces its indexed copy; most changes are new papers, which have
        // none, and a delete costs a look-up in every segment when it is applied. During a
        // rebuild any change may be of a paper the scan just added: those are all replaced.
        let searcher = self.reader.searcher();
        let mut added: HashSet<String> = HashSet::new();
        loop {
            if stop.is_cancelled() {
                return Err(SearchError::Stopped);
            }
            let changes = store.changes_since(seq, CHANGES_PER_STEP)?;
            let Some(&(last, _)) = changes.last() else {
                break;
            };
            for (_, ids) in &changes {
                for id in ids {
                    let term = Term::from_field_text(self.fields.id, id);
                    if fresh || added.contains(id.as_str()) || searcher.doc_freq(&term)? > 0 {
                        writer.delete_term(term);
                    }
                    let pid = crate::model::paper::PaperId::parse(id);
                    if let Some(sp) = pid.map(|p| store.paper(&p)).transpose()?.flatten() {
                        self.add(writer, &sp)?;
                        added.insert(id.clone());
                        report.updated += 1;
                    }
                }
            }
            seq = last;
        }
        if fresh || seq != held {
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&payload(seq));
            commit.commit()?;
            self.reader.reload()?;
        }
        store.prune_changes(seq)?;
        Ok(report)
    }

    fn add(&self, writer: &IndexWriter, sp: &StoredPaper) -> Result<()> {
        let f = &self.fields;
        let p = &sp.paper;
        let mut doc = TantivyDocument::new();
        doc.add_text(f.id, p.id.as_str());
        doc.add_text(f.title, &p.title);
        doc.add_text(f.abstract_text, &p.abstract_text);
        for a in &p.authors {
            doc.add_text(f.authors, a);
        }
        for c in &p.categories {
            doc.add_text(f.categories, c.as_str());
        }
        if let Some(d) = sp.first_announced.or_else(|| p.announce_day()) {
            doc.add_i64(f.day, day_number(d));
        }
        writer.add_document(doc)?;
        Ok(())
    }

    /// Papers in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The papers matching `q`, ordered by `sort`, `limit` of them after the first `offset`.
    /// A query without words to rank by comes newest first.
    pub fn search(&self, q: &Expr, sort: Sort, offset: usize, limit: usize) -> Result<Vec<Hit>> {
        let query = self.compile(q);
        let sort = if q.ranks() { sort } else { Sort::Newest };
        self.collect(&*query, sort, offset, limit)
    }

    /// The papers most like `paper` by its title and abstract, itself left out, scored
    /// against the paper's own score (so 1.0 is as like it as itself). Its
    /// `SIMILAR_WORDS` weightiest words (log term frequency times the square root of inverse
    /// document frequency: BM25 adds the rest) are asked of the other papers' abstracts, with
    /// those weights: at least as close as TF-IDF cosine on the real papers (BENCHMARKS.md).
    /// For speed, in two steps: the `SIMILAR_FIRST_WORDS` weightiest words find
    /// `SIMILAR_CANDIDATES` candidates (a flat query of term clauses, which tantivy prunes by
    /// block-max WAND), and the other words add their scores to the candidates alone.
    pub fn similar(&self, paper: &StoredPaper, offset: usize, limit: usize) -> Result<Vec<Hit>> {
        let f = self.fields;
        let p = &paper.paper;
        let searcher = self.reader.searcher();
        let n = searcher.num_docs().max(1) as f32;
        let mut tf: HashMap<String, f32> = HashMap::new();
        for text in [&p.title, &p.abstract_text] {
            for w in crate::query::words(text) {
                if telling(&w.text) {
                    *tf.entry(w.text.into_owned()).or_default() += 1.0;
                }
            }
        }
        // (word, its weight in the query)
        let mut words: Vec<(String, f32)> = Vec::with_capacity(tf.len());
        let mut known = KnownFrequencies {
            searcher: &searcher,
            field: f.abstract_text,
            df: HashMap::with_capacity(tf.len()),
            docs: searcher.total_num_docs()?,
            tokens: searcher.total_num_tokens(f.abstract_text)?,
        };
        for (w, tf) in tf {
            let df = searcher.doc_freq(&Term::from_field_text(f.abstract_text, &w))?;
            known.df.insert(w.clone(), df);
            // A word of this paper alone finds nothing else.
            if df < 2 {
                continue;
            }
            let idf = (n / df as f32).ln();
            if idf > 0.0 {
                words.push((w, (1.0 + tf.ln()) * idf.sqrt()));
            }
        }
        if words.is_empty() {
            return Ok(Vec::new());
        }
        words.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        words.truncate(SIMILAR_WORDS);
        let query_of = |words: &[(String, f32)]| {
            BooleanQuery::new(
                words
                    .iter()
                    .map(|(w, weight)| {
                        let q = TermQuery::new(
                            Term::from_field_text(f.abstract_text, w),
                            IndexRecordOption::WithFreqs,
                        );
                        (
                            Occur::Should,
                            Box::new(BoostQuery::new(Box::new(q), *weight)) as Box<dyn Query>,
                        )
                    })
                    .collect(),
            )
        };
        // The paper itself is among the best: one more is kept, then it is left out (an
        // exclusion clause would cost the block skipping).
        let want = offset + limit + 1;
        let first = words.len().min(SIMILAR_FIRST_WORDS);
        // The words' statistics are known by now: tantivy is not asked for them again for
        // each query (a look-up in every segment per word).
        let mut candidates: Vec<(DocAddress, Score)> = searcher
            .search_with_statistics_provider(
                &query_of(&words[..first]),
                &TopDocs::with_limit(SIMILAR_CANDIDATES.max(want)).order_by_score(),
                &known,
            )?
            .into_iter()
            .map(|(score, a)| (a, score))
            .collect();
        candidates.sort_by_key(|(a, _)| *a);
        // The other words add their scores to the candidates', each on its own, seeking them in
        // its postings (a union of the words seeks by refilling windows: most of this step's
        // time when it did).
        let scoring = EnableScoring::enabled_from_statistics_provider(&known, &searcher);
        let weights = words[first..]
            .iter()
            .map(|w| query_of(std::slice::from_ref(w)).weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut top: Vec<(Score, DocAddress)> = Vec::with_capacity(candidates.len());
        for segment in candidates.chunk_by(|a, b| a.0.segment_ord == b.0.segment_ord) {
            let reader = searcher.segment_reader(segment[0].0.segment_ord);
            let mut scores: Vec<Score> = segment.iter().map(|(_, s)| *s).collect();
            let segment: Vec<DocAddress> = segment.iter().map(|(a, _)| *a).collect();
            for weight in &weights {
                let mut scorer = weight.scorer(reader, 1.0)?;
                for (a, score) in segment.iter().zip(&mut scores) {
                    if scorer.doc() < a.doc_id {
                        scorer.seek(a.doc_id);
                    }
                    if scorer.doc() == a.doc_id {
                        *score += scorer.score();
                    }
                }
            }
            top.extend(scores.into_iter().zip(segment.iter().copied()));
        }
        top.sort_by(|a, b| b.0.total_cmp(&a.0));
        top.truncate(want);
        // Scores are divided by the paper's own (the best a paper can do against its query;
        // the best other's when the index lacks the paper), so that lists can be compared.
        let mut own = top.first().map_or(1.0, |t| t.0);
        let mut hits = Vec::with_capacity(limit);
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(id) = doc.get_first(f.id).and_then(|v| v.as_str()) else {
                continue;
            };
            if id == p.id.as_str() {
                own = score;
                continue;
            }
            let day = day_column(searcher.segment_reader(addr.segment_ord))(addr.doc_id);
            hits.push(Hit {
                id: id.to_string(),
                score: Some(score),
                day: (day != i64::MIN).then(|| day_of(day)).flatten(),
            });
        }
        for h in &mut hits {
            h.score = h.score.map(|s| s / own.max(f32::MIN_POSITIVE));
        }
        Ok(hits.into_iter().skip(offset).take(limit).collect())
    }

    /// `similar` as it was before (tantivy's MoreLikeThis: its words unweighted in the query,
    /// newest first among equal scores), kept for the benchmark's side-by-side.
    pub fn similar_more_like_this(
        &self,
        paper: &StoredPaper,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let f = &self.fields;
        let p = &paper.paper;
        // tantivy's MoreLikeThis weighs a word by its document frequency, deleted copies of
        // replaced papers included, against the live papers only, and panics when the first
        // exceeds the second: no word in more papers than there are is taken.
        let live = self.reader.searcher().num_docs();
        let like = MoreLikeThisQuery::builder()
            .with_max_doc_frequency(live)
            .with_min_doc_frequency(2)
            .with_min_term_frequency(1)
            .with_min_word_length(3)
            .with_max_query_terms(MORE_LIKE_THIS_WORDS)
            .with_document_fields(vec![
                (f.title, vec![OwnedValue::Str(p.title.clone())]),
                (
                    f.abstract_text,
                    vec![OwnedValue::Str(p.abstract_text.clone())],
                ),
            ]);
        let query = BooleanQuery::new(vec![
            (Occur::Must, Box::new(like) as Box<dyn Query>),
            (
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.id, p.id.as_str()),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        self.collect(&query, Sort::Relevance, offset, limit)
    }

    fn collect(
        &self,
        query: &dyn Query,
        sort: Sort,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let by_score = sort == Sort::Relevance;
        // Ordered by (score, day): newest first counts every score the same, so the day decides.
        let order = TopDocs::with_limit(limit.max(1))
            .and_offset(offset)
            .tweak_score(move |segment: &SegmentReader| {
                let days = day_column(segment);
                move |doc: DocId, score: Score| (if by_score { score } else { 0.0 }, days(doc))
            });
        let found = searcher.search(query, &order)?;
        let mut hits = Vec::with_capacity(found.len());
        for ((score, day), addr) in found {
            let score = by_score.then_some(score);
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) else {
                continue;
            };
            hits.push(Hit {
                id: id.to_string(),
                score,
                day: (day != i64::MIN).then(|| day_of(day)).flatten(),
            });
        }
        // Equal scores on the same day come in the index's own order, which differs between
        // two indexes of the same papers (segments are named at random): the id decides, so a
        // restored store's index answers as the original's did.
        hits.sort_by(|a, b| {
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.day.cmp(&a.day))
                .then(b.id.cmp(&a.id))
        });
        Ok(hits)
    }

    /// `e` as tantivy's query, clause for clause: what it selects is what `Expr::matches`
    /// selects; words score by BM25, a title match above an abstract match, filters not at all.
    fn compile(&self, e: &Expr) -> Box<dyn Query> {
        let f = self.fields;
        match e {
            Expr::And(v) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = v
                    .iter()
                    .map(|c| match c {
                        Expr::Not(inner) => (Occur::MustNot, self.compile(inner)),
                        c => (Occur::Must, self.compile(c)),
                    })
                    .collect();
                // tantivy's boolean query of exclusions alone matches nothing.
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    clauses.push((Occur::Must, filter(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Expr::Or(v) => Box::new(BooleanQuery::new(
                v.iter().map(|c| (Occur::Should, self.compile(c))).collect(),
            )),
            Expr::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, filter(AllQuery)),
                (Occur::MustNot, self.compile(inner)),
            ])),
            Expr::Words(t, place) => {
                let places: &[(Field, f32)] = match place {
                    Place::Title => &[(f.title, 1.0)],
                    Place::Abstract => &[(f.abstract_text, 1.0)],
                    Place::Anywhere => &[(f.title, TITLE_BOOST), (f.abstract_text, 1.0)],
                };
                any(places
                    .iter()
                    .map(|&(field, boost)| {
                        Box::new(BoostQuery::new(words(field, t), boost)) as Box<dyn Query>
                    })
                    .collect())
            }
            Expr::Author { words, .. } => phrase(f.authors, words, None),
            Expr::Category(c) => filter(TermQuery::new(
                Term::from_field_text(f.categories, c),
                IndexRecordOption::Basic,
            )),
            Expr::After(d) => filter(RangeQuery::new(
                Bound::Included(Term::from_field_i64(f.day, day_number(*d))),
                Bound::Unbounded,
            )),
            Expr::Before(d) => filter(RangeQuery::new(
                Bound::Unbounded,
                Bound::Excluded(Term::from_field_i64(f.day, day_number(*d))),
            )),
        }
    }
}

/// BM25's statistics for a similar-papers query, its words' document frequencies already
/// looked up.
struct KnownFrequencies<'a> {
    searcher: &'a tantivy::Searcher,
    field: Field,
    df: HashMap<String, u64>,
    docs: u64,
    tokens: u64,
}

impl Bm25StatisticsProvider for KnownFrequencies<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        if field == self.field {
            return Ok(self.tokens);
        }
        self.searcher.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        match term.value().as_str() {
            Some(w) if term.field() == self.field => match self.df.get(w) {
                Some(&n) => Ok(n),
                None => self.searcher.doc_freq(term),
            },
            _ => self.searcher.doc_freq(term),
        }
    }
}

/// Whether a word tells something of a paper: not a common word, a number or a scrap.
fn telling(w: &str) -> bool {
    w.chars().count() >= 3
        && !w.bytes().all(|b| b.is_ascii_digit())
        && !crate::query::STOPWORDS.contains(&w)
}

/// A clause that selects without scoring.
fn filter(q: impl Query) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(Box::new(q), 0.0))
}

fn any(alternatives: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        alternatives
            .into_iter()
            .map(|q| (Occur::Should, q))
            .collect(),
    ))
}

/// A term of the query in one field: its words in a row, the last in any of its forms (itself
/// and its plurals, or any word it starts, for a prefix), as `Term::last_matches` says.
fn words(field: Field, t: &QueryTerm) -> Box<dyn Query> {
    if t.prefix {
        // A query word is letters and digits only: nothing in it is special to a pattern.
        let pattern = format!("{}.*", t.last());
        return match RegexQuery::from_pattern(&pattern, field) {
            Ok(q) => Box::new(q),
            Err(_) => Box::new(BooleanQuery::new(vec![])),
        };
    }
    let last = t.last();
    any([last.to_string(), format!("{last}s"), format!("{last}es")]
        .into_iter()
        .map(|form| phrase(field, &t.words, Some(&form)))
        .collect())
}

/// `words` in a row in `field` (the last replaced by `last` when given).
fn phrase(field: Field, words: &[String], last: Option<&str>) -> Box<dyn Query> {
    let n = words.len();
    let mut terms: Vec<Term> = words
        .iter()
        .map(|w| Term::from_field_text(field, w))
        .collect();
    if let Some(l) = last {
        terms[n - 1] = Term::from_field_text(field, l);
    }
    if n == 1 {
        return Box::new(TermQuery::new(
            terms.remove(0),
            IndexRecordOption::WithFreqs,
        ));
    }
    Box::new(PhraseQuery::new(terms))
}

/// A segment's announcement days (`i64::MIN` for a paper without one).
fn day_column(segment: &SegmentReader) -> impl Fn(DocId) -> i64 + use<> {
    let column = segment.fast_fields().i64("day").ok();
    move |doc| {
        column
            .as_ref()
            .and_then(|c| c.first(doc))
            .unwrap_or(i64::MIN)
    }
}

fn dir_error(dir: &Path, source: std::io::Error) -> SearchError {
    SearchError::Dir {
        path: dir.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::parse;

    fn store_with(dir: &Path, days: &[(u32, std::ops::Range<usize>)]) -> Store {
        let store = Store::open(&dir.join("data")).unwrap();
        for (day, ids) in days {
            crate::store::ingest_test_day(&store, *day, ids.clone());
        }
        store
    }

    /// Indexes `papers` again as a catch-up replaces changed papers (their old copies stay in
    /// the segments, deleted, until a merge) and makes it searchable.
    fn replace_indexed(index: &SearchIndex, papers: &[StoredPaper]) {
        let mut writing = index.writing.lock().unwrap();
        let writer = writing.writer.as_mut().unwrap();
        for sp in papers {
            writer.delete_term(Term::from_field_text(index.fields.id, sp.paper.id.as_str()));
            index.add(writer, sp).unwrap();
        }
        writer.commit().unwrap();
        index.reader.reload().unwrap();
    }

    fn ids(hits: &[Hit]) -> Vec<String> {
        hits.iter().map(|h| h.id.clone()).collect()
    }

    #[test]
    fn the_index_follows_the_store_and_ranks_title_matches_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), &[(18, 0..200)]);
        let index = SearchIndex::open(&SearchIndex::dir_for(&dir.path().join("data"))).unwrap();
        let first = index.catch_up(&store).unwrap();
        assert_eq!(first.rebuilt, Some(200));
        assert_eq!(index.len(), 200);
        assert_eq!(
            store.changes_since(0, 10).unwrap(),
            vec![],
            "the log is pruned"
        );
        // Title words find papers with those title words first (generated titles repeat, so
        // the best hits tie: each of them has them).
        let some = store.recent_by_category("cs.CV", 1).unwrap().remove(0);
        let words: Vec<&str> = some.paper.title.split_whitespace().take(4).collect();
        let q = parse(&words.join(" ")).unwrap();
        let hits = index.search(&q, Sort::Relevance, 0, 5).unwrap();
        assert!(
            hits.windows(2).all(|w| w[0].score >= w[1].score),
            "{hits:?}"
        );
        let title = |id: &str| {
            let pid = crate::model::paper::PaperId::parse(id).unwrap();
            store.paper(&pid).unwrap().unwrap().paper.title
        };
        let head = words.join(" ");
        assert!(
            hits.iter().take(3).all(|h| title(&h.id).starts_with(&head)),
            "{hits:?}"
        );
        // The next day arrives through the change log, not a rebuild.
        drop(index);
        let store2 = store;
        let topics = crate::config::Config::shipped().topic_set().unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 11, 19).unwrap();
        let doc = paperbell_testkit::arxiv::day_feed(day, 1000..1050);
        store2
            .ingest(
                &crate::sources::parse(doc.as_bytes()).unwrap().papers,
                &topics,
            )
            .unwrap();
        let index = SearchIndex::open(&SearchIndex::dir_for(&dir.path().join("data"))).unwrap();
        let next = index.catch_up(&store2).unwrap();
        assert_eq!((next.rebuilt, next.updated), (None, 50));
        assert_eq!(index.len(), 250);
        // Newest first, and a date filter.
        let all = parse("cat:cs.CV").unwrap();
        let newest = index.search(&all, Sort::Relevance, 0, 3).unwrap();
        assert!(
            newest
                .iter()
                .all(|h| h.day == Some(day) && h.score.is_none())
        );
        let before = parse("cat:cs.CV before:2024-11-19").unwrap();
        let old = index.search(&before, Sort::Newest, 0, 500).unwrap();
        assert!(!old.is_empty() && old.iter().all(|h| h.day < Some(day)));
        // Every id found is a stored paper; paging does not repeat.
        let page1 = ids(&index.search(&all, Sort::Newest, 0, 10).unwrap());
        let page2 = ids(&index.search(&all, Sort::Newest, 10, 10).unwrap());
        assert!(page1.iter().all(|id| !page2.contains(id)));
        for id in page1.iter().chain(&page2) {
            let pid = crate::model::paper::PaperId::parse(id).unwrap();
            assert!(store2.paper(&pid).unwrap().is_some());
        }
        // A snippet shows where the words matched in the abstract.
        let word = "splatting";
        let q = parse(word).unwrap();
        let in_abstract = parse("abs:splatting").unwrap();
        let hit = index.search(&in_abstract, Sort::Relevance, 0, 1).unwrap();
        let sp = store2
            .paper(&crate::model::paper::PaperId::parse(&hit[0].id).unwrap())
            .unwrap()
            .unwrap();
        let abstracts = [sp.paper.abstract_text.as_str(), "nothing of the kind here"];
        let snips = crate::search::snippets(&q, &abstracts);
        let s = snips[0].as_ref().expect("the abstract has the word");
        assert!(s.text.chars().count() <= crate::search::SNIPPET_CHARS);
        assert!(
            !s.marks.is_empty()
                && s.marks
                    .iter()
                    .all(|r| s.text[r.clone()].to_lowercase().starts_with("splat")),
            "{s:?}"
        );
        assert_eq!(snips[1], None);
        // Similar papers: not the paper itself.
        let like = index.similar(&some, 0, 5).unwrap();
        assert!(!like.is_empty() && like.iter().all(|h| h.id != some.paper.id.as_str()));
    }

    #[test]
    fn similar_papers_with_replaced_papers_still_in_the_segments() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), &[(18, 0..30)]);
        let index = SearchIndex::open(&SearchIndex::dir_for(&dir.path().join("data"))).unwrap();
        index.catch_up(&store).unwrap();
        // Every paper replaced once, as new versions are: the old copies stay in the
        // segments, deleted, until a merge drops them.
        let papers = store.recent_by_category("cs.CV", 100).unwrap();
        replace_indexed(&index, &papers);
        assert_eq!(index.len(), 30, "the replaced copies are not counted");
        // A word of every paper now has more documents than there are live papers: tantivy's
        // MoreLikeThis would panic on it.
        for sp in papers.iter().take(5) {
            let like = index.similar(sp, 0, 5).unwrap();
            assert!(like.iter().all(|h| h.id != sp.paper.id.as_str()));
        }
    }

    #[test]
    fn phrases_match_exactly_across_a_left_out_stopword() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), &[(18, 0..20)]);
        let index = SearchIndex::open(&SearchIndex::dir_for(&dir.path().join("data"))).unwrap();
        index.catch_up(&store).unwrap();
        let mut sp = store.recent_by_category("cs.CV", 1).unwrap().remove(0);
        sp.paper.title = "Segment Anything in the Wild".into();
        replace_indexed(&index, std::slice::from_ref(&sp));
        let found = |q: &str| {
            ids(&index
                .search(&parse(q).unwrap(), Sort::Relevance, 0, 5)
                .unwrap())
            .contains(&sp.paper.id.to_string())
        };
        assert!(found("\"segment anything in the wild\""));
        assert!(found("ti:\"anything in the wild\""));
        // The words are there, but not at those distances.
        assert!(!found("\"segment the wild\""));
        assert!(!found("\"wild anything\""));
    }

    #[test]
    fn a_damaged_or_missing_index_is_rebuilt_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), &[(18, 0..60)]);
        let at = SearchIndex::dir_for(&dir.path().join("data"));
        SearchIndex::open(&at).unwrap().catch_up(&store).unwrap();
        std::fs::write(at.join("meta.json"), b"{ not json").unwrap();
        let index = SearchIndex::open(&at).unwrap();
        assert_eq!(index.catch_up(&store).unwrap().rebuilt, Some(60));
        std::fs::remove_dir_all(&at).unwrap();
        let index = SearchIndex::open(&at).unwrap();
        assert_eq!(index.catch_up(&store).unwrap().rebuilt, Some(60));
        assert_eq!(index.len(), 60);
    }
}
