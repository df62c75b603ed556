//! The backup file, byte for byte: a versioned header, frames of records compressed with
//! zstd and each checked by CRC-32, and a trailer that counts what came before it. Reading
//! and writing over `std::io`, no file system and no store here.
//!
//! ```text
//! magic     16 bytes   "PAPERBELL-BACKUP"
//! version   u16 LE     FORMAT_VERSION
//! header    u32 LE length, JSON (`Header`), u32 LE CRC-32 of the JSON
//! frame*    b'R', u32 LE raw length, u32 LE compressed length, u32 LE CRC-32 of the
//!           compressed bytes, the compressed bytes (zstd). Raw: records, each a LEB128
//!           key length, the key, a LEB128 value length, the value.
//! trailer   b'E', u32 LE length, JSON (`Trailer`), u32 LE CRC-32 of the JSON; then the file ends
//! ```
//!
//! A damaged byte anywhere fails a CRC (or the magic, or a length's bound); a file cut short
//! has no trailer; the trailer's counts must equal what was read.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

pub const MAGIC: &[u8; 16] = b"PAPERBELL-BACKUP";
/// The layout this build writes; it reads every version up to it.
pub const FORMAT_VERSION: u16 = 1;
/// Raw bytes a frame collects before it is compressed.
pub const FRAME_BYTES: usize = 1 << 20;
/// No header, trailer or frame of a good file is longer: a damaged length is caught before
/// anything is allocated for it.
const MAX_JSON: u32 = 1 << 20;
const MAX_FRAME: u32 = 256 << 20;
const FRAME: u8 = b'R';
const END: u8 = b'E';

/// One record: its key and value.
pub type Record = (Vec<u8>, Vec<u8>);

/// What the next part of a file held.
#[derive(Debug)]
pub enum Part {
    /// A frame's records.
    Records(Vec<Record>),
    /// The trailer, checked: the file ended there.
    End(Trailer),
}

/// What the file says of itself before its records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The paperbell version that wrote the backup.
    pub paperbell: String,
    /// The store's schema version then.
    pub schema: u8,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created: String,
}

/// What the file says of itself after its records; checked against what was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    pub records: u64,
    pub frames: u64,
    /// Records per family (`store::family`), for people.
    pub families: BTreeMap<String, u64>,
    /// The store's id generator starts here when restored.
    pub next_id: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error(
        "not a paperbell backup (it does not start with {:?})",
        String::from_utf8_lossy(MAGIC)
    )]
    NotABackup,
    #[error(
        "made by a newer paperbell (backup format {0}; this paperbell reads up to {FORMAT_VERSION})"
    )]
    NewerFormat(u16),
    #[error("damaged at byte {at}: {what}")]
    Damaged { at: u64, what: String },
    #[error("cut short at byte {at}: {what} (an unfinished or truncated backup)")]
    Truncated { at: u64, what: String },
    #[error("{0}")]
    Io(#[from] io::Error),
}

fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_len(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends one record to a frame's raw bytes.
pub fn put_record(raw: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    put_len(raw, k.len());
    raw.extend_from_slice(k);
    put_len(raw, v.len());
    raw.extend_from_slice(v);
}

/// The file's first bytes: magic, version and header.
pub fn header_bytes(h: &Header) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    json_block(&mut out, None, h);
    out
}

/// A frame of raw records, compressed and checked.
pub fn frame_bytes(raw: &[u8], level: i32) -> io::Result<Vec<u8>> {
    let z = zstd::bulk::compress(raw, level)?;
    let mut out = Vec::with_capacity(13 + z.len());
    out.push(FRAME);
    put_u32(&mut out, raw.len() as u32);
    put_u32(&mut out, z.len() as u32);
    put_u32(&mut out, crc(&z));
    out.extend_from_slice(&z);
    Ok(out)
}

/// The file's last bytes.
pub fn trailer_bytes(t: &Trailer) -> Vec<u8> {
    let mut out = Vec::new();
    json_block(&mut out, Some(END), t);
    out
}

fn json_block(out: &mut Vec<u8>, tag: Option<u8>, v: &impl Serialize) {
    let json = serde_json::to_vec(v).expect("backup header and trailer serialise");
    out.extend(tag);
    put_u32(out, json.len() as u32);
    out.extend_from_slice(&json);
    put_u32(out, crc(&json));
}

/// Reads a backup from its start, checking every byte as it goes.
pub struct Reader<R> {
    input: R,
    at: u64,
    pub header: Header,
    frames: u64,
    records: u64,
    families: BTreeMap<String, u64>,
    family: fn(&[u8]) -> &'static str,
}

impl<R: Read> Reader<R> {
    /// Reads the magic, version and header. `family` names a key's family, to check the
    /// trailer's counts.
    pub fn open(mut input: R, family: fn(&[u8]) -> &'static str) -> Result<Self, FormatError> {
        let mut magic = [0; 16];
        match input.read_exact(&mut magic) {
            Ok(()) if &magic == MAGIC => {}
            Ok(()) => return Err(FormatError::NotABackup),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(FormatError::NotABackup);
            }
            Err(e) => return Err(e.into()),
        }
        let mut r = Reader {
            input,
            at: 16,
            header: Header {
                paperbell: String::new(),
                schema: 0,
                created: String::new(),
            },
            frames: 0,
            records: 0,
            families: BTreeMap::new(),
            family,
        };
        let version = u16::from_le_bytes(r.exact::<2>("the format version")?);
        if version > FORMAT_VERSION {
            return Err(FormatError::NewerFormat(version));
        }
        r.header = r.json("the header")?;
        Ok(r)
    }

    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<(), FormatError> {
        match self.input.read_exact(buf) {
            Ok(()) => {
                self.at += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(FormatError::Truncated {
                at: self.at,
                what: format!("{what} is missing"),
            }),
            Err(e) => Err(e.into()),
        }
    }

    fn exact<const N: usize>(&mut self, what: &str) -> Result<[u8; N], FormatError> {
        let mut b = [0; N];
        self.fill(&mut b, what)?;
        Ok(b)
    }

    fn u32(&mut self, what: &str) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.exact::<4>(what)?))
    }

    fn damaged(&self, what: impl Into<String>) -> FormatError {
        FormatError::Damaged {
            at: self.at,
            what: what.into(),
        }
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, what: &str) -> Result<T, FormatError> {
        let len = self.u32(what)?;
        if len > MAX_JSON {
            return Err(self.damaged(format!("{what}'s length {len} is out of bounds")));
        }
        let mut json = vec![0; len as usize];
        self.fill(&mut json, what)?;
        let sum = self.u32(what)?;
        if crc(&json) != sum {
            return Err(self.damaged(format!("{what} fails its checksum")));
        }
        serde_json::from_slice(&json).map_err(|e| self.damaged(format!("{what}: {e}")))
    }

    /// The next frame's records, or the trailer (checked: counts equal, nothing after it).
    pub fn next_part(&mut self) -> Result<Part, FormatError> {
        let [tag] = self.exact::<1>("the trailer")?;
        match tag {
            FRAME => {}
            END => {
                let t: Trailer = self.json("the trailer")?;
                if t.records != self.records
                    || t.frames != self.frames
                    || t.families != self.families
                {
                    return Err(self.damaged(format!(
                        "the trailer counts {} records in {} frames, the file holds {} in {}",
                        t.records, t.frames, self.records, self.frames
                    )));
                }
                let mut more = [0; 1];
                if self.input.read(&mut more)? != 0 {
                    return Err(self.damaged("bytes follow the trailer"));
                }
                return Ok(Part::End(t));
            }
            other => return Err(self.damaged(format!("a frame starts with byte {other:#04x}"))),
        }
        let start = self.at - 1;
        let raw_len = self.u32("a frame's length")?;
        let z_len = self.u32("a frame's length")?;
        let sum = self.u32("a frame's checksum")?;
        if raw_len > MAX_FRAME || z_len > MAX_FRAME {
            return Err(self.damaged("a frame's length is out of bounds"));
        }
        let mut z = vec![0; z_len as usize];
        self.fill(&mut z, "a frame")?;
        if crc(&z) != sum {
            return Err(FormatError::Damaged {
                at: start,
                what: format!("frame {} fails its checksum", self.frames + 1),
            });
        }
        let raw = zstd::bulk::decompress(&z, raw_len as usize).map_err(|e| {
            self.damaged(format!(
                "frame {} does not decompress: {e}",
                self.frames + 1
            ))
        })?;
        if raw.len() != raw_len as usize {
            return Err(self.damaged(format!("frame {} has the wrong length", self.frames + 1)));
        }
        let records = split_records(&raw).ok_or_else(|| {
            self.damaged(format!("frame {}'s records do not read", self.frames + 1))
        })?;
        self.frames += 1;
        self.records += records.len() as u64;
        for (k, _) in &records {
            *self
                .families
                .entry((self.family)(k).to_string())
                .or_default() += 1;
        }
        Ok(Part::Records(records))
    }
}

fn get_len(raw: &[u8], at: &mut usize) -> Option<usize> {
    let mut v: usize = 0;
    for shift in (0..64).step_by(7) {
        let byte = *raw.get(*at)?;
        *at += 1;
        v |= ((byte & 0x7f) as usize).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn split_records(raw: &[u8]) -> Option<Vec<Record>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let kl = get_len(raw, &mut at)?;
        let k = raw.get(at..at.checked_add(kl)?)?.to_vec();
        at += kl;
        let vl = get_len(raw, &mut at)?;
        let v = raw.get(at..at.checked_add(vl)?)?.to_vec();
        at += vl;
        out.push((k, v));
    }
    Some(out)
}

/// Records gathered into frames' raw bytes and counted for the trailer: what every writer of
/// a backup does between reading records and compressing frames.
pub struct Frames {
    raw: Vec<u8>,
    family: fn(&[u8]) -> &'static str,
    /// The trailer as far as the records go (`frames` counts the frames handed out).
    pub trailer: Trailer,
}

impl Frames {
    pub fn new(family: fn(&[u8]) -> &'static str) -> Frames {
        Frames {
            raw: Vec::with_capacity(FRAME_BYTES + 4096),
            family,
            trailer: Trailer::default(),
        }
    }

    /// Adds a record; a frame's raw bytes once it is full.
    pub fn push(&mut self, k: &[u8], v: &[u8]) -> Option<Vec<u8>> {
        put_record(&mut self.raw, k, v);
        self.trailer.records += 1;
        let family = (self.family)(k);
        match self.trailer.families.get_mut(family) {
            Some(n) => *n += 1,
            None => {
                self.trailer.families.insert(family.to_string(), 1);
            }
        }
        (self.raw.len() >= FRAME_BYTES).then(|| self.take())
    }

    /// The last frame's raw bytes, if any records are left.
    pub fn rest(&mut self) -> Option<Vec<u8>> {
        (!self.raw.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> Vec<u8> {
        self.trailer.frames += 1;
        std::mem::replace(&mut self.raw, Vec::with_capacity(FRAME_BYTES + 4096))
    }
}

/// Writes a whole backup of `records` to `out` in one thread (the tests' way; the service
/// compresses on a second thread: `crate::backup`).
pub fn write_all(
    out: &mut impl Write,
    header: &Header,
    records: &[Record],
    next_id: u64,
    family: fn(&[u8]) -> &'static str,
) -> io::Result<Trailer> {
    out.write_all(&header_bytes(header))?;
    let mut frames = Frames::new(family);
    for (k, v) in records {
        if let Some(raw) = frames.push(k, v) {
            out.write_all(&frame_bytes(&raw, 3)?)?;
        }
    }
    if let Some(raw) = frames.rest() {
        out.write_all(&frame_bytes(&raw, 3)?)?;
    }
    let trailer = Trailer {
        next_id,
        ..frames.trailer
    };
    out.write_all(&trailer_bytes(&trailer))?;
    Ok(trailer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(k: &[u8]) -> &'static str {
        if k.first() == Some(&b'p') {
            "papers"
        } else {
            "other"
        }
    }

    fn sample() -> (Vec<u8>, Vec<Record>) {
        let records: Vec<_> = (0..3000u32)
            .map(|i| {
                let k = format!("p{i:06}").into_bytes();
                // Large enough for several frames: 3000 x ~700 bytes.
                let v =
                    format!("{i} {}", "abstract words ".repeat(45 + (i % 7) as usize)).into_bytes();
                (k, v)
            })
            .chain([(b"mschema".to_vec(), vec![1]), (vec![b'x'], Vec::new())])
            .collect();
        let header = Header {
            paperbell: "0.1.0".into(),
            schema: 1,
            created: "2026-12-06T10:00:00+00:00".into(),
        };
        let mut file = Vec::new();
        write_all(&mut file, &header, &records, 42, family).unwrap();
        (file, records)
    }

    fn read(file: &[u8]) -> Result<(Vec<Record>, Trailer), FormatError> {
        let mut r = Reader::open(file, family)?;
        let mut all = Vec::new();
        loop {
            match r.next_part()? {
                Part::Records(records) => all.extend(records),
                Part::End(t) => return Ok((all, t)),
            }
        }
    }

    #[test]
    fn what_is_written_reads_back_the_same_in_several_frames() {
        let (file, records) = sample();
        let (back, t) = read(&file).unwrap();
        assert_eq!(back, records);
        assert!(t.frames >= 2, "{t:?}");
        assert_eq!(t.next_id, 42);
        assert_eq!(t.families["papers"], 3000);
        assert_eq!(t.families["other"], 2);
    }

    #[test]
    fn every_damaged_byte_is_caught() {
        let (file, _) = sample();
        // Every byte of the header and trailer, and a spread of bytes through the frames.
        let step = (file.len() / 4000).max(1);
        let positions = (0..80)
            .chain((80..file.len()).step_by(step))
            .chain(file.len() - 80..file.len());
        for at in positions {
            let mut bad = file.clone();
            bad[at] ^= 0x20;
            assert!(
                read(&bad).is_err(),
                "a flipped bit at byte {at} went unnoticed"
            );
        }
    }

    #[test]
    fn a_file_cut_anywhere_is_refused_as_cut_short_or_not_a_backup() {
        let (file, _) = sample();
        let step = (file.len() / 500).max(1);
        for len in (0..file.len()).step_by(step).chain([file.len() - 1]) {
            match read(&file[..len]) {
                Err(FormatError::Truncated { .. }) | Err(FormatError::NotABackup) => {}
                other => panic!("cut at {len}: {:?}", other.map(|(r, t)| (r.len(), t))),
            }
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(read(&longer), Err(FormatError::Damaged { .. })));
    }

    #[test]
    fn a_foreign_file_or_a_newer_format_is_named_as_such() {
        assert!(matches!(
            read(b"SQLite format 3\0 and more"),
            Err(FormatError::NotABackup)
        ));
        assert!(matches!(read(b""), Err(FormatError::NotABackup)));
        let (mut file, _) = sample();
        file[16] = 9;
        assert!(matches!(read(&file), Err(FormatError::NewerFormat(9))));
    }
}
