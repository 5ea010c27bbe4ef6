//! netdata.conf specifics: the old names of moved keys, and the `/netdata.conf` rendering.
//!
//! Mirrors netdata 1.37's `backwards_compatible_config()` in `daemon/main.c`, which calls
//! `config_move(old section, old key, new section, new key)` for every key that moved (for
//! example `[global] memory mode` to `[db] mode`), and `appconfig_generate()` in
//! `libnetdata/config/appconfig.c`, which writes the effective configuration.
//!
//! `config_move` only moves the old key when the new one is not set, so the new name wins when
//! both are present, and among several old names the first one listed wins. [`lookup`] does the
//! same, with one difference: a value set on the command line (`-W set`) wins under any of the
//! names. netdata applies `-W set` before moving, so there `-W set global "memory mode" ram` loses
//! to a `[db] mode` line in the file; the contract says `-W set` wins over the file.

use crate::ini::{Config, Entry, Origin, push_entry};

/// A key as `(section, key)`.
pub type Name = (&'static str, &'static str);

/// A key under its current name, with the older names netdata 1.37 still accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    /// The current name, as netdata 1.37 writes it in `/netdata.conf`.
    pub canonical: Name,
    /// Older names, in netdata's order of precedence.
    pub old: &'static [Name],
}

const fn alias(canonical: Name, old: &'static [Name]) -> Alias {
    Alias { canonical, old }
}

/// Every key moved by netdata 1.37's `backwards_compatible_config()`.
pub const ALIASES: &[Alias] = &[
    alias(
        ("web", "listen backlog"),
        &[("global", "http port listen backlog")],
    ),
    alias(
        ("web", "bind to"),
        &[("global", "bind socket to IP"), ("global", "bind to")],
    ),
    alias(
        ("web", "default port"),
        &[("global", "port"), ("global", "default port")],
    ),
    alias(
        ("web", "disconnect idle clients after seconds"),
        &[("global", "disconnect idle web clients after seconds")],
    ),
    alias(
        ("web", "respect do not track policy"),
        &[("global", "respect web browser do not track policy")],
    ),
    alias(
        ("web", "x-frame-options response header"),
        &[("global", "web x-frame-options header")],
    ),
    alias(
        ("web", "enable gzip compression"),
        &[("global", "enable web responses gzip compression")],
    ),
    alias(
        ("web", "gzip compression strategy"),
        &[("global", "web compression strategy")],
    ),
    alias(
        ("web", "gzip compression level"),
        &[("global", "web compression level")],
    ),
    alias(("directories", "config"), &[("global", "config directory")]),
    alias(
        ("directories", "stock config"),
        &[("global", "stock config directory")],
    ),
    alias(("directories", "log"), &[("global", "log directory")]),
    alias(("directories", "web"), &[("global", "web files directory")]),
    alias(("directories", "cache"), &[("global", "cache directory")]),
    alias(("directories", "lib"), &[("global", "lib directory")]),
    alias(("directories", "home"), &[("global", "home directory")]),
    alias(("directories", "lock"), &[("global", "lock directory")]),
    alias(
        ("directories", "plugins"),
        &[("global", "plugins directory")],
    ),
    alias(
        ("directories", "health config"),
        &[("health", "health configuration directory")],
    ),
    alias(
        ("directories", "stock health config"),
        &[("health", "stock health configuration directory")],
    ),
    alias(
        ("directories", "registry"),
        &[("registry", "registry db directory")],
    ),
    alias(("logs", "debug"), &[("global", "debug log")]),
    alias(("logs", "error"), &[("global", "error log")]),
    alias(("logs", "access"), &[("global", "access log")]),
    alias(("logs", "facility"), &[("global", "facility log")]),
    alias(
        ("logs", "errors flood protection period"),
        &[("global", "errors flood protection period")],
    ),
    alias(
        ("logs", "errors to trigger flood protection"),
        &[("global", "errors to trigger flood protection")],
    ),
    alias(("logs", "debug flags"), &[("global", "debug flags")]),
    alias(
        ("environment variables", "TZ"),
        &[("global", "TZ environment variable")],
    ),
    alias(
        ("environment variables", "PATH"),
        &[("plugins", "PATH environment variable")],
    ),
    alias(
        ("environment variables", "PYTHONPATH"),
        &[("plugins", "PYTHONPATH environment variable")],
    ),
    alias(("plugins", "statsd"), &[("statsd", "enabled")]),
    alias(("db", "mode"), &[("global", "memory mode")]),
    alias(("db", "retention"), &[("global", "history")]),
    alias(("db", "update every"), &[("global", "update every")]),
    alias(
        ("db", "dbengine page cache size MB"),
        &[("global", "page cache size"), ("db", "page cache size")],
    ),
    alias(
        ("db", "dbengine page cache with malloc"),
        &[
            ("global", "page cache uses malloc"),
            ("db", "page cache with malloc"),
        ],
    ),
    alias(
        ("db", "dbengine disk space MB"),
        &[("global", "dbengine disk space")],
    ),
    alias(
        ("db", "dbengine multihost disk space MB"),
        &[("global", "dbengine multihost disk space")],
    ),
    alias(
        ("db", "memory deduplication (ksm)"),
        &[("global", "memory deduplication (ksm)")],
    ),
    alias(
        ("db", "dbengine page fetch timeout secs"),
        &[("global", "dbengine page fetch timeout")],
    ),
    alias(
        ("db", "dbengine page fetch retries"),
        &[("global", "dbengine page fetch retries")],
    ),
    alias(
        ("db", "dbengine pages per extent"),
        &[("global", "dbengine extent pages")],
    ),
    alias(
        ("db", "cleanup obsolete charts after secs"),
        &[("global", "cleanup obsolete charts after seconds")],
    ),
    alias(
        ("db", "gap when lost iterations above"),
        &[("global", "gap when lost iterations above")],
    ),
    alias(
        ("db", "cleanup orphan hosts after secs"),
        &[("global", "cleanup orphan hosts after seconds")],
    ),
    alias(
        ("db", "delete obsolete charts files"),
        &[("global", "delete obsolete charts files")],
    ),
    alias(
        ("db", "delete orphan hosts files"),
        &[("global", "delete orphan hosts files")],
    ),
    alias(
        ("db", "enable zero metrics"),
        &[("global", "enable zero metrics")],
    ),
];

/// The alias group `section`/`key` belongs to, under its current or any older name.
pub fn alias_of(section: &str, key: &str) -> Option<&'static Alias> {
    let is = |name: &Name| name.0 == section && name.1 == key;
    ALIASES
        .iter()
        .find(|a| is(&a.canonical) || a.old.iter().any(is))
}

/// The current name of a key: `("global", "history")` gives `("db", "retention")`; a key that
/// never moved is returned as given.
pub fn canonical<'a>(section: &'a str, key: &'a str) -> (&'a str, &'a str) {
    match alias_of(section, key) {
        Some(alias) => alias.canonical,
        None => (section, key),
    }
}

/// Reads a netdata.conf setting by any of its names, finding the value under the current name
/// or any older one, and marks what it returns as used.
///
/// Precedence: a command-line value under any name, then the current name, then the older names
/// in netdata's order.
pub fn lookup<'a>(cfg: &'a Config, section: &str, key: &str) -> Option<&'a Entry> {
    let Some(alias) = alias_of(section, key) else {
        return cfg.entry(section, key);
    };
    let names = || std::iter::once(&alias.canonical).chain(alias.old);
    let peek = |name: &Name| cfg.section(name.0).and_then(|s| s.peek(name.1));
    let entry = names()
        .filter_map(peek)
        .find(|e| *e.origin() == Origin::CommandLine)
        .or_else(|| names().find_map(peek))?;
    entry.mark_used();
    Some(entry)
}

/// netdata's order of the well-known sections in `/netdata.conf` (`appconfig_generate`);
/// other sections come after `[web]`, and `[plugin:*]` sections last.
fn section_priority(name: &str) -> u8 {
    const ORDER: [&str; 11] = [
        "global",
        "db",
        "directories",
        "logs",
        "environment variables",
        "host labels",
        "sqlite",
        "cloud",
        "ml",
        "health",
        "web",
    ];
    const AFTER_UNKNOWN: [&str; 4] = ["registry", "global statistics", "plugins", "statsd"];
    if let Some(at) = ORDER.iter().position(|s| *s == name) {
        return at as u8;
    }
    if let Some(at) = AFTER_UNKNOWN.iter().position(|s| *s == name) {
        return 12 + at as u8;
    }
    if name.starts_with("plugin:") { 16 } else { 11 }
}

/// The header netdata 1.37 writes at the top of `/netdata.conf`.
pub const NETDATA_CONF_HEADER: &str = "# netdata configuration\n\
#\n\
# You can download the latest version of this file, using:\n\
#\n\
#  wget -O /etc/netdata/netdata.conf http://localhost:19999/netdata.conf\n\
# or\n\
#  curl -o /etc/netdata/netdata.conf http://localhost:19999/netdata.conf\n\
#\n\
# You can uncomment and change any of the options below.\n\
# The value shown in the commented settings, is the default value.\n\
#\n\
\n# global netdata configuration\n";

/// Writes the effective configuration the way netdata 1.37 serves `/netdata.conf`: the
/// header, well-known sections first, built-in defaults commented out (`# key = value`), and a
/// note before every section and option the agent never read.
pub fn render_effective(cfg: &Config) -> String {
    let mut sections: Vec<_> = cfg.sections().filter(|s| !s.entries().is_empty()).collect();
    sections.sort_by_key(|s| section_priority(s.name()));
    let mut out = String::from(NETDATA_CONF_HEADER);
    for section in sections {
        let used = section.entries().iter().any(Entry::is_used);
        if !used {
            out.push_str(&format!("\n# section '{}' is not used.", section.name()));
        }
        out.push_str(&format!("\n[{}]\n", section.name()));
        for entry in section.entries() {
            if used && !entry.is_used() {
                out.push_str(&format!("\n\t# option '{}' is not used.\n", entry.key()));
            }
            let default = *entry.origin() == Origin::Default && entry.is_used();
            push_entry(&mut out, entry, default);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(text, "netdata.conf").unwrap()
    }

    #[test]
    fn contract_aliases_resolve_both_ways() {
        // (file contents, canonical name asked for, old name asked for, expected value)
        let cases = [
            (
                "[global]\nupdate every = 2\n",
                ("db", "update every"),
                ("global", "update every"),
            ),
            (
                "[global]\nhistory = 7200\n",
                ("db", "retention"),
                ("global", "history"),
            ),
            (
                "[global]\nmemory mode = ram\n",
                ("db", "mode"),
                ("global", "memory mode"),
            ),
            (
                "[global]\ndefault port = 1\n",
                ("web", "default port"),
                ("global", "default port"),
            ),
            (
                "[global]\nconfig directory = /c\n",
                ("directories", "config"),
                ("global", "config directory"),
            ),
            (
                "[global]\ncache directory = /c\n",
                ("directories", "cache"),
                ("global", "cache directory"),
            ),
            (
                "[global]\nlib directory = /l\n",
                ("directories", "lib"),
                ("global", "lib directory"),
            ),
            (
                "[global]\nlog directory = /l\n",
                ("directories", "log"),
                ("global", "log directory"),
            ),
            (
                "[global]\nplugins directory = /p\n",
                ("directories", "plugins"),
                ("global", "plugins directory"),
            ),
            (
                "[global]\nweb files directory = /w\n",
                ("directories", "web"),
                ("global", "web files directory"),
            ),
            (
                "[db]\nupdate every = 2\n",
                ("db", "update every"),
                ("global", "update every"),
            ),
            (
                "[db]\nretention = 7200\n",
                ("db", "retention"),
                ("global", "history"),
            ),
            (
                "[web]\ndefault port = 1\n",
                ("web", "default port"),
                ("global", "default port"),
            ),
            (
                "[directories]\nweb = /w\n",
                ("directories", "web"),
                ("global", "web files directory"),
            ),
        ];
        for (text, current, old) in cases {
            let cfg = parse(text);
            let expected = cfg.iter().next().unwrap().value().to_owned();
            assert_eq!(
                lookup(&cfg, current.0, current.1).map(Entry::value),
                Some(&*expected)
            );
            assert_eq!(
                lookup(&cfg, old.0, old.1).map(Entry::value),
                Some(&*expected)
            );
            assert_eq!(canonical(old.0, old.1), current);
            assert_eq!(cfg.unused().count(), 0, "{text:?}");
        }
    }

    #[test]
    fn the_current_name_wins_over_old_names_like_config_move() {
        let cfg = parse("[global]\nmemory mode = ram\n[db]\nmode = save\n");
        assert_eq!(
            lookup(&cfg, "global", "memory mode").unwrap().value(),
            "save"
        );
        // the losing old key stays unused, so it can be reported
        let unused: Vec<_> = cfg.unused().map(Entry::key).collect();
        assert_eq!(unused, ["memory mode"]);
    }

    #[test]
    fn first_old_name_wins_among_old_names() {
        let cfg = parse("[global]\ndefault port = 2\nport = 1\n");
        assert_eq!(lookup(&cfg, "web", "default port").unwrap().value(), "1");
    }

    #[test]
    fn command_line_wins_under_any_name() {
        let mut cfg = parse("[db]\nmode = save\n");
        cfg.set("global", "memory mode", "ram");
        assert_eq!(lookup(&cfg, "db", "mode").unwrap().value(), "ram");
    }

    #[test]
    fn keys_without_aliases_are_plain_lookups() {
        let cfg = parse("[global]\nhostname = box\n");
        assert_eq!(lookup(&cfg, "global", "hostname").unwrap().value(), "box");
        assert_eq!(canonical("global", "hostname"), ("global", "hostname"));
        assert!(lookup(&cfg, "db", "mode").is_none());
    }

    #[test]
    fn every_name_belongs_to_one_group() {
        let mut seen = std::collections::HashSet::new();
        for alias in ALIASES {
            for name in std::iter::once(&alias.canonical).chain(alias.old) {
                assert!(seen.insert(*name), "{name:?} listed twice");
            }
        }
    }

    #[test]
    fn render_effective_orders_sections_and_comments_defaults() {
        let mut cfg = parse(
            "[plugin:proc]\na = 1\n[web]\nmode = none\n[custom]\nx = 1\n[global]\nhostname = h\n",
        );
        cfg.set_default("db", "retention", "3600");
        assert!(lookup(&cfg, "global", "hostname").is_some());
        assert!(lookup(&cfg, "web", "mode").is_some());
        let out = render_effective(&cfg);
        let body = out.strip_prefix(NETDATA_CONF_HEADER).unwrap();
        assert_eq!(
            body,
            "\n[global]\n\thostname = h\n\
             \n[db]\n\t# retention = 3600\n\
             \n[web]\n\tmode = none\n\
             \n# section 'custom' is not used.\n[custom]\n\tx = 1\n\
             \n# section 'plugin:proc' is not used.\n[plugin:proc]\n\ta = 1\n"
        );
        let mut cfg = parse("[web]\nmode = none\ntypo = 1\n");
        assert!(cfg.get("web", "mode").is_some());
        cfg.set("web", "x", "y");
        let out = render_effective(&cfg);
        assert!(out.ends_with("[web]\n\tmode = none\n\n\t# option 'typo' is not used.\n\ttypo = 1\n\n\t# option 'x' is not used.\n\tx = y\n"), "{out}");
    }
}
