//! Backups and restores: one file holding every durable record of the store at one instant
//! (`format` says the bytes), written crash-safely beside its final name, and read back into
//! a new data directory with the search index rebuilt. `schedule` is the service's job that
//! takes them on its own and keeps the newest few.

pub mod format;
pub mod schedule;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::search::{SearchError, SearchIndex};
use crate::store::{self, Store, StoreError};
use format::{FormatError, Frames, Header, Part, Reader, Trailer};

/// zstd's level: its default, about as fast as the store reads on these machines' cores.
const LEVEL: i32 = 3;
/// A backup file's name ends so; `schedule` keeps and removes only such files.
pub const SUFFIX: &str = ".pbbackup";
const PARTIAL: &str = ".partial-";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Something the operator can mend (a path taken, a bad file): exit code 2.
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Format { path: String, source: FormatError },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rebuilding the search index: {0}")]
    Search(#[from] SearchError),
}

impl BackupError {
    /// Whether the operator's input was refused (exit 2) rather than the machine failing.
    pub fn is_refusal(&self) -> bool {
        matches!(self, BackupError::Refused(_) | BackupError::Format { .. })
    }
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

/// A backup written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub path: PathBuf,
    pub bytes: u64,
    pub trailer: Trailer,
    /// How long the store's writes waited (while its files were copied).
    pub held: std::time::Duration,
}

impl Taken {
    /// What a person reads: where, how large, how many of each.
    pub fn report(&self) -> String {
        format!(
            "backup written: {} ({}; the store's writes waited {:.2} s)\n{}",
            self.path.display(),
            human_bytes(self.bytes),
            self.held.as_secs_f64(),
            counts(&self.trailer.families)
        )
    }
}

fn counts(families: &BTreeMap<String, u64>) -> String {
    families
        .iter()
        .map(|(f, n)| format!("  {n:>9} {f}\n"))
        .collect()
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

/// The name of a backup taken at `at`: sorting names sorts them by time.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("paperbell-{}{SUFFIX}", at.format("%Y%m%dT%H%M%SZ"))
}

/// Where a backup goes: `out` as given, else a new name in `dir`. An existing file is never
/// overwritten.
fn target(out: Option<&Path>, dir: &Path, at: DateTime<Utc>) -> Result<PathBuf, BackupError> {
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => dir.join(file_name(at)),
    };
    if path.exists() {
        return Err(BackupError::Refused(format!(
            "{} already exists: a backup never overwrites a file",
            path.display()
        )));
    }
    Ok(path)
}

/// A backup to `out`, or to a new file in `dir`, whose oldest backups beyond `keep` then go
/// (0 keeps all): what `paperbell backup` does, in the service or on its own.
pub fn take_to(
    store: &Store,
    out: Option<&Path>,
    dir: &Path,
    keep: usize,
    now: DateTime<Utc>,
) -> Result<Taken, BackupError> {
    let taken = take(store, &target(out, dir, now)?, now)?;
    if out.is_none() {
        schedule::prune(dir, keep);
    }
    Ok(taken)
}

/// Writes a backup of `store` as it is now to `path` (which must not exist): under a
/// temporary name in the same directory, synced, then renamed, so the path holds a whole
/// backup or nothing. Writes to the store wait while its files are copied; reads go on.
pub fn take(store: &Store, path: &Path, now: DateTime<Utc>) -> Result<Taken, BackupError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
    let name = path
        .file_name()
        .ok_or_else(|| BackupError::Refused(format!("{} names no file", path.display())))?;
    let partial = dir.join(format!(
        ".{}{PARTIAL}{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = write(store, &partial, now).and_then(|(trailer, held)| {
        fs::rename(&partial, path).map_err(io("cannot rename the backup to", path))?;
        // The rename itself is durable once the directory is synced.
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io("cannot sync", &dir))?;
        let bytes = fs::metadata(path).map_err(io("cannot read", path))?.len();
        Ok(Taken {
            path: path.to_path_buf(),
            bytes,
            trailer,
            held,
        })
    });
    if written.is_err() {
        let _ = fs::remove_file(&partial);
    }
    written
}

/// The records of one instant: the store's files are copied (writes wait that long) beside
/// `path`, and the copy is read and dropped, so the memory a full read takes in sled is the
/// copy's and goes with it.
fn write(
    store: &Store,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<(Trailer, std::time::Duration), BackupError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let copy_dir = dir.join(format!(".paperbell-snapshot-{}", std::process::id()));
    let _ = fs::remove_dir_all(&copy_dir);
    let started = std::time::Instant::now();
    let written = store
        .copy_files(&copy_dir)
        .map_err(BackupError::from)
        .and_then(|_| {
            let held = started.elapsed();
            // A small page cache: the copy is read once, in order.
            let copy = Store::open_restoring(&copy_dir, 4)?;
            Ok((write_records(&copy, path, now)?, held))
        });
    let _ = fs::remove_dir_all(&copy_dir);
    give_back_memory();
    written
}

/// Returns freed memory to the system: glibc keeps what a large read freed otherwise.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The records of `store`, compressed on a second thread while this one reads them.
fn write_records(store: &Store, path: &Path, now: DateTime<Utc>) -> Result<Trailer, BackupError> {
    let file = File::create(path).map_err(io("cannot create", path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let header = Header {
        paperbell: store::PAPERBELL_VERSION.to_string(),
        schema: store::SCHEMA_VERSION,
        created: now.to_rfc3339(),
    };
    out.write_all(&format::header_bytes(&header))
        .map_err(io("cannot write", path))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
    let (read, compressed) = std::thread::scope(|s| {
        let writer = s.spawn(|| -> std::io::Result<BufWriter<File>> {
            let mut out = out;
            for raw in rx {
                out.write_all(&format::frame_bytes(&raw, LEVEL)?)?;
            }
            Ok(out)
        });
        let mut frames = Frames::new(store::family);
        // A closed channel means the writer failed: its error is the one reported.
        let stopped = || BackupError::Io {
            what: "cannot write",
            path: path.display().to_string(),
            source: std::io::Error::other("the compressing thread stopped"),
        };
        let read = store
            .snapshot(|k, v| -> Result<(), BackupError> {
                match frames.push(k, v) {
                    Some(raw) => tx.send(raw).map_err(|_| stopped()),
                    None => Ok(()),
                }
            })
            .and_then(|snapshot| {
                if let Some(raw) = frames.rest() {
                    tx.send(raw).map_err(|_| stopped())?;
                }
                Ok(Trailer {
                    next_id: snapshot.next_id,
                    ..frames.trailer
                })
            });
        drop(tx);
        let compressed = writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (read, compressed)
    });
    let mut out = compressed.map_err(io("cannot write", path))?;
    let trailer = read?;
    out.write_all(&format::trailer_bytes(&trailer))
        .map_err(io("cannot write", path))?;
    let file = out
        .into_inner()
        .map_err(|e| io("cannot write", path)(e.into_error()))?;
    file.sync_all().map_err(io("cannot sync", path))?;
    Ok(trailer)
}

/// A backup read back into a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub data: PathBuf,
    pub header: Header,
    pub trailer: Trailer,
    /// Papers the rebuilt search index holds.
    pub indexed: u64,
}

impl Restored {
    pub fn report(&self) -> String {
        format!(
            "restored {} records (backup of {} by paperbell {}) into {}; search index rebuilt ({} papers)\n{}",
            self.trailer.records,
            self.header.created,
            self.header.paperbell,
            self.data.display(),
            self.indexed,
            counts(&self.trailer.families)
        )
    }
}

/// Reads `file` whole, checking every frame, before anything is created: a damaged, cut or
/// foreign file, or one from a newer paperbell, is refused here.
pub fn check(file: &Path) -> Result<(Header, Trailer), BackupError> {
    let mut reader = open_reader(file)?;
    let format_error = |source| BackupError::Format {
        path: file.display().to_string(),
        source,
    };
    let header = reader.header.clone();
    if store::newer_version(&header.paperbell, store::PAPERBELL_VERSION)
        || header.schema > store::SCHEMA_VERSION
    {
        return Err(BackupError::Refused(format!(
            "{} was made by paperbell {} (store schema {}), newer than this paperbell {}: restore it with that version or newer",
            file.display(),
            header.paperbell,
            header.schema,
            store::PAPERBELL_VERSION
        )));
    }
    loop {
        if let Part::End(trailer) = reader.next_part().map_err(format_error)? {
            return Ok((header, trailer));
        }
    }
}

fn open_reader(file: &Path) -> Result<Reader<BufReader<File>>, BackupError> {
    let f = File::open(file).map_err(io("cannot open", file))?;
    Reader::open(BufReader::with_capacity(1 << 20, f), store::family).map_err(|source| {
        BackupError::Format {
            path: file.display().to_string(),
            source,
        }
    })
}

/// Restores `file` into `data`, which must not exist or be empty; the search index is
/// rebuilt. The file is read whole and checked before anything is created. While the store is
/// written, a marker file in it (`store::RESTORING`) keeps it from being opened; a failure
/// leaves `data` as it was (gone, or empty).
pub fn restore(file: &Path, data: &Path, cache_mb: u64) -> Result<Restored, BackupError> {
    let existed = data.exists();
    if existed {
        let empty = data.is_dir()
            && fs::read_dir(data)
                .map_err(io("cannot read", data))?
                .next()
                .is_none();
        if !empty {
            return Err(BackupError::Refused(format!(
                "{} exists and is not an empty directory: restore into a new one (--data DIR); nothing was touched",
                data.display()
            )));
        }
    }
    let (header, trailer) = check(file)?;
    // In place rather than renamed into place: a data directory is often a mount point (a
    // Docker volume), which cannot be renamed onto.
    let marker = data.join(store::RESTORING);
    let done = fs::create_dir_all(data)
        .and_then(|()| File::create(&marker)?.sync_all())
        .map_err(io("cannot create", &marker))
        .and_then(|()| build(file, data, &trailer, cache_mb))
        .and_then(|indexed| {
            fs::remove_file(&marker).map_err(io("cannot remove", &marker))?;
            File::open(data)
                .and_then(|d| d.sync_all())
                .map_err(io("cannot sync", data))?;
            Ok(indexed)
        });
    match done {
        Ok(indexed) => Ok(Restored {
            data: data.to_path_buf(),
            header,
            trailer,
            indexed,
        }),
        Err(e) => {
            if existed {
                if let Ok(entries) = fs::read_dir(data) {
                    for e in entries.flatten() {
                        let p = e.path();
                        let _ = if p.is_dir() {
                            fs::remove_dir_all(&p)
                        } else {
                            fs::remove_file(&p)
                        };
                    }
                }
            } else {
                let _ = fs::remove_dir_all(data);
            }
            Err(e)
        }
    }
}

/// The store and its index in `dir`, from the (checked) backup; the papers indexed.
fn build(file: &Path, dir: &Path, trailer: &Trailer, cache_mb: u64) -> Result<u64, BackupError> {
    {
        let store = Store::open_restoring(dir, cache_mb)?;
        store.begin_restore()?;
        let mut reader = open_reader(file)?;
        loop {
            let next = reader.next_part().map_err(|source| BackupError::Format {
                path: file.display().to_string(),
                source,
            })?;
            match next {
                Part::Records(records) => {
                    store.load_records(records)?;
                }
                Part::End(_) => break,
            }
        }
        store.set_next_id(trailer.next_id)?;
        store.flush()?;
    }
    // Opened again, so the upgrades an older backup needs run on its records.
    let store = Store::open_restoring(dir, cache_mb)?;
    let index = SearchIndex::open(&SearchIndex::dir_for(dir))?;
    let caught = index.catch_up(&store)?;
    let indexed = caught.rebuilt.map(|n| n as u64).unwrap_or_default();
    store.flush()?;
    Ok(indexed)
}
