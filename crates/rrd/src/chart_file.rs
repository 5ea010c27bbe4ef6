//! The on-disk image of one chart for the `save` and `map` memory modes.
//!
//! netdata 1.37 keeps one file per dimension (`CACHE/GUID/CHART/DIM.db`) and maps each of them,
//! which costs one memory mapping per dimension. tributary keeps **one file per chart**:
//!
//! ```text
//! 0      header (256 bytes, little endian): magic, version, entries, update_every,
//!        dimension capacity and count, current_entry, counter, last_updated,
//!        usec_since_last_update, and a checksum of all of these
//! 256    dimension directory: capacity × 128 bytes (id length, id hash, the id's first
//!        96 bytes, last collected value, largest collected value)
//! DATA   rings: capacity × entries × u32, dimension by dimension (DATA is 4 KiB aligned)
//! ```
//!
//! A file whose magic, version, checksum, geometry or size is wrong is *corrupt*: the caller
//! logs its path and moves it aside (`*.corrupt`), then starts the chart empty.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TRIBRRD\0";
const VERSION: u32 = 1;
/// Size of the fixed header.
pub const HEADER_SIZE: usize = 256;
/// Size of one dimension directory entry.
pub const DIM_ENTRY_SIZE: usize = 128;
const ID_BYTES: usize = 96;

/// The chart-level fields a file keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileHeader {
    /// Ring length.
    pub entries: u32,
    /// Seconds per slot.
    pub update_every: u32,
    /// Dimensions the file has room for.
    pub dim_capacity: u32,
    /// Dimensions in use.
    pub dim_count: u32,
    /// Ring position of the next slot.
    pub current_entry: u32,
    /// Slots written since the last reset.
    pub counter: u64,
    /// Time of the newest slot, seconds.
    pub last_updated: i64,
    /// Duration of the last collection, µs.
    pub usec_since_last_update: i64,
}

/// One dimension's entry in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DimEntry {
    /// Hash of the full id (ids longer than 96 bytes are matched by it).
    pub id_hash: u64,
    /// Length of the full id.
    pub id_len: u16,
    /// The id, truncated to 96 bytes.
    pub id_prefix: Vec<u8>,
    /// Last collected value.
    pub last_collected: i64,
    /// Largest |collected| ever seen (decides 32- or 64-bit counter wraps).
    pub collected_max: u64,
}

impl DimEntry {
    /// The entry of a dimension id.
    pub fn for_id(id: &str) -> DimEntry {
        let b = id.as_bytes();
        DimEntry {
            id_hash: fnv1a(b),
            id_len: b.len().min(u16::MAX as usize) as u16,
            id_prefix: b[..b.len().min(ID_BYTES)].to_vec(),
            last_collected: 0,
            collected_max: 0,
        }
    }

    /// True when this entry belongs to dimension `id`.
    pub fn matches(&self, id: &str) -> bool {
        let b = id.as_bytes();
        self.id_hash == fnv1a(b)
            && usize::from(self.id_len) == b.len().min(u16::MAX as usize)
            && self.id_prefix == b[..b.len().min(ID_BYTES)]
    }
}

/// Why a chart file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ChartFileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file is not a valid chart image.
    #[error("{path}: corrupt chart database file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// 64-bit FNV-1a, used for the id hash and the header checksum.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Byte offset of the rings in a file with `dim_capacity` directory entries.
pub fn data_offset(dim_capacity: usize) -> usize {
    (HEADER_SIZE + dim_capacity * DIM_ENTRY_SIZE).div_ceil(4096) * 4096
}

/// Total size of a file.
pub fn file_size(dim_capacity: usize, entries: usize) -> usize {
    data_offset(dim_capacity) + dim_capacity * entries * 4
}

/// Writes `h` into the first [`HEADER_SIZE`] bytes of `buf`.
pub fn encode_header(h: &FileHeader, buf: &mut [u8]) {
    let b = &mut buf[..HEADER_SIZE];
    b.fill(0);
    b[0..8].copy_from_slice(MAGIC);
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    b[12..16].copy_from_slice(&h.entries.to_le_bytes());
    b[16..20].copy_from_slice(&h.update_every.to_le_bytes());
    b[20..24].copy_from_slice(&h.dim_capacity.to_le_bytes());
    b[24..28].copy_from_slice(&h.dim_count.to_le_bytes());
    b[28..32].copy_from_slice(&h.current_entry.to_le_bytes());
    b[32..40].copy_from_slice(&h.counter.to_le_bytes());
    b[40..48].copy_from_slice(&h.last_updated.to_le_bytes());
    b[48..56].copy_from_slice(&h.usec_since_last_update.to_le_bytes());
    let sum = fnv1a(&b[..56]);
    b[56..64].copy_from_slice(&sum.to_le_bytes());
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads and checks the header of a file of `len` bytes.
pub fn decode_header(buf: &[u8], len: usize) -> Result<FileHeader, &'static str> {
    if buf.len() < HEADER_SIZE {
        return Err("truncated header");
    }
    if &buf[0..8] != MAGIC {
        return Err("bad magic");
    }
    if u32_at(buf, 8) != VERSION {
        return Err("unknown version");
    }
    if fnv1a(&buf[..56]) != u64_at(buf, 56) {
        return Err("header checksum mismatch");
    }
    let h = FileHeader {
        entries: u32_at(buf, 12),
        update_every: u32_at(buf, 16),
        dim_capacity: u32_at(buf, 20),
        dim_count: u32_at(buf, 24),
        current_entry: u32_at(buf, 28),
        counter: u64_at(buf, 32),
        last_updated: u64_at(buf, 40) as i64,
        usec_since_last_update: u64_at(buf, 48) as i64,
    };
    if h.entries == 0 || h.update_every == 0 || h.dim_count > h.dim_capacity {
        return Err("impossible geometry");
    }
    if h.current_entry >= h.entries {
        return Err("ring position out of range");
    }
    if len != file_size(h.dim_capacity as usize, h.entries as usize) {
        return Err("size does not match its geometry (truncated?)");
    }
    Ok(h)
}

/// Writes directory entry `i`.
pub fn encode_dim(e: &DimEntry, i: usize, buf: &mut [u8]) {
    let at = HEADER_SIZE + i * DIM_ENTRY_SIZE;
    let b = &mut buf[at..at + DIM_ENTRY_SIZE];
    b.fill(0);
    b[0..2].copy_from_slice(&e.id_len.to_le_bytes());
    b[2..10].copy_from_slice(&e.id_hash.to_le_bytes());
    b[10..18].copy_from_slice(&e.last_collected.to_le_bytes());
    b[18..26].copy_from_slice(&e.collected_max.to_le_bytes());
    let n = e.id_prefix.len().min(ID_BYTES);
    b[32..32 + n].copy_from_slice(&e.id_prefix[..n]);
}

/// Reads directory entry `i`.
pub fn decode_dim(buf: &[u8], i: usize) -> DimEntry {
    let at = HEADER_SIZE + i * DIM_ENTRY_SIZE;
    let b = &buf[at..at + DIM_ENTRY_SIZE];
    let id_len = u16::from_le_bytes([b[0], b[1]]);
    let n = usize::from(id_len).min(ID_BYTES);
    DimEntry {
        id_len,
        id_hash: u64_at(b, 2),
        last_collected: u64_at(b, 10) as i64,
        collected_max: u64_at(b, 18),
        id_prefix: b[32..32 + n].to_vec(),
    }
}

/// Reads a whole file into memory (for `save` mode).
pub fn read_file(path: &Path) -> Result<Vec<u8>, ChartFileError> {
    let mut f = File::open(path).map_err(|source| ChartFileError::Io {
        path: path.into(),
        source,
    })?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|source| ChartFileError::Io {
            path: path.into(),
            source,
        })?;
    Ok(buf)
}

/// Writes `bytes` to `path` atomically: a temporary file, fsync, rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ChartFileError> {
    let err = |source| ChartFileError::Io {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    fs::rename(&tmp, path).map_err(err)
}

/// Moves a corrupt file aside as `NAME.corrupt` so that it is kept for inspection.
pub fn set_aside(path: &Path) -> PathBuf {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".corrupt");
    let aside = PathBuf::from(aside);
    if fs::rename(path, &aside).is_err() {
        let _removed = fs::remove_file(path);
    }
    aside
}

/// A file name for a chart id: characters other than `[A-Za-z0-9._-]` become `_`, and a hash of
/// the id keeps two ids that sanitise alike apart.
pub fn file_name_for(chart_id: &str) -> String {
    let clean: String = chart_id
        .chars()
        .take(120)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{clean}-{:08x}.db", fnv1a(chart_id.as_bytes()) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_detects_damage() {
        let h = FileHeader {
            entries: 3996,
            update_every: 1,
            dim_capacity: 8,
            dim_count: 3,
            current_entry: 17,
            counter: 99,
            last_updated: 1_795_574_027,
            usec_since_last_update: 1_000_000,
        };
        let size = file_size(8, 3996);
        let mut buf = vec![0u8; size];
        encode_header(&h, &mut buf);
        assert_eq!(decode_header(&buf, size), Ok(h));
        assert!(decode_header(&buf, size - 4).is_err(), "truncated");
        buf[33] ^= 1;
        assert_eq!(decode_header(&buf, size), Err("header checksum mismatch"));
        assert_eq!(decode_header(&[0u8; 10], 10), Err("truncated header"));
    }

    #[test]
    fn dim_entries_match_long_ids() {
        let long = "x".repeat(300);
        let e = DimEntry::for_id(&long);
        let mut buf = vec![0u8; file_size(2, 10)];
        encode_dim(&e, 1, &mut buf);
        let back = decode_dim(&buf, 1);
        assert!(back.matches(&long));
        assert!(!back.matches(&"x".repeat(299)));
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_ne!(file_name_for("disk_space./"), file_name_for("disk_space._"));
        assert!(!file_name_for("a/../b").contains('/'));
    }
}
