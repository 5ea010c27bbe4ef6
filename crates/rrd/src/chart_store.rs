//! Where one chart's samples live, per memory mode: nowhere (`none`), in compressed
//! [`PagedRing`]s (`ram`, and `save` which also writes a [`chart_file`] image at exit), or in a
//! memory-mapped [`chart_file`] (`map`: the kernel keeps the file current, so a `kill -9` loses
//! at most the collection in progress).

use memmap2::MmapMut;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::chart_file::{
    self, ChartFileError, DimEntry, FileHeader, HEADER_SIZE, data_offset, decode_dim,
    decode_header, encode_dim, encode_header, file_size,
};
use crate::collection::{ChartClock, DimState, SlotWriter, collected_max};
use crate::memory_mode::MemoryMode;
use crate::paged_ring::{PageCache, PagedRing};
use crate::storage_number::{SN_EMPTY_SLOT, StorageNumber};

/// What a file on disk said about the chart when it was opened.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The chart-level state.
    pub header: FileHeader,
}

/// A chart's sample storage.
#[derive(Debug)]
pub enum ChartStore {
    /// `memory mode = none`.
    None,
    /// `ram` and `save`.
    Memory(MemoryStore),
    /// `map`.
    Mapped(MappedStore),
}

/// Rings in memory; `path` is set in `save` mode.
#[derive(Debug)]
pub struct MemoryStore {
    entries: usize,
    rings: Vec<PagedRing>,
    ids: Vec<DimEntry>,
    path: Option<PathBuf>,
}

/// A memory-mapped chart file.
#[derive(Debug)]
pub struct MappedStore {
    path: PathBuf,
    map: MmapMut,
    header: FileHeader,
    ids: Vec<DimEntry>,
}

/// How dimensions are matched to their stored rings when a chart is re-created.
#[derive(Debug, Clone, Copy)]
pub struct DimSlot {
    /// Index of the ring.
    pub slot: usize,
    /// Last collected value and largest value, when the ring came from a file.
    pub restored: Option<(i64, u64)>,
}

fn map_file(path: &Path, len: usize) -> Result<MmapMut, ChartFileError> {
    let err = |source| ChartFileError::Io {
        path: path.into(),
        source,
    };
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(err)?;
    f.set_len(len as u64).map_err(err)?;
    // SAFETY: the file is tributary's own database file for this chart: one chart object owns it,
    // nothing else maps or truncates it while the map is alive (the cache directory belongs to
    // this agent), so the bytes behind the map stay valid for its lifetime.
    #[allow(unsafe_code)]
    let map = unsafe { MmapMut::map_mut(&f) }.map_err(err)?;
    Ok(map)
}

impl ChartStore {
    /// Opens the store of a chart. For `save` and `map`, `path` is the chart's file; a valid
    /// file with the same geometry is restored, a corrupt one is moved aside (reported through
    /// `on_corrupt`) and the chart starts empty. A file older than its ring is started over.
    pub fn open(
        mode: MemoryMode,
        path: Option<&Path>,
        entries: usize,
        update_every: u32,
        now_s: i64,
        on_corrupt: &mut dyn FnMut(&ChartFileError, &Path),
    ) -> (ChartStore, Option<Restored>) {
        let image = match (mode, path) {
            (MemoryMode::Save | MemoryMode::Map, Some(p)) if p.exists() => {
                match chart_file::read_file(p).and_then(|buf| {
                    decode_header(&buf, buf.len())
                        .map(|h| (h, buf))
                        .map_err(|reason| ChartFileError::Corrupt {
                            path: p.into(),
                            reason,
                        })
                }) {
                    Ok(ok) => Some(ok),
                    Err(e) => {
                        let aside = chart_file::set_aside(p);
                        on_corrupt(&e, &aside);
                        None
                    }
                }
            }
            _ => None,
        };
        // netdata clears a file of another geometry, or one older than its whole ring.
        let image = image.filter(|(h, _)| {
            h.entries as usize == entries
                && h.update_every == update_every
                && now_s - h.last_updated <= i64::from(update_every) * entries as i64
        });
        match mode {
            MemoryMode::None => (ChartStore::None, None),
            MemoryMode::Ram | MemoryMode::Save => {
                let mut store = MemoryStore {
                    entries,
                    rings: Vec::new(),
                    ids: Vec::new(),
                    path: if mode == MemoryMode::Save {
                        path.map(Path::to_path_buf)
                    } else {
                        None
                    },
                };
                let restored = image.map(|(h, buf)| {
                    let data = data_offset(h.dim_capacity as usize);
                    for i in 0..h.dim_count as usize {
                        store.ids.push(decode_dim(&buf, i));
                        let mut ring = PagedRing::new(entries);
                        let at = data + i * entries * 4;
                        for (e, b) in buf[at..at + entries * 4].chunks_exact(4).enumerate() {
                            ring.set(e, u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                        }
                        store.rings.push(ring);
                    }
                    Restored { header: h }
                });
                (ChartStore::Memory(store), restored)
            }
            MemoryMode::Map => {
                let Some(path) = path else {
                    return (ChartStore::None, None);
                };
                let restored = image.as_ref().map(|(h, _)| Restored { header: *h });
                let (header, ids) = match image {
                    Some((h, buf)) => {
                        let ids = (0..h.dim_count as usize)
                            .map(|i| decode_dim(&buf, i))
                            .collect();
                        (h, ids)
                    }
                    None => (
                        FileHeader {
                            entries: entries as u32,
                            update_every,
                            dim_capacity: 4,
                            ..FileHeader::default()
                        },
                        Vec::new(),
                    ),
                };
                if restored.is_none() {
                    let _removed = std::fs::remove_file(path);
                }
                match MappedStore::create(path, header, ids, restored.is_none()) {
                    Ok(m) => (ChartStore::Mapped(m), restored),
                    Err(e) => {
                        on_corrupt(&e, path);
                        (ChartStore::None, None)
                    }
                }
            }
        }
    }

    /// Finds (from a restored file) or creates the ring of dimension `id`.
    pub fn add_dim(&mut self, id: &str) -> Result<DimSlot, ChartFileError> {
        match self {
            ChartStore::None => Ok(DimSlot {
                slot: 0,
                restored: None,
            }),
            ChartStore::Memory(m) => {
                if let Some(i) = m.ids.iter().position(|e| e.matches(id)) {
                    let e = &m.ids[i];
                    return Ok(DimSlot {
                        slot: i,
                        restored: Some((e.last_collected, e.collected_max)),
                    });
                }
                m.rings.push(PagedRing::new(m.entries));
                m.ids.push(DimEntry::for_id(id));
                Ok(DimSlot {
                    slot: m.rings.len() - 1,
                    restored: None,
                })
            }
            ChartStore::Mapped(m) => m.add_dim(id),
        }
    }

    /// The sample of ring `slot` at position `entry`.
    #[inline]
    pub fn read(&self, slot: usize, entry: usize) -> StorageNumber {
        match self {
            ChartStore::None => SN_EMPTY_SLOT,
            ChartStore::Memory(m) => m.rings.get(slot).map_or(SN_EMPTY_SLOT, |r| r.get(entry)),
            ChartStore::Mapped(m) => m.read(slot, entry),
        }
    }

    /// The sample of ring `slot` at position `entry`, decoding sealed pages through `cache` (a
    /// sequential reader's, used for this one ring while the chart stays locked).
    #[inline]
    pub fn read_cached(&self, slot: usize, entry: usize, cache: &mut PageCache) -> StorageNumber {
        match self {
            ChartStore::None => SN_EMPTY_SLOT,
            ChartStore::Memory(m) => m
                .rings
                .get(slot)
                .map_or(SN_EMPTY_SLOT, |r| r.get_cached(entry, cache)),
            ChartStore::Mapped(m) => m.read(slot, entry),
        }
    }

    /// Heap bytes of the stored samples (`ram`/`save`; 0 for `none` and `map`).
    pub fn sample_bytes(&self) -> usize {
        match self {
            ChartStore::Memory(m) => m.rings.iter().map(PagedRing::heap_bytes).sum(),
            _ => 0,
        }
    }

    /// Bytes of sealed (compressed) pages and the samples in them (`ram`/`save`).
    pub fn sealed(&self) -> (usize, usize) {
        match self {
            ChartStore::Memory(m) => m
                .rings
                .iter()
                .map(PagedRing::sealed)
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
            _ => (0, 0),
        }
    }

    /// Called after every collection: `map` mode refreshes the file's header and directory.
    pub fn after_done(&mut self, clock: &ChartClock, dims: &[DimState]) {
        if let ChartStore::Mapped(m) = self {
            m.sync(clock, dims);
        }
    }

    /// `save` mode: writes the chart image atomically; `map` mode: flushes the map to disk.
    pub fn save(&mut self, clock: &ChartClock, dims: &[DimState]) -> Result<(), ChartFileError> {
        match self {
            ChartStore::None => Ok(()),
            ChartStore::Memory(m) => {
                let Some(path) = m.path.clone() else {
                    return Ok(());
                };
                let cap = m.rings.len().max(1);
                let mut buf = vec![0u8; file_size(cap, m.entries)];
                let mut h = header_of(clock);
                h.dim_capacity = cap as u32;
                h.dim_count = m.rings.len() as u32;
                encode_header(&h, &mut buf);
                let mut ids = m.ids.clone();
                update_dirs(&mut ids, dims);
                let data = data_offset(cap);
                for (i, (e, ring)) in ids.iter().zip(&m.rings).enumerate() {
                    encode_dim(e, i, &mut buf);
                    let at = data + i * m.entries * 4;
                    let image = &mut buf[at..at + m.entries * 4];
                    ring.for_each(|k, v| image[k * 4..k * 4 + 4].copy_from_slice(&v.to_le_bytes()));
                }
                chart_file::write_atomically(&path, &buf)
            }
            ChartStore::Mapped(m) => {
                m.sync(clock, dims);
                m.map.flush().map_err(|source| ChartFileError::Io {
                    path: m.path.clone(),
                    source,
                })
            }
        }
    }
}

fn header_of(clock: &ChartClock) -> FileHeader {
    FileHeader {
        entries: clock.entries as u32,
        update_every: clock.update_every as u32,
        dim_capacity: 0,
        dim_count: 0,
        current_entry: clock.current_entry as u32,
        counter: clock.counter,
        last_updated: clock.last_updated,
        usec_since_last_update: clock.usec_since_last_update,
    }
}

fn update_dirs(ids: &mut [DimEntry], dims: &[DimState]) {
    for d in dims {
        if let Some(e) = ids.get_mut(d.slot) {
            e.last_collected = d.last_collected;
            e.collected_max = collected_max(d);
        }
    }
}

impl MappedStore {
    fn create(
        path: &Path,
        header: FileHeader,
        ids: Vec<DimEntry>,
        fresh: bool,
    ) -> Result<MappedStore, ChartFileError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ChartFileError::Io {
                path: dir.into(),
                source,
            })?;
        }
        let size = file_size(header.dim_capacity as usize, header.entries as usize);
        let map = map_file(path, size)?;
        let mut m = MappedStore {
            path: path.into(),
            map,
            header,
            ids,
        };
        if fresh {
            encode_header(&m.header, &mut m.map);
        }
        Ok(m)
    }

    fn entries(&self) -> usize {
        self.header.entries as usize
    }

    fn read(&self, slot: usize, entry: usize) -> StorageNumber {
        let at =
            data_offset(self.header.dim_capacity as usize) + (slot * self.entries() + entry) * 4;
        match self.map.get(at..at + 4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => SN_EMPTY_SLOT,
        }
    }

    fn write(&mut self, slot: usize, entry: usize, v: StorageNumber) {
        let at =
            data_offset(self.header.dim_capacity as usize) + (slot * self.entries() + entry) * 4;
        if let Some(b) = self.map.get_mut(at..at + 4) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }

    fn add_dim(&mut self, id: &str) -> Result<DimSlot, ChartFileError> {
        if let Some(i) = self.ids.iter().position(|e| e.matches(id)) {
            let e = &self.ids[i];
            return Ok(DimSlot {
                slot: i,
                restored: Some((e.last_collected, e.collected_max)),
            });
        }
        if self.ids.len() == self.header.dim_capacity as usize {
            self.grow()?;
        }
        let slot = self.ids.len();
        let e = DimEntry::for_id(id);
        encode_dim(&e, slot, &mut self.map);
        self.ids.push(e);
        self.header.dim_count = self.ids.len() as u32;
        encode_header(&self.header, &mut self.map);
        Ok(DimSlot {
            slot,
            restored: None,
        })
    }

    /// Doubles the directory: the rings move, so the file is rewritten beside the old one and
    /// renamed over it.
    fn grow(&mut self) -> Result<(), ChartFileError> {
        let old_cap = self.header.dim_capacity as usize;
        let new_cap = (old_cap * 2).max(4);
        let entries = self.entries();
        let tmp = self.path.with_extension("grow");
        let _removed = std::fs::remove_file(&tmp);
        let mut new_map = map_file(&tmp, file_size(new_cap, entries))?;
        let mut h = self.header;
        h.dim_capacity = new_cap as u32;
        encode_header(&h, &mut new_map);
        let dir_bytes = old_cap * chart_file::DIM_ENTRY_SIZE;
        new_map[HEADER_SIZE..HEADER_SIZE + dir_bytes]
            .copy_from_slice(&self.map[HEADER_SIZE..HEADER_SIZE + dir_bytes]);
        let (old_data, new_data) = (data_offset(old_cap), data_offset(new_cap));
        let ring_bytes = old_cap * entries * 4;
        new_map[new_data..new_data + ring_bytes]
            .copy_from_slice(&self.map[old_data..old_data + ring_bytes]);
        std::fs::rename(&tmp, &self.path).map_err(|source| ChartFileError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.map = new_map;
        self.header = h;
        Ok(())
    }

    fn sync(&mut self, clock: &ChartClock, dims: &[DimState]) {
        let mut h = header_of(clock);
        h.dim_capacity = self.header.dim_capacity;
        h.dim_count = self.header.dim_count;
        self.header = h;
        encode_header(&h, &mut self.map);
        update_dirs(&mut self.ids, dims);
        for d in dims {
            if let Some(e) = self.ids.get(d.slot) {
                encode_dim(e, d.slot, &mut self.map);
            }
        }
    }
}

impl SlotWriter for ChartStore {
    #[inline]
    fn write(&mut self, slot: usize, entry: usize, value: StorageNumber) {
        match self {
            ChartStore::None => {}
            ChartStore::Memory(m) => {
                if let Some(r) = m.rings.get_mut(slot) {
                    r.set(entry, value);
                }
            }
            ChartStore::Mapped(m) => m.write(slot, entry, value),
        }
    }
}
