//! How the index reads text. Title, abstract and author names are read as the query language
//! reads them (`WORDS`: `crate::query::words`, nothing left out, no stems), so that the index
//! selects exactly the papers the topic matcher does. Readers' taste models read English:
//! lower-cased simple tokens,
//! overlong ones dropped, the query language's stopwords left out (their positions kept, so
//! phrases still match exactly), and Snowball English stems remembered per word. Stemming was
//! a third of indexing time (perf, 69k papers), and stopwords are words no search needs.

use std::cell::RefCell;

use crate::model::weigh::{ByteCache, byte_cache};
use crate::query::STOPWORDS;
use tantivy::tokenizer::{
    Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
    TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// Bytes of words and their stems remembered per thread (about 30,000 words), the least
/// used going first.
const MEMO_BYTES: u64 = 2 << 20;

thread_local! {
    /// Word to stem, per thread: tantivy's indexing threads live as long as the index's writer
    /// and clone the analyzer for every segment, so a memo in the analyzer would start cold
    /// for each fetch's small segment; one per thread needs no lock.
    static MEMO: RefCell<ByteCache<String, String>> =
        RefCell::new(byte_cache(MEMO_BYTES, 64));
}

/// The English analyzer taste models read papers with.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOPWORDS.iter().map(|w| w.to_string()),
        ))
        .filter(MemoStem)
        .build()
}

/// Each word of `text` as English is read here (stopwords left out, stemmed), with where it
/// stands in `text`: for readers' taste models, whose words are stems (`relighting` and
/// `relight` are one taste).
pub fn for_each_word(text: &str, mut f: impl FnMut(&str, std::ops::Range<usize>)) {
    thread_local! {
        static ANALYZER: RefCell<TextAnalyzer> = RefCell::new(analyzer());
    }
    ANALYZER.with_borrow_mut(|a| {
        let mut s = a.token_stream(text);
        while s.advance() {
            let t = s.token();
            f(&t.text, t.offset_from..t.offset_to);
        }
    });
}

/// The name the index gives the query language's words as a tokenizer.
pub const WORDS: &str = "paperbell_words";

/// `crate::query::words` as a tantivy tokenizer: the same words at consecutive positions.
#[derive(Clone, Default)]
pub struct QueryWords {
    token: Token,
}

impl Tokenizer for QueryWords {
    type TokenStream<'a> = QueryWordsStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> QueryWordsStream<'a> {
        self.token.reset();
        QueryWordsStream {
            words: crate::query::words(text),
            token: &mut self.token,
            next_position: 0,
        }
    }
}

pub struct QueryWordsStream<'a> {
    words: crate::query::Words<'a>,
    token: &'a mut Token,
    next_position: usize,
}

impl TokenStream for QueryWordsStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(w) = self.words.next() else {
            return false;
        };
        self.token.text.clear();
        self.token.text.push_str(&w.text);
        self.token.offset_from = w.at.start;
        self.token.offset_to = w.at.end;
        self.token.position = self.next_position;
        self.token.position_length = 1;
        self.next_position += 1;
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[derive(Clone, Copy)]
struct MemoStem;

impl TokenFilter for MemoStem {
    type Tokenizer<T: Tokenizer> = MemoStemFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MemoStemFilter<T> {
        MemoStemFilter {
            inner,
            stem: one_word_stemmer(),
        }
    }
}

fn one_word_stemmer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(Stemmer::new(Language::English))
        .build()
}

#[derive(Clone)]
struct MemoStemFilter<T> {
    inner: T,
    stem: TextAnalyzer,
}

impl<T: Tokenizer> Tokenizer for MemoStemFilter<T> {
    type TokenStream<'a> = MemoStemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoStemStream {
            tail: self.inner.token_stream(text),
            stem: &mut self.stem,
        }
    }
}

struct MemoStemStream<'a, S> {
    tail: S,
    stem: &'a mut TextAnalyzer,
}

impl<S: TokenStream> TokenStream for MemoStemStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let stem = &mut *self.stem;
        MEMO.with_borrow_mut(|memo| {
            if let Some(stemmed) = memo.get(token.text.as_str()) {
                token.text.clear();
                token.text.push_str(stemmed);
                return;
            }
            let stemmed = {
                let mut one = stem.token_stream(&token.text);
                if one.advance() {
                    one.token().text.clone()
                } else {
                    token.text.clone()
                }
            };
            let word = std::mem::replace(&mut token.text, stemmed.clone());
            memo.insert(word, stemmed);
        });
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenizerManager;

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        let mut s = a.token_stream(text);
        while s.advance() {
            let t = s.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    #[test]
    fn stems_as_tantivy_does_whether_remembered_or_not_and_leaves_out_stopwords() {
        let mut theirs = TokenizerManager::default().get("en_stem").unwrap();
        let mut ours = analyzer();
        let text = "Relighting Gaussian Splatting: running runners ran; GENERALIZES generalization \
                    of NeRFs in the 3D-scenes, with a veryveryveryveryveryveryveryveryverylongword";
        let all = tokens(&mut theirs, text);
        let expected: Vec<_> = all
            .iter()
            .filter(|(w, ..)| !STOPWORDS.contains(&w.as_str()))
            .cloned()
            .collect();
        assert!(expected.len() < all.len());
        // Twice: the second pass answers from the memo.
        for _ in 0..2 {
            assert_eq!(tokens(&mut ours, text), expected);
        }
        let mut copy = ours.clone();
        assert_eq!(tokens(&mut copy, text), expected);
    }
}
