//! The netdata config file reader: `[section]` headers and `key = value` lines.
//!
//! Mirrors `appconfig_load()` of netdata 1.37's `libnetdata/config/appconfig.c`:
//! * every line is trimmed of C whitespace; empty lines and lines starting with `#` are skipped.
//!   There are no inline comments: in `key = a # b` the value is `a # b`, as in netdata.
//!   Lines starting with `;` are skipped too (netdata would store them as keys nobody reads).
//! * a line starting with `[` and ending with `]` opens a section; the name is everything in
//!   between, untrimmed (`[plugin:proc:/proc/stat]`). A section opened twice is merged.
//! * other lines split at the first `=`; name and value are trimmed; the value may be empty.
//!   A key given twice keeps its first position and its last value.
//! * section and key names are compared exactly (netdata uses `strcmp`).
//! * lines outside any section, without `=`, or with an empty name are skipped and listed as
//!   [`Warning`]s (netdata logs them and goes on).
//!
//! Unlike netdata, a line that starts with `[` but does not end with `]` is a hard error
//! (netdata would silently ignore it and keep adding keys to the previous section), and so is
//! a line longer than netdata's `CONFIG_FILE_LINE_MAX` (netdata would split it in two).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::values::{self, Boolean, ValueProblem, trim_c_space};

/// Longest line accepted, netdata's `CONFIG_FILE_LINE_MAX`: `(1024 + 2048 + 1024) * 2` bytes.
pub const MAX_LINE_LEN: usize = (1024 + 2048 + 1024) * 2;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Read from a config file, at a 1-based line number.
    File {
        /// The file the value was read from.
        path: Arc<Path>,
        /// 1-based line number.
        line: usize,
    },
    /// Set with `-W set SECTION KEY VALUE` (or [`Config::set`]).
    CommandLine,
    /// A built-in default recorded with [`Config::set_default`].
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::CommandLine => f.write_str("command line"),
            Origin::Default => f.write_str("built-in default"),
        }
    }
}

/// A value that cannot be read as the type asked for, naming where it was set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: [{section}] {key} = '{value}': {problem}")]
pub struct ValueError {
    /// The file and line (or command line) the value came from.
    pub origin: Origin,
    /// The section it is in.
    pub section: String,
    /// The key.
    pub key: String,
    /// The text that did not parse.
    pub value: String,
    /// What was expected.
    pub problem: ValueProblem,
}

/// A file that cannot be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A line starts with `[` but does not end with `]`.
    #[error("{path}:{line}: section header '{text}' does not end with ']'", path = .path.display())]
    UnterminatedSection {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The trimmed line.
        text: String,
    },
    /// A line longer than [`MAX_LINE_LEN`].
    #[error("{path}:{line}: line is longer than {MAX_LINE_LEN} bytes", path = .path.display())]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A line that is not UTF-8.
    #[error("{path}:{line}: line is not valid utf-8", path = .path.display())]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// A config file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read config file {path}", path = .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl LoadError {
    /// True when the file does not exist (netdata then runs with internal defaults).
    pub fn is_not_found(&self) -> bool {
        matches!(self, LoadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A line that was skipped; netdata logs these and carries on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file.
    pub path: Arc<Path>,
    /// 1-based line number.
    pub line: usize,
    /// Why the line was skipped.
    pub kind: WarningKind,
}

/// Why a line was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// A `key = value` line before the first section header.
    OutsideSection,
    /// A line without `=`.
    MissingEquals,
    /// A line like `= value`.
    EmptyKey,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            WarningKind::OutsideSection => "it is outside all sections",
            WarningKind::MissingEquals => "there is no = in it",
            WarningKind::EmptyKey => "name is empty",
        };
        write!(
            f,
            "{}:{}: ignoring line, {why}",
            self.path.display(),
            self.line
        )
    }
}

/// One `key = value` with its section, origin and "used" mark.
#[derive(Debug)]
pub struct Entry {
    section: String,
    key: String,
    value: String,
    origin: Origin,
    used: AtomicBool,
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        Entry {
            section: self.section.clone(),
            key: self.key.clone(),
            value: self.value.clone(),
            origin: self.origin.clone(),
            used: AtomicBool::new(self.is_used()),
        }
    }
}

impl PartialEq for Entry {
    /// Compares section, key and value; origin and "used" mark are bookkeeping.
    fn eq(&self, other: &Self) -> bool {
        self.section == other.section && self.key == other.key && self.value == other.value
    }
}

impl Entry {
    fn new(section: &str, key: &str, value: &str, origin: Origin) -> Entry {
        Entry {
            section: section.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            origin,
            used: AtomicBool::new(false),
        }
    }

    /// The section name.
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value, trimmed; may be empty.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Where the value came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// True once the program has read this entry.
    pub fn is_used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
    }

    /// Marks the entry as read by the program.
    pub fn mark_used(&self) {
        self.used.store(true, Ordering::Relaxed);
    }

    fn typed<T>(
        &self,
        parse: impl FnOnce(&str) -> Result<T, ValueProblem>,
    ) -> Result<T, ValueError> {
        parse(&self.value).map_err(|problem| self.error(problem))
    }

    /// An error about this entry's value, naming its origin, section and key.
    pub fn error(&self, problem: ValueProblem) -> ValueError {
        ValueError {
            origin: self.origin.clone(),
            section: self.section.clone(),
            key: self.key.clone(),
            value: self.value.clone(),
            problem,
        }
    }

    /// The value as a [`Boolean`] (yes/no/auto).
    pub fn as_bool(&self) -> Result<Boolean, ValueError> {
        self.typed(|v| Boolean::parse(v).ok_or(ValueProblem::NotBoolean))
    }

    /// The value as an unsigned integer.
    pub fn as_u64(&self) -> Result<u64, ValueError> {
        self.typed(values::parse_u64)
    }

    /// The value as a signed integer.
    pub fn as_i64(&self) -> Result<i64, ValueError> {
        self.typed(values::parse_i64)
    }

    /// The value as a floating point number.
    pub fn as_f64(&self) -> Result<f64, ValueError> {
        self.typed(values::parse_f64)
    }

    /// The value as a duration in seconds (`30`, `5m`, `never`, see [`values::parse_duration_secs`]).
    pub fn as_duration_secs(&self) -> Result<i64, ValueError> {
        self.typed(values::parse_duration_secs)
    }
}

/// A `[section]` with its entries in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    name: String,
    entries: Vec<Entry>,
}

impl Section {
    /// The name between the brackets.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entries in the order they first appeared.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry for `key`, marking it used.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        let entry = self.peek(key)?;
        entry.mark_used();
        Some(entry)
    }

    /// The entry for `key`, without marking it used.
    pub fn peek(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    fn peek_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.key == key)
    }
}

/// A parsed netdata-style config: sections in file order, each key with its value, origin and
/// "used" mark (so the keys nobody read can be listed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    sections: Vec<Section>,
    warnings: Vec<Warning>,
}

impl Config {
    /// An empty config (netdata's internal defaults apply everywhere).
    pub fn new() -> Config {
        Config::default()
    }

    /// Parses `text`; `path` is used in errors and origins only.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Config, ParseError> {
        let mut config = Config::new();
        config.read_str(text, path)?;
        Ok(config)
    }

    /// Reads and parses a file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, LoadError> {
        let mut config = Config::new();
        config.read_file(path)?;
        Ok(config)
    }

    /// Reads a file into this config, merging sections and replacing values of repeated keys.
    pub fn read_file(&mut self, path: impl AsRef<Path>) -> Result<(), LoadError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.read_bytes(&bytes, path)?;
        Ok(())
    }

    /// Parses `text` into this config, merging sections and replacing values of repeated keys.
    pub fn read_str(&mut self, text: &str, path: impl AsRef<Path>) -> Result<(), ParseError> {
        self.read_bytes(text.as_bytes(), path.as_ref())
    }

    fn read_bytes(&mut self, bytes: &[u8], path: &Path) -> Result<(), ParseError> {
        let shared: Arc<Path> = Arc::from(path);
        let mut current: Option<usize> = None;
        let lines = bytes.split(|&b| b == b'\n');
        for (index, raw) in lines.enumerate() {
            let line = index + 1;
            if raw.len() > MAX_LINE_LEN {
                return Err(ParseError::LineTooLong {
                    path: path.to_owned(),
                    line,
                });
            }
            let text = std::str::from_utf8(raw).map_err(|_| ParseError::InvalidUtf8 {
                path: path.to_owned(),
                line,
            })?;
            let text = trim_c_space(text);
            if text.is_empty() || text.starts_with(['#', ';']) {
                continue;
            }
            if let Some(rest) = text.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(ParseError::UnterminatedSection {
                        path: path.to_owned(),
                        line,
                        text: text.to_owned(),
                    });
                };
                current = Some(self.section_index_or_insert(name));
                continue;
            }
            let warn = |kind| Warning {
                path: shared.clone(),
                line,
                kind,
            };
            let Some(section) = current else {
                self.warnings.push(warn(WarningKind::OutsideSection));
                continue;
            };
            let Some((key, value)) = text.split_once('=') else {
                self.warnings.push(warn(WarningKind::MissingEquals));
                continue;
            };
            let key = trim_c_space(key);
            if key.is_empty() {
                self.warnings.push(warn(WarningKind::EmptyKey));
                continue;
            }
            let origin = Origin::File {
                path: shared.clone(),
                line,
            };
            self.put(section, key, trim_c_space(value), origin);
        }
        Ok(())
    }

    fn section_index(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.name == name)
    }

    fn section_index_or_insert(&mut self, name: &str) -> usize {
        self.section_index(name).unwrap_or_else(|| {
            self.sections.push(Section {
                name: name.to_owned(),
                entries: Vec::new(),
            });
            self.sections.len() - 1
        })
    }

    fn put(&mut self, section: usize, key: &str, value: &str, origin: Origin) {
        let section = &mut self.sections[section];
        match section.peek_mut(key) {
            Some(entry) => {
                value.clone_into(&mut entry.value);
                entry.origin = origin;
            }
            None => {
                let entry = Entry::new(&section.name, key, value, origin);
                section.entries.push(entry);
            }
        }
    }

    /// Sets a value, as `-W set SECTION KEY VALUE` does: it wins over the file.
    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        let index = self.section_index_or_insert(section);
        self.put(index, key, value, Origin::CommandLine);
    }

    /// Records the built-in default of a key that is not set, so that the rendered config lists
    /// it, and returns the effective value. Marks the entry used.
    pub fn set_default(&mut self, section: &str, key: &str, default: &str) -> &str {
        let index = self.section_index_or_insert(section);
        if self.sections[index].peek(key).is_none() {
            self.put(index, key, default, Origin::Default);
        }
        let entry = self.sections[index]
            .get(key)
            .expect("the entry was just ensured");
        entry.value()
    }

    /// The value of `key` in `section`, marking it used.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entry(section, key).map(Entry::value)
    }

    /// The entry of `key` in `section`, marking it used.
    pub fn entry(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section)?.get(key)
    }

    /// True when `key` is set in `section`; does not mark it used.
    pub fn contains(&self, section: &str, key: &str) -> bool {
        self.section(section).is_some_and(|s| s.peek(key).is_some())
    }

    /// The section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The sections in the order they first appeared.
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter()
    }

    /// Every entry, section by section, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.sections.iter().flat_map(|s| s.entries.iter())
    }

    /// Entries that were set (in a file or on the command line) but never read: unknown keys,
    /// or keys of features that are off. These are shown, never an error.
    pub fn unused(&self) -> impl Iterator<Item = &Entry> {
        self.iter()
            .filter(|e| !e.is_used() && e.origin != Origin::Default)
    }

    /// Lines that were skipped while parsing.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// `get_*` helper: parse the entry if present.
    fn typed<T>(
        &self,
        section: &str,
        key: &str,
        read: impl FnOnce(&Entry) -> Result<T, ValueError>,
    ) -> Result<Option<T>, ValueError> {
        self.entry(section, key).map(read).transpose()
    }

    /// A yes/no/auto value; `Ok(None)` when not set.
    pub fn get_bool(&self, section: &str, key: &str) -> Result<Option<Boolean>, ValueError> {
        self.typed(section, key, Entry::as_bool)
    }

    /// An unsigned integer; `Ok(None)` when not set.
    pub fn get_u64(&self, section: &str, key: &str) -> Result<Option<u64>, ValueError> {
        self.typed(section, key, Entry::as_u64)
    }

    /// A signed integer; `Ok(None)` when not set.
    pub fn get_i64(&self, section: &str, key: &str) -> Result<Option<i64>, ValueError> {
        self.typed(section, key, Entry::as_i64)
    }

    /// A floating point number; `Ok(None)` when not set.
    pub fn get_f64(&self, section: &str, key: &str) -> Result<Option<f64>, ValueError> {
        self.typed(section, key, Entry::as_f64)
    }

    /// A duration in seconds (`30`, `5m`, `2h`, `never`); `Ok(None)` when not set.
    pub fn get_duration_secs(&self, section: &str, key: &str) -> Result<Option<i64>, ValueError> {
        self.typed(section, key, Entry::as_duration_secs)
    }

    /// Writes every section and `key = value` back out, in order. Parsing the output gives the
    /// same sections, keys and values.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push('[');
            out.push_str(&section.name);
            out.push_str("]\n");
            for entry in &section.entries {
                push_entry(&mut out, entry, false);
            }
        }
        out
    }
}

/// `\tkey = value\n`, commented out when `commented`.
pub(crate) fn push_entry(out: &mut String, entry: &Entry, commented: bool) {
    out.push('\t');
    if commented {
        out.push_str("# ");
    }
    out.push_str(&entry.key);
    out.push_str(" = ");
    out.push_str(&entry.value);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(text, "test.conf").unwrap()
    }

    #[test]
    fn reads_sections_keys_and_values() {
        let cfg = parse(
            "# comment\n\
             [global]\n\
             \thostname = box one  \n\
             history=3600\n\
             \n\
             [plugin:proc:/proc/stat]\n\
             per cpu core utilization = yes\n\
             [11111111-2222-3333-4444-555555555555]\n\
             type = machine\n",
        );
        let names: Vec<_> = cfg.sections().map(Section::name).collect();
        assert_eq!(
            names,
            [
                "global",
                "plugin:proc:/proc/stat",
                "11111111-2222-3333-4444-555555555555"
            ]
        );
        assert_eq!(cfg.get("global", "hostname"), Some("box one"));
        assert_eq!(cfg.get("global", "history"), Some("3600"));
        assert_eq!(
            cfg.get("plugin:proc:/proc/stat", "per cpu core utilization"),
            Some("yes")
        );
        assert_eq!(
            cfg.get("11111111-2222-3333-4444-555555555555", "type"),
            Some("machine")
        );
        assert!(cfg.warnings().is_empty());
    }

    #[test]
    fn line_table() {
        // (line after "[s]\n", expected value of key "k", expected warning)
        let cases: [(&str, Option<&str>, Option<WarningKind>); 12] = [
            ("k = v", Some("v"), None),
            ("k=v", Some("v"), None),
            ("  k   =   v  ", Some("v"), None),
            ("k =", Some(""), None),
            ("k = a # not a comment", Some("a # not a comment"), None),
            ("k = a = b", Some("a = b"), None),
            ("k = ; not a comment", Some("; not a comment"), None),
            ("# k = v", None, None),
            ("; k = v", None, None),
            ("k", None, Some(WarningKind::MissingEquals)),
            ("= v", None, Some(WarningKind::EmptyKey)),
            ("k\t=\tv\r", Some("v"), None),
        ];
        for (line, value, warning) in cases {
            let cfg = parse(&format!("[s]\n{line}\n"));
            assert_eq!(cfg.get("s", "k"), value, "{line:?}");
            let warnings: Vec<_> = cfg.warnings().iter().map(|w| w.kind).collect();
            assert_eq!(
                warnings,
                warning.into_iter().collect::<Vec<_>>(),
                "{line:?}"
            );
            if let Some(w) = cfg.warnings().first() {
                assert_eq!(w.line, 2);
            }
        }
    }

    #[test]
    fn lookups_are_case_sensitive_like_strcmp() {
        let cfg = parse("[Global]\nHistory = 1\n");
        assert_eq!(cfg.get("Global", "History"), Some("1"));
        assert_eq!(cfg.get("global", "History"), None);
        assert_eq!(cfg.get("Global", "history"), None);
    }

    #[test]
    fn section_names_keep_inner_spaces_and_brackets() {
        let cfg = parse("[ spaced ]\na = 1\n[a]b]\nc = 2\n[]\nd = 3\n");
        assert_eq!(cfg.get(" spaced ", "a"), Some("1"));
        assert_eq!(cfg.get("a]b", "c"), Some("2"));
        assert_eq!(cfg.get("", "d"), Some("3"));
    }

    #[test]
    fn repeated_sections_merge_and_repeated_keys_keep_last_value() {
        let cfg = parse("[a]\nx = 1\ny = 2\n[b]\nz = 3\n[a]\nx = 4\n");
        let names: Vec<_> = cfg.sections().map(Section::name).collect();
        assert_eq!(names, ["a", "b"]);
        let keys: Vec<_> = cfg
            .section("a")
            .unwrap()
            .entries()
            .iter()
            .map(Entry::key)
            .collect();
        assert_eq!(keys, ["x", "y"]);
        let x = cfg.entry("a", "x").unwrap();
        assert_eq!(x.value(), "4");
        assert!(matches!(x.origin(), Origin::File { line: 7, .. }));
    }

    #[test]
    fn lines_before_any_section_are_warnings() {
        let cfg = parse("orphan = 1\n[s]\n");
        assert_eq!(cfg.warnings().len(), 1);
        assert_eq!(cfg.warnings()[0].kind, WarningKind::OutsideSection);
        assert_eq!(
            cfg.warnings()[0].to_string(),
            "test.conf:1: ignoring line, it is outside all sections"
        );
    }

    #[test]
    fn unterminated_section_is_a_hard_error_naming_file_and_line() {
        for text in ["[global\nx = 1\n", "[s]\nk = v\n[global] # comment\n"] {
            let err = Config::parse(text, "/etc/netdata/netdata.conf").unwrap_err();
            assert!(
                matches!(err, ParseError::UnterminatedSection { .. }),
                "{text:?}"
            );
            assert!(
                err.to_string().starts_with("/etc/netdata/netdata.conf:"),
                "{err}"
            );
        }
        let err = Config::parse("\n[global\n", "n.conf").unwrap_err();
        assert_eq!(
            err.to_string(),
            "n.conf:2: section header '[global' does not end with ']'"
        );
    }

    #[test]
    fn overlong_and_non_utf8_lines_are_errors() {
        let long = format!("[s]\nk = {}\n", "x".repeat(MAX_LINE_LEN));
        assert!(matches!(
            Config::parse(&long, "f").unwrap_err(),
            ParseError::LineTooLong { line: 2, .. }
        ));
        let mut cfg = Config::new();
        let err = cfg
            .read_bytes(b"[s]\nk = \xff\n", Path::new("f"))
            .unwrap_err();
        assert!(matches!(err, ParseError::InvalidUtf8 { line: 2, .. }));
    }

    #[test]
    fn set_overrides_the_file_and_creates_missing_keys() {
        let mut cfg = parse("[db]\nmode = save\n");
        cfg.set("db", "mode", "ram");
        cfg.set("web", "mode", "none");
        assert_eq!(cfg.get("db", "mode"), Some("ram"));
        assert_eq!(
            cfg.entry("db", "mode").unwrap().origin(),
            &Origin::CommandLine
        );
        assert_eq!(cfg.get("web", "mode"), Some("none"));
    }

    #[test]
    fn set_default_only_fills_gaps() {
        let mut cfg = parse("[db]\nretention = 100\n");
        assert_eq!(cfg.set_default("db", "retention", "3600"), "100");
        assert_eq!(cfg.set_default("db", "update every", "1"), "1");
        assert_eq!(
            cfg.entry("db", "update every").unwrap().origin(),
            &Origin::Default
        );
    }

    #[test]
    fn used_marks_track_reads() {
        let cfg = parse("[a]\nread = 1\nunknown key = 2\n");
        assert!(cfg.contains("a", "read"));
        assert_eq!(cfg.unused().count(), 2);
        assert_eq!(cfg.get("a", "read"), Some("1"));
        let unused: Vec<_> = cfg.unused().map(Entry::key).collect();
        assert_eq!(unused, ["unknown key"]);
    }

    #[test]
    fn typed_getters() {
        let cfg =
            parse("[t]\nb = on demand\nu = 3600\ni = -5\nf = 0.25\nd = 2m\nbad = maybe\nempty =\n");
        assert_eq!(cfg.get_bool("t", "b").unwrap(), Some(Boolean::Auto));
        assert_eq!(cfg.get_u64("t", "u").unwrap(), Some(3600));
        assert_eq!(cfg.get_i64("t", "i").unwrap(), Some(-5));
        assert_eq!(cfg.get_f64("t", "f").unwrap(), Some(0.25));
        assert_eq!(cfg.get_duration_secs("t", "d").unwrap(), Some(120));
        assert_eq!(cfg.get_u64("t", "missing").unwrap(), None);
        assert!(cfg.get_u64("t", "empty").is_err());
        let err = cfg.get_bool("t", "bad").unwrap_err();
        assert_eq!(
            err.origin,
            Origin::File {
                path: Arc::from(Path::new("test.conf")),
                line: 7
            }
        );
        assert_eq!(
            err.to_string(),
            "test.conf:7: [t] bad = 'maybe': expected yes, no or auto"
        );
        let mut cfg = cfg;
        cfg.set("t", "u", "lots");
        assert_eq!(
            cfg.get_u64("t", "u").unwrap_err().to_string(),
            "command line: [t] u = 'lots': expected an integer"
        );
    }

    #[test]
    fn render_writes_netdata_style() {
        let cfg = parse("[global]\nhistory=3600\n[web]\nmode = none\nempty=\n");
        assert_eq!(
            cfg.render(),
            "[global]\n\thistory = 3600\n\n[web]\n\tmode = none\n\tempty = \n"
        );
    }

    #[test]
    fn load_reports_missing_files() {
        let err = Config::load("/nonexistent/tributary/netdata.conf").unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(
            err.to_string(),
            "cannot read config file /nonexistent/tributary/netdata.conf"
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// Section names: anything printable without newlines (netdata keeps `]`, `:`, `/`, spaces).
    fn section_name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 :/_.\\]\\[-]{0,24}"
    }

    /// Keys: no `=`, not starting with a comment or `[`, no surrounding whitespace.
    fn key() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_.:/-][a-zA-Z0-9 _.:/#;\\[\\]-]{0,20}[a-zA-Z0-9_]"
    }

    /// Values: anything on one line, `=`, `#` and `;` included, without surrounding spaces.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[!-~]([ -~]{0,30}[!-~])?"]
    }

    fn text() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            section_name().prop_map(|s| format!("[{s}]")),
            (key(), value()).prop_map(|(k, v)| format!("  {k} =\t{v} ")),
            "[#;][ -~]{0,20}",
            Just(String::new()),
        ];
        proptest::collection::vec(line, 0..30).prop_map(|lines| lines.join("\n"))
    }

    proptest! {
        #[test]
        fn parse_render_parse_is_identity(text in text()) {
            let first = Config::parse(&text, "a.conf").unwrap();
            let rendered = first.render();
            let second = Config::parse(&rendered, "b.conf").unwrap();
            prop_assert_eq!(&first.sections, &second.sections);
            prop_assert!(second.warnings().is_empty());
            prop_assert_eq!(rendered, second.render());
        }

        #[test]
        fn arbitrary_input_never_panics_and_round_trips(text in "(?s).{0,200}") {
            if let Ok(first) = Config::parse(&text, "fuzz.conf") {
                let second = Config::parse(&first.render(), "again.conf").unwrap();
                prop_assert_eq!(&first.sections, &second.sections);
            }
        }
    }
}
