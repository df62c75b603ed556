//! Where the archive's pages are: one place that turns a page into the href another page
//! links it by, for the served site (absolute paths) and for the exported files (relative).

use std::fmt::Write as _;

use chrono::NaiveDate;
use paperbell_chat::Lang;

/// How pages link to each other.
#[derive(Debug, Clone)]
pub struct Links {
    site: Site,
    /// Served: `?lang=zh` when the reader chose a language by the query (kept on every link).
    query: String,
    /// Exported: the oldest announcement day that has pages (older days link to the topic's
    /// newest page instead, so every link resolves).
    floor: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
enum Site {
    /// `paperbell run`'s listener: `/topics/nerf/2024-11-20`.
    Served,
    /// Files of `paperbell export --format html`, from a page `depth` directories down:
    /// `../topics/nerf/2024-11-20.html`.
    Files { up: String },
}

impl Links {
    /// Links of the served pages; `lang` when the reader chose it with `?lang=`.
    pub fn served(lang: Option<Lang>) -> Links {
        Links {
            site: Site::Served,
            query: lang.map_or(String::new(), |l| format!("?lang={}", l.code())),
            floor: None,
        }
    }

    /// Links from an exported file at `path` (relative to the site's root, as returned by
    /// these methods on `Links::files("")`).
    pub fn files(path: &str) -> Links {
        Links {
            site: Site::Files {
                up: "../".repeat(path.matches('/').count()),
            },
            query: String::new(),
            floor: None,
        }
    }

    /// These links with no page for days before `floor` (an export of the last days).
    pub fn since(mut self, floor: Option<NaiveDate>) -> Links {
        self.floor = floor;
        self
    }

    /// Whether `day` has pages of its own.
    pub fn shows(&self, day: NaiveDate) -> bool {
        self.floor.is_none_or(|f| day >= f)
    }

    /// Whether these are the served pages (search and language links exist only there).
    pub fn served_site(&self) -> bool {
        matches!(self.site, Site::Served)
    }

    pub fn home(&self) -> String {
        self.page("", "index.html")
    }

    /// A topic's page of one announcement day, or its newest day.
    pub fn topic(&self, id: &str, day: Option<NaiveDate>) -> String {
        let id = segment(id);
        match day.filter(|d| self.shows(*d)) {
            Some(d) => self.page(
                &format!("topics/{id}/{d}"),
                &format!("topics/{id}/{d}.html"),
            ),
            None => self.page(&format!("topics/{id}"), &format!("topics/{id}/index.html")),
        }
    }

    pub fn paper(&self, id: &str) -> String {
        // Old-style ids (`hep-th/9901001`) keep their slash: a directory in the export.
        let id: Vec<String> = id.split('/').map(segment).collect();
        let id = id.join("/");
        self.page(&format!("papers/{id}"), &format!("papers/{id}.html"))
    }

    pub fn feed(&self, id: &str) -> String {
        self.file(&format!("topics/{}/feed.atom", segment(id)))
    }

    pub fn chart(&self, id: &str) -> String {
        self.file(&format!("topics/{}/chart.svg", segment(id)))
    }

    /// The search page (served only); `None` in the export.
    pub fn search(&self) -> Option<String> {
        self.served_site().then(|| "/search".to_string())
    }

    /// A page of results for `q` on the search page (served only), keeping the language the
    /// reader chose.
    pub fn search_page(&self, q: &str, page: u32) -> String {
        let mut s = String::from("/search?q=");
        s.extend(form_urlencoded::byte_serialize(q.as_bytes()));
        if page > 0 {
            let _ = write!(s, "&page={page}");
        }
        if let Some(lang) = self.query.strip_prefix('?') {
            s.push('&');
            s.push_str(lang);
        }
        s
    }

    /// The same page in `lang` (served only).
    pub fn in_lang(&self, path: &str, lang: Lang) -> String {
        format!("{path}?lang={}", lang.code())
    }

    fn page(&self, served: &str, file: &str) -> String {
        match &self.site {
            Site::Served => format!("/{served}{}", self.query),
            Site::Files { up } => format!("{up}{file}"),
        }
    }

    /// A file that is the same on both sites (feeds and charts carry no language).
    fn file(&self, path: &str) -> String {
        match &self.site {
            Site::Served => format!("/{path}"),
            Site::Files { up } => format!("{up}{path}"),
        }
    }
}

/// A path segment as it may appear in a link: letters, digits, `.`, `-` and `_` as they are,
/// anything else percent-encoded (so no id can add a directory or leave one).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, b) in s.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if plain {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_and_file_links_name_the_same_pages() {
        let day = NaiveDate::from_ymd_opt(2024, 11, 20);
        let served = Links::served(None);
        assert_eq!(served.topic("nerf", day), "/topics/nerf/2024-11-20");
        assert_eq!(served.paper("hep-th/9901001"), "/papers/hep-th/9901001");
        assert_eq!(
            Links::served(Some(Lang::Zh)).topic("nerf", None),
            "/topics/nerf?lang=zh"
        );
        let page = Links::files("").paper("hep-th/9901001");
        assert_eq!(page, "papers/hep-th/9901001.html");
        let from = Links::files(&page);
        assert_eq!(from.topic("nerf", day), "../../topics/nerf/2024-11-20.html");
        assert_eq!(from.home(), "../../index.html");
        assert_eq!(from.feed("nerf"), "../../topics/nerf/feed.atom");
        assert_eq!(Links::files("index.html").home(), "index.html");
        let floor = NaiveDate::from_ymd_opt(2024, 11, 21);
        assert_eq!(
            Links::files("index.html").since(floor).topic("nerf", day),
            "topics/nerf/index.html"
        );
    }

    #[test]
    fn search_pages_keep_the_query_and_the_chosen_language() {
        assert_eq!(
            Links::served(Some(Lang::Zh)).search_page("au:\"Kaiming He\" nerf&x", 2),
            "/search?q=au%3A%22Kaiming+He%22+nerf%26x&page=2&lang=zh"
        );
        assert_eq!(Links::served(None).search_page("nerf", 0), "/search?q=nerf");
    }

    #[test]
    fn ids_cannot_climb_out_of_their_directory() {
        assert_eq!(segment(".."), "%2E.");
        assert_eq!(segment("a/b"), "a%2Fb");
        assert_eq!(
            Links::files("").paper("../etc/passwd"),
            "papers/%2E./etc/passwd.html"
        );
        assert_eq!(segment("2407.11422"), "2407.11422");
    }
}
