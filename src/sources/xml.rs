//! The one XML walk shared by every arXiv format: a streaming pass with quick-xml over the
//! document that collects each `<entry>`/`<item>` into a `RawEntry` of borrowed-then-owned
//! strings, keyed by local names (so `arxiv:comment` and `comment` are the same field).
//! Format-specific meaning is given later by `arxiv_api` and `arxiv_feed`.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::ParseError;

/// The root element that decides the family of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `<feed>`: the API or the Atom flavour of the announcement feeds.
    Atom,
    /// `<rss>` (RSS 2.0) or `<rdf:RDF>` (the retired RSS 1.0 feeds).
    Rss,
}

#[derive(Debug, Default, Clone)]
pub struct RawLink {
    pub href: String,
    pub rel: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct RawEntry {
    /// 1-based line where the entry starts, for warnings.
    pub line: usize,
    pub id: Option<String>,
    pub guid: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub pub_date: Option<String>,
    pub link_text: Option<String>,
    pub links: Vec<RawLink>,
    pub authors: Vec<String>,
    pub creators: Vec<String>,
    pub categories: Vec<String>,
    pub primary_category: Option<String>,
    pub comment: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub announce_type: Option<String>,
}

#[derive(Debug, Default)]
pub struct RawDoc {
    pub root: Option<Root>,
    pub entries: Vec<RawEntry>,
    pub total_results: Option<String>,
    pub start_index: Option<String>,
    pub items_per_page: Option<String>,
    /// The RSS channel's `pubDate`: the announcement day, for items that lack their own.
    pub channel_pub_date: Option<String>,
}

/// Which field of the current entry (or the feed) the text being read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Guid,
    Title,
    Summary,
    Published,
    Updated,
    PubDate,
    LinkText,
    AuthorName,
    Creator,
    CategoryText,
    Comment,
    JournalRef,
    Doi,
    AnnounceType,
    TotalResults,
    StartIndex,
    ItemsPerPage,
    ChannelPubDate,
}

fn entry_field(local: &[u8]) -> Option<Field> {
    Some(match local {
        b"id" => Field::Id,
        b"guid" => Field::Guid,
        b"title" => Field::Title,
        b"summary" | b"description" => Field::Summary,
        b"published" => Field::Published,
        b"updated" => Field::Updated,
        b"pubDate" | b"date" => Field::PubDate,
        b"link" => Field::LinkText,
        b"creator" => Field::Creator,
        b"category" => Field::CategoryText,
        b"comment" => Field::Comment,
        // The API writes `arxiv:journal_ref`; the announcement feeds (RSS 2.0 and Atom) write
        // `arxiv:journal_reference`.
        b"journal_ref" | b"journal_reference" => Field::JournalRef,
        b"doi" | b"DOI" => Field::Doi,
        b"announce_type" => Field::AnnounceType,
        _ => return None,
    })
}

fn feed_field(local: &[u8]) -> Option<Field> {
    Some(match local {
        b"totalResults" => Field::TotalResults,
        b"startIndex" => Field::StartIndex,
        b"itemsPerPage" => Field::ItemsPerPage,
        b"pubDate" => Field::ChannelPubDate,
        _ => return None,
    })
}

/// 1-based (line, column) of a byte offset, for error messages people can act on.
pub fn line_col(doc: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(doc.len());
    let before = &doc.as_bytes()[..pos];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let col = pos - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1) + 1;
    (line, col)
}

fn invalid(doc: &str, pos: usize, reason: impl Into<String>) -> ParseError {
    let (line, column) = line_col(doc, pos);
    ParseError::Invalid {
        line,
        column,
        reason: reason.into(),
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref().as_bytes() == name)
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string())
        })
}

/// Walks the whole document. Fails on anything that is not well-formed XML, on a document that
/// ends early (a truncated download), and on a root element that is not a feed.
pub fn walk(doc: &str) -> Result<RawDoc, ParseError> {
    let mut reader = Reader::from_str(doc);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    let mut w = Walk::new(doc);
    loop {
        let pos = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = reader.error_position() as usize;
                let mut reason = e.to_string();
                if reader.buffer_position() as usize >= doc.len() {
                    reason.push_str(" (the document ends early: truncated?)");
                }
                return Err(invalid(doc, at, reason));
            }
        };
        match event {
            Event::Start(ref e) => w.start(e, false, pos)?,
            Event::Empty(ref e) => w.start(e, true, pos)?,
            Event::End(_) => w.end(),
            // Text outside a field is not even decoded.
            Event::Text(t) if w.capturing() => w.text(&t.xml10_content()),
            Event::CData(c) if w.capturing() => w.text(&c),
            Event::Text(_) | Event::CData(_) => {}
            Event::GeneralRef(r) => w.reference(&r, pos)?,
            Event::Eof => return w.finish(),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// Where the walk is in the document, and what it has read so far.
struct Walk<'d> {
    doc: &'d str,
    out: RawDoc,
    /// Depth of open elements.
    depth: usize,
    /// Each open element's start and name, for "ends inside <x>" messages.
    open: Vec<(usize, String)>,
    /// The entry being read, and the depth at which it was opened.
    entry: Option<(usize, RawEntry)>,
    in_author: bool,
    /// The field whose text is being collected, and its element's depth.
    capture: Option<(Field, usize)>,
    text: String,
    /// Entry line numbers, counted incrementally (recounting from the start is quadratic):
    /// the offset counted up to, and its line.
    line_at: usize,
    line_no: usize,
}

impl<'d> Walk<'d> {
    fn new(doc: &'d str) -> Walk<'d> {
        Walk {
            doc,
            out: RawDoc::default(),
            depth: 0,
            open: Vec::new(),
            entry: None,
            in_author: false,
            capture: None,
            text: String::new(),
            line_at: 0,
            line_no: 1,
        }
    }

    /// An element opens (or, `is_empty`, opens and closes) at byte `pos`.
    fn start(&mut self, e: &BytesStart<'_>, is_empty: bool, pos: usize) -> Result<(), ParseError> {
        let local = e.local_name();
        let local = local.as_ref().as_bytes();
        if self.depth == 0 {
            self.out.root = Some(root(self.doc, local, pos)?);
        }
        let this_depth = self.depth + 1;
        if self.entry.is_none() && (local == b"entry" || local == b"item") {
            self.line_no +=
                memchr::memchr_iter(b'\n', &self.doc.as_bytes()[self.line_at..pos]).count();
            self.line_at = pos;
            let en = RawEntry {
                line: self.line_no,
                ..RawEntry::default()
            };
            if is_empty {
                self.out.entries.push(en);
            } else {
                self.entry = Some((this_depth, en));
            }
        } else if let Some((edepth, ref mut en)) = self.entry {
            if this_depth == edepth + 1 {
                entry_child(en, e, local, is_empty, &mut self.in_author);
                if !is_empty
                    && self.capture.is_none()
                    && let Some(f) = entry_field(local)
                {
                    self.capture = Some((f, this_depth));
                    self.text.clear();
                }
            } else if self.in_author && this_depth == edepth + 2 && local == b"name" && !is_empty {
                self.capture = Some((Field::AuthorName, this_depth));
                self.text.clear();
            }
        } else if !is_empty
            && self.capture.is_none()
            && let Some(f) = feed_field(local)
        {
            self.capture = Some((f, this_depth));
            self.text.clear();
        }
        if !is_empty {
            self.depth = this_depth;
            self.open.push((pos, e.name().as_ref().to_string()));
        }
        Ok(())
    }

    /// The innermost open element closes.
    fn end(&mut self) {
        if let Some((f, d)) = self.capture
            && d == self.depth
        {
            self.capture = None;
            let value = std::mem::take(&mut self.text);
            store_field(
                &mut self.out,
                self.entry.as_mut().map(|(_, en)| en),
                f,
                value,
            );
        }
        if let Some((edepth, _)) = self.entry {
            if self.depth == edepth {
                let (_, done) = self.entry.take().expect("checked");
                self.out.entries.push(done);
                self.in_author = false;
            } else if self.depth == edepth + 1 {
                self.in_author = false;
            }
        }
        self.open.pop();
        self.depth -= 1;
    }

    /// Whether text here belongs to a field.
    fn capturing(&self) -> bool {
        self.capture.is_some()
    }

    fn text(&mut self, t: &str) {
        self.text.push_str(t);
    }

    /// A character or entity reference inside text.
    fn reference(
        &mut self,
        r: &quick_xml::events::BytesRef<'_>,
        pos: usize,
    ) -> Result<(), ParseError> {
        if self.capture.is_none() {
            return Ok(());
        }
        match r.resolve_char_ref() {
            Ok(Some(ch)) => self.text.push(ch),
            Ok(None) => match quick_xml::escape::resolve_predefined_entity(r) {
                Some(s) => self.text.push_str(s),
                // Not well-formed XML, but losing a day's feed over `&nbsp;` helps nobody:
                // keep the reference as written.
                None => {
                    self.text.push('&');
                    self.text.push_str(r);
                    self.text.push(';');
                }
            },
            Err(e) => return Err(invalid(self.doc, pos, e.to_string())),
        }
        Ok(())
    }

    /// The document ended: whole, or cut inside an element.
    fn finish(self) -> Result<RawDoc, ParseError> {
        if let Some((start, name)) = self.open.last() {
            let (line, _) = line_col(self.doc, *start);
            return Err(invalid(
                self.doc,
                self.doc.len(),
                format!("document ends inside <{name}> opened on line {line} (truncated?)"),
            ));
        }
        if self.out.root.is_none() {
            return Err(invalid(
                self.doc,
                self.doc.len(),
                "no root element: the document is empty or not XML",
            ));
        }
        Ok(self.out)
    }
}

/// The kind of document its root element says it is.
fn root(doc: &str, local: &[u8], pos: usize) -> Result<Root, ParseError> {
    match local {
        b"feed" => Ok(Root::Atom),
        b"rss" | b"RDF" => Ok(Root::Rss),
        other => Err(invalid(
            doc,
            pos,
            format!(
                "root element <{}> is not an arXiv API or feed document",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// What an entry's child element holds in its attributes (links, categories), and whether an
/// author opens.
fn entry_child(
    en: &mut RawEntry,
    e: &BytesStart<'_>,
    local: &[u8],
    is_empty: bool,
    in_author: &mut bool,
) {
    match local {
        b"author" => *in_author = !is_empty,
        b"link" => {
            if let Some(href) = attr(e, b"href") {
                en.links.push(RawLink {
                    href,
                    rel: attr(e, b"rel"),
                    title: attr(e, b"title"),
                });
            }
        }
        b"primary_category" => en.primary_category = attr(e, b"term"),
        b"category" => {
            if let Some(term) = attr(e, b"term") {
                en.categories.push(term);
            }
        }
        _ => {}
    }
}

fn store_field(doc: &mut RawDoc, entry: Option<&mut RawEntry>, f: Field, v: String) {
    match (entry, f) {
        (_, Field::TotalResults) => doc.total_results = Some(v),
        (_, Field::StartIndex) => doc.start_index = Some(v),
        (_, Field::ItemsPerPage) => doc.items_per_page = Some(v),
        (_, Field::ChannelPubDate) => doc.channel_pub_date = Some(v),
        (None, _) => {}
        (Some(e), f) => match f {
            Field::Id => e.id = Some(v),
            Field::Guid => e.guid = Some(v),
            Field::Title => e.title = Some(v),
            Field::Summary => e.summary = Some(v),
            Field::Published => e.published = Some(v),
            Field::Updated => e.updated = Some(v),
            Field::PubDate => e.pub_date = Some(v),
            Field::LinkText => {
                if !v.trim().is_empty() {
                    e.link_text = Some(v)
                }
            }
            Field::AuthorName => e.authors.push(v),
            Field::Creator => e.creators.push(v),
            Field::CategoryText => {
                if !v.trim().is_empty() {
                    e.categories.push(v)
                }
            }
            Field::Comment => e.comment = Some(v),
            Field::JournalRef => e.journal_ref = Some(v),
            Field::Doi => e.doi = Some(v),
            Field::AnnounceType => e.announce_type = Some(v),
            Field::TotalResults
            | Field::StartIndex
            | Field::ItemsPerPage
            | Field::ChannelPubDate => {}
        },
    }
}
