//! First renders of the web's pages, in process, for `valgrind --tool=callgrind`: instruction
//! counts are the same run after run, where the web bench's wall times move by a fifth on this
//! machine. Renders the last 60 announcement days of every shipped topic and 300 paper pages of
//! a store (no page cache, no index). Make the store from the shared data first, then count:
//!
//! ```sh
//! python3 ../shared/data/to_rss.py ../shared/data/arxiv-papers.jsonl.gz /tmp/feeds
//! paperbell --data /tmp/store fetch $(for f in /tmp/feeds/*.xml; do echo --from-file $f; done)
//! cargo bench --bench first_pages --no-run
//! valgrind --tool=callgrind target/release/deps/first_pages-<hash> /tmp/store
//! ```
//!
//! `first_pages-<hash> /tmp/store papers` makes the newest days' 3,000 paper pages only.
use std::sync::Arc;

fn main() {
    let Some(dir) = std::env::args().nth(1).filter(|a| !a.starts_with('-')) else {
        println!(
            "first_pages: give a store's directory (see the file's comment); nothing to count"
        );
        return;
    };
    let store = Arc::new(paperbell::store::Store::open(std::path::Path::new(&dir)).unwrap());
    let topics = paperbell::config::Config::shipped().topic_set().unwrap();
    let site = paperbell::web::Site::new(paperbell::web::Archive {
        store: store.clone(),
        topics: Arc::new(topics.clone()),
        search: None,
    });
    let links = paperbell::web::links::Links::served(None);
    let at = paperbell::web::site::Place {
        links: &links,
        path: "/",
        lang: paperbell_chat::Lang::En,
        lang_param: false,
    };
    let mut bytes = 0usize;
    let mut pages = 0usize;
    // `papers`: paper pages only, the newest days' 3,000, for a profile of paper pages.
    let papers_only = std::env::args().nth(2).as_deref() == Some("papers");
    let mut day = store.latest_day().unwrap();
    let mut days = 0;
    while let Some(d) = day.filter(|_| papers_only) {
        for sp in store.papers_between(d, d).unwrap() {
            if let Ok(paperbell::web::site::Made::Page(p)) = site.paper(&at, sp.paper.id.as_str()) {
                bytes += p.len();
                pages += 1;
            }
        }
        if pages >= 3000 {
            println!("{pages} paper pages, {bytes} bytes");
            return;
        }
        day = store.day_before(d).unwrap();
    }
    while let Some(d) = day {
        if days == 60 {
            break;
        }
        for t in &topics.topics {
            if let Ok(paperbell::web::site::Made::Page(p)) = site.topic(&at, &t.id, Some(d)) {
                bytes += p.len();
                pages += 1;
            }
        }
        days += 1;
        day = store.day_before(d).unwrap();
    }
    let papers = store
        .papers_between(
            store.latest_day().unwrap().unwrap(),
            store.latest_day().unwrap().unwrap(),
        )
        .unwrap();
    for sp in papers.iter().take(300) {
        if let Ok(paperbell::web::site::Made::Page(p)) = site.paper(&at, sp.paper.id.as_str()) {
            bytes += p.len();
            pages += 1;
        }
    }
    println!("{pages} pages, {bytes} bytes");
}
