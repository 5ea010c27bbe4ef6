//! One dimension's ring of samples for `ram` and `save`: compressed sealed pages and one open
//! page.
//!
//! The ring has `entries` positions, as netdata's ram mode, cut into pages of
//! [`PAGE_SLOTS`]. The page the collector is writing is kept open, uncompressed; when the writer
//! moves to another page, the open one is sealed ([`page_codec::encode`]) and the next one is
//! opened — decoded, if it holds samples of the previous turn of the ring, because those stay
//! readable until they are overwritten one by one. Sealed pages live back to back, in page
//! order, in one byte vector per ring (`ends[k]` is where page `k` ends), so a ring costs two
//! heap blocks besides its open page, whatever its length.
//!
//! Reading a position of the open page is an array read; of a sealed page, a decode of the page
//! up to that position. Sequential readers keep a decoded page ([`PageCache`]) and pay one decode
//! per page. Positions never written read as 0, as the zeroed rings they replace.

use crate::page_codec::{self, MAX_PAGE_BYTES, PAGE_SLOTS};
use crate::storage_number::StorageNumber;

/// No page is open (a ring that was never written).
const NONE: u32 = u32::MAX;

/// A decoded sealed page kept by a sequential reader.
#[derive(Debug, Clone)]
pub struct PageCache {
    page: u32,
    values: [u32; PAGE_SLOTS],
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            page: NONE,
            values: [0; PAGE_SLOTS],
        }
    }
}

/// One dimension's samples.
#[derive(Debug)]
pub struct PagedRing {
    entries: u32,
    open_page: u32,
    open: Box<[u32]>,
    ends: Box<[u32]>,
    bytes: Vec<u8>,
}

impl PagedRing {
    /// An empty ring of `entries` positions.
    pub fn new(entries: usize) -> PagedRing {
        let entries = entries.max(1);
        let pages = entries.div_ceil(PAGE_SLOTS);
        PagedRing {
            entries: entries as u32,
            open_page: NONE,
            // Allocated with the ring, full size even for a short last page, so that neither
            // the first write nor moving between pages allocates it.
            open: vec![0u32; PAGE_SLOTS].into_boxed_slice(),
            ends: vec![0u32; pages].into_boxed_slice(),
            bytes: Vec::new(),
        }
    }

    /// Positions in the ring.
    pub fn len(&self) -> usize {
        self.entries as usize
    }

    /// Always false: a ring has at least one position.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn page_len(&self, page: usize) -> usize {
        (self.entries as usize - page * PAGE_SLOTS).min(PAGE_SLOTS)
    }

    fn sealed_range(&self, page: usize) -> std::ops::Range<usize> {
        let start = if page == 0 {
            0
        } else {
            self.ends[page - 1] as usize
        };
        start..self.ends[page] as usize
    }

    /// Writes position `entry` (`entry < len`, else ignored).
    #[inline]
    pub fn set(&mut self, entry: usize, v: StorageNumber) {
        if entry >= self.entries as usize {
            return;
        }
        let page = entry / PAGE_SLOTS;
        if page as u32 != self.open_page {
            self.switch_to(page);
        }
        self.open[entry % PAGE_SLOTS] = v;
    }

    /// Reads position `entry` (0 when never written or out of range).
    #[inline]
    pub fn get(&self, entry: usize) -> StorageNumber {
        let page = entry / PAGE_SLOTS;
        if page as u32 == self.open_page {
            return self.open[entry % PAGE_SLOTS];
        }
        if page >= self.ends.len() {
            return 0;
        }
        let r = self.sealed_range(page);
        if r.is_empty() {
            return 0;
        }
        page_codec::decode_at(&self.bytes[r], entry % PAGE_SLOTS)
    }

    /// Reads position `entry` through `cache`, which must be used with this ring only and only
    /// while the ring is not written.
    #[inline]
    pub fn get_cached(&self, entry: usize, cache: &mut PageCache) -> StorageNumber {
        let page = entry / PAGE_SLOTS;
        if page as u32 == self.open_page {
            return self.open[entry % PAGE_SLOTS];
        }
        if page as u32 != cache.page {
            self.decode_page(page, &mut cache.values);
            cache.page = page as u32;
        }
        cache.values[entry % PAGE_SLOTS]
    }

    /// Decodes page `page` into `out` (zeros where never written).
    fn decode_page(&self, page: usize, out: &mut [u32; PAGE_SLOTS]) {
        if page as u32 == self.open_page {
            out[..self.open.len()].copy_from_slice(&self.open);
            return;
        }
        if page >= self.ends.len() {
            out.fill(0);
            return;
        }
        let n = self.page_len(page);
        let r = self.sealed_range(page);
        if r.is_empty() {
            out.fill(0);
        } else {
            page_codec::decode(&self.bytes[r], &mut out[..n]);
        }
    }

    /// Calls `f` with every position's sample, in position order.
    pub fn for_each(&self, mut f: impl FnMut(usize, StorageNumber)) {
        let mut buf = [0u32; PAGE_SLOTS];
        for page in 0..self.ends.len() {
            self.decode_page(page, &mut buf);
            for (i, &v) in buf[..self.page_len(page)].iter().enumerate() {
                f(page * PAGE_SLOTS + i, v);
            }
        }
    }

    /// Bytes of heap this ring holds (open page, page table, sealed pages' capacity).
    pub fn heap_bytes(&self) -> usize {
        self.open.len() * 4 + self.ends.len() * 4 + self.bytes.capacity()
    }

    /// Bytes of the sealed pages and the number of samples they hold.
    pub fn sealed(&self) -> (usize, usize) {
        let samples = (0..self.ends.len())
            .filter(|&p| !self.sealed_range(p).is_empty())
            .map(|p| self.page_len(p))
            .sum();
        (self.bytes.len(), samples)
    }

    /// Seals the open page and opens `page`.
    #[cold]
    fn switch_to(&mut self, page: usize) {
        if self.open_page != NONE {
            self.seal();
        }
        let n = self.page_len(page);
        let r = self.sealed_range(page);
        if r.is_empty() {
            self.open.fill(0);
        } else {
            page_codec::decode(&self.bytes[r.clone()], &mut self.open[..n]);
            self.bytes.drain(r.clone());
            let removed = r.len() as u32;
            for e in &mut self.ends[page..] {
                *e -= removed;
            }
        }
        self.open_page = page as u32;
    }

    /// Compresses the open page into its place among the sealed ones.
    fn seal(&mut self) {
        let page = self.open_page as usize;
        let mut buf = [0u8; MAX_PAGE_BYTES];
        let n = page_codec::encode(&self.open[..self.page_len(page)], &mut buf);
        let at = self.sealed_range(page).start;
        let need = self.bytes.len() + n;
        if need > self.bytes.capacity() {
            // Grow by an eighth, and by half a raw page at least: a filling ring reallocates
            // every few pages, not at every page, and a turned ring whose pages vary in size
            // keeps some room; never beyond every page raw (incompressible values).
            // A ring that grows after its first turn holds values of varying compressibility:
            // a quarter then.
            let most = self.ends.len() * MAX_PAGE_BYTES;
            let last = self.ends.len() - 1;
            let turned = page == last || !self.sealed_range(last).is_empty();
            let extra = (need - self.bytes.len())
                .max(self.bytes.len() / if turned { 4 } else { 8 })
                .max(MAX_PAGE_BYTES / 2)
                .min(most.saturating_sub(self.bytes.len()))
                .max(need - self.bytes.len());
            self.bytes.reserve_exact(extra);
        }
        let old_len = self.bytes.len();
        self.bytes.resize(old_len + n, 0);
        self.bytes.copy_within(at..old_len, at + n);
        self.bytes[at..at + n].copy_from_slice(&buf[..n]);
        for e in &mut self.ends[page..] {
            *e += n as u32;
        }
        self.open_page = NONE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_ring_reads_what_was_written_through_many_turns() {
        let entries = 300; // not a multiple of the page: the last page is short
        let mut ring = PagedRing::new(entries);
        let mut model = vec![0u32; entries];
        for i in 0..(entries * 5 + 17) {
            let v = (i as u32 / 3) * 10;
            ring.set(i % entries, v);
            model[i % entries] = v;
            if i % 97 == 0 {
                for (e, &m) in model.iter().enumerate() {
                    assert_eq!(ring.get(e), m, "entry {e} after {i} writes");
                }
            }
        }
        let mut cache = PageCache::default();
        for (e, &m) in model.iter().enumerate() {
            assert_eq!(ring.get_cached(e, &mut cache), m);
        }
        let mut seen = Vec::new();
        ring.for_each(|e, v| seen.push((e, v)));
        assert_eq!(seen.len(), entries);
        assert!(seen.iter().all(|&(e, v)| model[e] == v));
    }

    #[test]
    fn a_full_ring_of_steady_values_is_small() {
        let mut ring = PagedRing::new(4096);
        for i in 0..8192usize {
            ring.set(i % 4096, 0x0100_0000 | (i as u32 * 3 % 1000));
        }
        assert!(ring.heap_bytes() < 2 * 1024, "{} bytes", ring.heap_bytes());
    }

    proptest! {
        #[test]
        fn random_writes_read_back(
            entries in 1usize..600,
            writes in proptest::collection::vec((0usize..600, any::<u32>()), 0..800),
        ) {
            let mut ring = PagedRing::new(entries);
            let mut model = vec![0u32; entries];
            for (e, v) in writes {
                let e = e % entries;
                ring.set(e, v);
                model[e] = v;
            }
            for (e, &m) in model.iter().enumerate() {
                prop_assert_eq!(ring.get(e), m);
            }
        }
    }
}
