//! Backup and restore benchmark (a bench command, not criterion): a store of the real arXiv
//! papers of `../shared/data` (or, with `--papers N`, an archive grown to N papers as
//! `benches/search.rs` grows it) with its search index and topic days' keywords, then the real
//! binary's `paperbell backup --out FILE` and `paperbell restore FILE --data DIR` timed, the
//! file's size beside the store's, and the restored store checked (`recent` and `search`
//! print the same as on the original).
//!
//! `cargo bench --bench backup [-- --papers 1000000]`; `BENCH_TMP=DIR` puts the stores there.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use support::archive::archive_store;

fn paperbell(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_paperbell"));
    c.arg("--config")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/paperbell.toml"
        ))
        .arg("--data")
        .arg(data);
    c
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => dir_bytes(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let grow: Option<usize> = support::arg("--papers").and_then(|d| d.parse().ok());
    let dir = tempfile::tempdir_in(std::env::var("BENCH_TMP").unwrap_or("/tmp".into())).unwrap();
    let Some(files) = support::archive::archive_feeds(dir.path(), grow, None) else {
        return;
    };
    let data = dir.path().join("data");
    let t = Instant::now();
    let n = archive_store(&data, &files);
    let _ = std::fs::remove_dir_all(dir.path().join("feeds"));
    let _ = std::fs::remove_file(dir.path().join("papers.jsonl"));
    println!(
        "store of {n} papers, with its search index, made in {:.0} s: {:.0} MB on disk ({:.0} MB without the index)",
        t.elapsed().as_secs_f64(),
        dir_bytes(&data) as f64 / 1e6,
        (dir_bytes(&data) - dir_bytes(&data.join("search"))) as f64 / 1e6
    );
    let file = dir.path().join("store.pbbackup");
    let t = Instant::now();
    let said = run(paperbell(&data).arg("backup").arg("--out").arg(&file));
    let took = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&file).unwrap().len();
    println!(
        "backup: {took:.1} s, {:.0} MB ({:.0} MB/s of file)\n{said}",
        size as f64 / 1e6,
        size as f64 / 1e6 / took
    );
    let restored = dir.path().join("restored");
    let t = Instant::now();
    let said = run(paperbell(&restored).arg("restore").arg(&file));
    println!(
        "restore with the search index rebuilt: {:.1} s\n{}",
        t.elapsed().as_secs_f64(),
        said.lines().next().unwrap_or("")
    );
    for args in [
        &["recent", "cs.CV", "-n", "50"][..],
        &["search", "diffusion", "model", "-n", "20", "--json"][..],
    ] {
        let (a, b) = (
            run(paperbell(&data).args(args)),
            run(paperbell(&restored).args(args)),
        );
        println!(
            "`{}` on the restored store: {}",
            args.join(" "),
            if a == b { "the same" } else { "DIFFERS" }
        );
    }
}
