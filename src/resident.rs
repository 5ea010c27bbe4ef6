//! Gives back, once start-up is over, the memory only start-up needed: the page-table entries
//! of this executable's code and read-only data (start-up runs configuration parsing, system
//! probes and chart creation once; the kernel had mapped that code, plus up to 64 KiB of
//! neighbours per fault, into this process), and the free pages inside glibc's heaps.
//!
//! The code pages stay in the page cache: what runs afterwards faults back in from there (a
//! minor fault, no disk read), so the resident code becomes what the agent runs every second.
//! Only mappings of our own executable that are not writable and hold no private copy
//! (`Anonymous: 0 kB` in `/proc/self/smaps`, i.e. nothing relocated or written) are
//! touched, so dropping their entries loses nothing.
#![allow(unsafe_code)] // madvise(2) and malloc_trim(3), see the SAFETY comments

use std::path::Path;

/// What [`release_startup_pages`] gave back.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// Bytes of executable mappings whose page-table entries were dropped.
    pub mapped_bytes: usize,
    /// Resident kB (VmRSS) before.
    pub rss_before_kb: u64,
    /// Resident kB (VmRSS) after.
    pub rss_after_kb: u64,
}

/// One mapping of `/proc/self/smaps`: its range, whether it may be dropped.
#[derive(Debug, PartialEq, Eq)]
struct Mapping {
    start: usize,
    end: usize,
    /// Not writable, a mapping of `exe`, and no private (anonymous) pages.
    droppable: bool,
}

/// The droppable mappings of `exe` in an smaps text.
fn droppable_mappings(smaps: &str, exe: &Path) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let (Some(first), Some(second)) = (f.next(), f.next()) else {
            continue;
        };
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            && second.len() == 4
        {
            // A mapping header: "start-end perms offset dev inode [path]".
            let path = f.nth(3);
            out.push(Mapping {
                start,
                end,
                droppable: !second.contains('w') && path.is_some_and(|p| Path::new(p) == exe),
            });
        } else if first == "Anonymous:"
            && second != "0"
            && let Some(m) = out.last_mut()
        {
            m.droppable = false;
        }
    }
    out.retain(|m| m.droppable);
    out
}

fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[cfg(target_env = "gnu")]
unsafe extern "C" {
    /// glibc: returns free memory at the top of the heaps, and free whole pages inside them,
    /// to the kernel.
    fn malloc_trim(pad: usize) -> std::ffi::c_int;
}

/// Drops the page-table entries of the executable's read-only mappings and trims glibc's
/// heaps. Call once, after start-up (the first collections and the first connection to a
/// parent are behind it).
pub fn release_startup_pages() -> Released {
    let rss_before_kb = vm_rss_kb();
    let exe = std::fs::read_link("/proc/self/exe").unwrap_or_default();
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut mapped_bytes = 0;
    for m in droppable_mappings(&smaps, &exe) {
        // SAFETY: the range is a whole mapping of our own executable file, read-only and
        // without private pages (checked just above in smaps), so MADV_DONTNEED only drops
        // page-table entries of unmodified file pages: the next access maps the same bytes
        // again from the page cache. No Rust object lives in it and nothing can observe a
        // difference but timing.
        let done = unsafe {
            rustix::mm::madvise(
                m.start as *mut std::ffi::c_void,
                m.end - m.start,
                rustix::mm::Advice::LinuxDontNeed,
            )
        };
        if done.is_ok() {
            mapped_bytes += m.end - m.start;
        }
    }
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes no pointers and is thread-safe (it locks each arena); it
    // only returns free memory to the kernel.
    unsafe {
        malloc_trim(0);
    }
    Released {
        mapped_bytes,
        rss_before_kb,
        rss_after_kb: vm_rss_kb(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
00200000-00276000 r--p 00000000 fe:00 10109012                           /usr/bin/tributary
Size:                472 kB
Anonymous:             0 kB
00276000-0043b000 r-xp 00075000 fe:00 10109012                           /usr/bin/tributary
Rss:                1680 kB
Anonymous:             0 kB
0043b000-00440000 r--p 00239000 fe:00 10109012                           /usr/bin/tributary
Anonymous:            12 kB
00440000-00443000 rw-p 0023d000 fe:00 10109012                           /usr/bin/tributary
Anonymous:             0 kB
7f9882109000-7f988312e000 r-xp 00000000 fe:00 55                         /usr/lib/other.so
Anonymous:             0 kB
7f988312e000-7f988312f000 ---p 00000000 00:00 0
Anonymous:             0 kB
";

    #[test]
    fn only_unmodified_read_only_mappings_of_the_executable_are_dropped() {
        let got = droppable_mappings(SMAPS, Path::new("/usr/bin/tributary"));
        assert_eq!(
            got,
            vec![
                Mapping {
                    start: 0x200000,
                    end: 0x276000,
                    droppable: true
                },
                Mapping {
                    start: 0x276000,
                    end: 0x43b000,
                    droppable: true
                },
            ]
        );
    }

    #[test]
    fn releasing_keeps_the_process_running_and_reads_back_the_same_code() {
        let before: u64 = (1..=1000u64).map(|x| x * x).sum();
        let r = release_startup_pages();
        let after: u64 = (1..=1000u64).map(|x| x * x).sum();
        assert_eq!(before, after);
        assert!(r.mapped_bytes > 0, "{r:?}");
    }
}
