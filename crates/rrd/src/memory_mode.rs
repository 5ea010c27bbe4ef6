//! `[db] mode`: where a host's samples live, and how many fit in a ring
//! (database/rrd.c `rrd_memory_mode_id`, `align_entries_to_pagesize` in netdata 1.37).

use std::fmt;

/// A host's database mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryMode {
    /// Charts exist (for streaming) but nothing is stored.
    None,
    /// A ring of `history` samples per dimension, in memory only.
    #[default]
    Ram,
    /// As `ram`, written to disk at exit and on SIGUSR1, loaded at start.
    Save,
    /// A file-backed memory map: the kernel keeps the file current.
    Map,
}

impl MemoryMode {
    /// Parses a `memory mode` value. netdata 1.37's `dbengine` and `alloc` are accepted as the
    /// closest modes tributary has (`ram`), so that netdata's config files load.
    pub fn parse(s: &str) -> Option<MemoryMode> {
        match s.trim() {
            "none" => Some(MemoryMode::None),
            "ram" | "alloc" | "dbengine" => Some(MemoryMode::Ram),
            "save" => Some(MemoryMode::Save),
            "map" => Some(MemoryMode::Map),
            _ => None,
        }
    }

    /// netdata's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryMode::None => "none",
            MemoryMode::Ram => "ram",
            MemoryMode::Save => "save",
            MemoryMode::Map => "map",
        }
    }

    /// The ring length netdata uses for `history` in this mode: clamped to [5, 1 year of
    /// seconds], then the byte size rounded up to whole 4 KiB pages (ram: 3600 → 4096; save and
    /// map, whose files carry a 400-byte header: 3600 → 3996). `none` keeps 5 entries.
    pub fn entries_for_history(self, history: i64) -> usize {
        let h = history.clamp(5, 86400 * 365) as usize;
        let header = match self {
            MemoryMode::None => return 5,
            MemoryMode::Ram => 0,
            MemoryMode::Save | MemoryMode::Map => 400,
        };
        let size = header + h * 4;
        let pages = size.div_ceil(4096) * 4096;
        (pages - header) / 4
    }
}

impl fmt::Display for MemoryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_sizes_match_netdata() {
        assert_eq!(MemoryMode::Ram.entries_for_history(3600), 4096);
        assert_eq!(MemoryMode::Save.entries_for_history(3600), 3996);
        assert_eq!(MemoryMode::Map.entries_for_history(3600), 3996);
        assert_eq!(MemoryMode::Ram.entries_for_history(5), 1024);
        assert_eq!(MemoryMode::Ram.entries_for_history(1), 1024);
        assert_eq!(MemoryMode::None.entries_for_history(3600), 5);
    }

    #[test]
    fn parses_netdata_names() {
        assert_eq!(MemoryMode::parse("map"), Some(MemoryMode::Map));
        assert_eq!(MemoryMode::parse("dbengine"), Some(MemoryMode::Ram));
        assert_eq!(MemoryMode::parse("bogus"), None);
    }
}
