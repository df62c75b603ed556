//! `paperbell export --format html`: the archive's pages, feeds and charts as files with
//! relative links, for GitHub Pages and the like. Every path comes from `Links` (ids escaped),
//! and is checked to stay inside the output directory.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;
use paperbell_chat::Lang;

use super::links::Links;
use super::site::{Made, Place, Site, SiteError};

/// What an export wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Exported {
    pub pages: usize,
    pub papers: usize,
    pub files: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: a page's path would leave the output directory")]
    Outside(String),
}

/// Writes the site into `out`: the home page, each topic's pages of the announcement days in
/// the last `days` days up to the newest stored one (and its newest page), its feed and chart,
/// and a page for every paper those pages list. English; the served site adds Chinese.
pub fn export_site(site: &Site, out: &Path, days: u32) -> Result<Exported, ExportError> {
    let store = &site.archive.store;
    let floor = store
        .latest_day()?
        .map(|n| n - chrono::Duration::days(days.max(1) as i64 - 1));
    let mut done = Exported::default();
    let mut papers = BTreeSet::new();
    let root = Links::files("");
    let lang = Lang::En;
    let page = |path: &str| Links::files(path).since(floor);
    let write = |done: &mut Exported, path: &str, text: &str| -> Result<(), ExportError> {
        write_file(out, path, text)?;
        done.files += 1;
        Ok(())
    };
    let home = root.home();
    let links = page(&home);
    let at = Place::exported(&links);
    write(&mut done, &home, &site.home(&at)?)?;
    done.pages += 1;
    for t in &site.archive.topics.topics {
        let mut wanted: Vec<Option<NaiveDate>> = vec![None];
        if let Some(f) = floor {
            wanted.extend(
                store
                    .topic_day_counts(&t.id, f)?
                    .into_iter()
                    .map(|(d, _)| Some(d)),
            );
        }
        for day in wanted {
            let path = root.topic(&t.id, day);
            let links = page(&path);
            let at = Place::exported(&links);
            let Some(list) = site
                .archive
                .topic_day(&t.id, day, lang, &links)
                .map_err(SiteError::from)?
            else {
                continue;
            };
            papers.extend(list.papers.iter().map(|p| p.id.clone()));
            write(&mut done, &path, &site.topic_html(&at, list)?)?;
            done.pages += 1;
        }
        let feed_path = root.feed(&t.id);
        if let Made::Page(feed) = site.feed(&t.id, &page(&feed_path))? {
            write(&mut done, &feed_path, &feed)?;
        }
        if let Made::Page(svg) = site.chart(&t.id)? {
            write(&mut done, &root.chart(&t.id), &svg)?;
        }
    }
    for id in &papers {
        let path = root.paper(id);
        let links = page(&path);
        let at = Place::exported(&links);
        if let Made::Page(html) = site.paper(&at, id)? {
            write(&mut done, &path, &html)?;
            done.papers += 1;
        }
    }
    Ok(done)
}

/// Writes `text` at `rel` under `out`, refusing any path that is not plain names going down.
fn write_file(out: &Path, rel: &str, text: &str) -> Result<(), ExportError> {
    let rel_path = Path::new(rel);
    if rel.is_empty()
        || !rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(ExportError::Outside(rel.to_string()));
    }
    let path: PathBuf = out.join(rel_path);
    let io = |source| ExportError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(&path, text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_path_climbs_out_of_the_output() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x.html", "/etc/x", "a/../../x", ""] {
            assert!(
                matches!(
                    write_file(dir.path(), bad, "x"),
                    Err(ExportError::Outside(_))
                ),
                "{bad}"
            );
        }
        write_file(dir.path(), "papers/hep-th/9901001.html", "ok").unwrap();
        assert!(dir.path().join("papers/hep-th/9901001.html").exists());
    }
}
