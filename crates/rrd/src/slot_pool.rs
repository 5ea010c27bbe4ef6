//! Memory for `ram` and `save` rings, handed out per host from a few large blocks.
//!
//! netdata 1.37 maps one anonymous region per dimension, so a parent hits the kernel's map-count
//! limit (`vm.max_map_count`, 65530) near 65k dimensions. tributary carves every dimension's ring
//! out of shared 16 MiB blocks instead: a host with millions of dimensions needs only a few
//! hundred mappings. Blocks are allocated zeroed, so the kernel commits a page only when a
//! sample is written into it; resident memory grows with the data, not with the history setting.
//!
//! Freed rings go to a free list of their length and are reused by the next dimension of the same
//! ring size (all dimensions of a host normally share one).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Slots per block: 16 MiB of samples.
const BLOCK_SLOTS: usize = 4 * 1024 * 1024;

/// One zeroed region of samples.
#[derive(Debug)]
struct Block {
    slots: Box<[AtomicU32]>,
}

impl Block {
    fn zeroed(len: usize) -> Block {
        let plain: Box<[u32]> = vec![0u32; len].into_boxed_slice();
        let raw = Box::into_raw(plain) as *mut [AtomicU32];
        // SAFETY: `AtomicU32` has the same size, alignment and bit validity as `u32` (documented
        // in std), so a boxed `[u32]` is a valid boxed `[AtomicU32]` of the same length, and the
        // allocation's layout is unchanged. `vec![0; n]` uses the zeroing allocator, which is why
        // this detour exists: the pages stay uncommitted until written.
        #[allow(unsafe_code)]
        let slots = unsafe { Box::from_raw(raw) };
        Block { slots }
    }
}

#[derive(Debug, Default)]
struct PoolState {
    blocks: Vec<Arc<Block>>,
    /// Bytes of the newest block already handed out.
    used_in_last: usize,
    free: HashMap<usize, Vec<(Arc<Block>, usize)>>,
}

/// The per-host allocator of ring memory.
#[derive(Debug, Default)]
pub struct SlotPool {
    state: Mutex<PoolState>,
}

impl SlotPool {
    /// An empty pool; blocks are allocated on first use.
    pub fn new() -> Arc<SlotPool> {
        Arc::new(SlotPool::default())
    }

    /// Hands out a ring of `len` zeroed-or-reused slots. The caller must not assume the slots
    /// are zero: a reused ring holds old samples until overwritten.
    pub fn alloc(self: &Arc<SlotPool>, len: usize) -> SlotRange {
        let mut st = self.state.lock().expect("slot pool lock poisoned");
        if let Some((block, offset)) = st.free.get_mut(&len).and_then(Vec::pop) {
            return SlotRange {
                pool: Arc::clone(self),
                block,
                offset,
                len,
            };
        }
        if len > BLOCK_SLOTS {
            let block = Arc::new(Block::zeroed(len));
            return SlotRange {
                pool: Arc::clone(self),
                block,
                offset: 0,
                len,
            };
        }
        let need_new = match st.blocks.last() {
            None => true,
            Some(_) => st.used_in_last + len > BLOCK_SLOTS,
        };
        if need_new {
            st.blocks.push(Arc::new(Block::zeroed(BLOCK_SLOTS)));
            st.used_in_last = 0;
        }
        let block = Arc::clone(st.blocks.last().expect("a block was just ensured"));
        let offset = st.used_in_last;
        st.used_in_last += len;
        SlotRange {
            pool: Arc::clone(self),
            block,
            offset,
            len,
        }
    }

    /// Number of large blocks allocated (each one memory mapping at most).
    pub fn blocks(&self) -> usize {
        self.state
            .lock()
            .expect("slot pool lock poisoned")
            .blocks
            .len()
    }

    fn release(&self, block: Arc<Block>, offset: usize, len: usize) {
        if len > BLOCK_SLOTS {
            return; // a dedicated block: dropping it frees it
        }
        if let Ok(mut st) = self.state.lock() {
            st.free.entry(len).or_default().push((block, offset));
        }
    }
}

/// One dimension's ring: `len` consecutive slots of a pool block.
#[derive(Debug)]
pub struct SlotRange {
    pool: Arc<SlotPool>,
    block: Arc<Block>,
    offset: usize,
    len: usize,
}

impl SlotRange {
    /// Ring length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-length ring.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads slot `i` (`i < len`).
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        self.block.slots[self.offset + i].load(Ordering::Relaxed)
    }

    /// Writes slot `i` (`i < len`).
    #[inline]
    pub fn set(&self, i: usize, v: u32) {
        self.block.slots[self.offset + i].store(v, Ordering::Relaxed);
    }

    /// Writes `v` into every slot.
    pub fn fill(&self, v: u32) {
        for s in &self.block.slots[self.offset..self.offset + self.len] {
            s.store(v, Ordering::Relaxed);
        }
    }
}

impl Drop for SlotRange {
    fn drop(&mut self) {
        self.pool
            .release(Arc::clone(&self.block), self.offset, self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_rings_share_one_block() {
        let pool = SlotPool::new();
        let rings: Vec<_> = (0..1000).map(|_| pool.alloc(4096)).collect();
        assert_eq!(pool.blocks(), 1);
        rings[7].set(3, 42);
        assert_eq!(rings[7].get(3), 42);
        assert_eq!(rings[8].get(3), 0);
    }

    #[test]
    fn freed_rings_are_reused() {
        let pool = SlotPool::new();
        let a = pool.alloc(1024);
        a.set(0, 9);
        drop(a);
        let b = pool.alloc(1024);
        assert_eq!(b.get(0), 9, "the same slots came back");
        let _c = pool.alloc(1024);
        assert_eq!(pool.blocks(), 1);
    }

    #[test]
    fn huge_rings_get_their_own_block() {
        let pool = SlotPool::new();
        let r = pool.alloc(BLOCK_SLOTS + 1);
        r.set(BLOCK_SLOTS, 1);
        assert_eq!(r.get(BLOCK_SLOTS), 1);
    }
}
