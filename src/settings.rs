//! The effective settings of the agent: built-in defaults < netdata.conf < `-W set` < the other
//! command-line flags. Every bad value is an error naming file, line, section and key.

use std::fmt;
use std::path::{Path, PathBuf};

use tributary_config::netdata_conf::lookup;
use tributary_config::values::Boolean;
use tributary_config::{Config, Entry};
use tributary_rrd::MemoryMode;

use crate::cli::Args;

/// `[web] mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebMode {
    /// No listening socket at all.
    None,
    /// One thread serves every connection.
    SingleThreaded,
    /// A pool of threads.
    MultiThreaded,
}

/// A setting whose value is not one of the accepted ones.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}: [{section}] {key} = '{value}': {problem}")]
pub struct SettingError {
    /// Where the value came from (`file:line`).
    pub origin: String,
    /// Section.
    pub section: String,
    /// Key.
    pub key: String,
    /// The bad value.
    pub value: String,
    /// What was expected.
    pub problem: String,
}

impl SettingError {
    fn new(e: &Entry, problem: impl fmt::Display) -> SettingError {
        SettingError {
            origin: e.origin().to_string(),
            section: e.section().to_string(),
            key: e.key().to_string(),
            value: e.value().to_string(),
            problem: problem.to_string(),
        }
    }
}

impl From<tributary_config::ValueError> for SettingError {
    fn from(e: tributary_config::ValueError) -> SettingError {
        SettingError {
            origin: e.origin.to_string(),
            section: e.section,
            key: e.key,
            value: e.value,
            problem: e.problem.to_string(),
        }
    }
}

/// Everything the agent needs to start.
#[derive(Debug, Clone)]
// The listener's settings go unread without the web server (feature `web`).
#[cfg_attr(not(feature = "web"), allow(dead_code))]
pub struct Settings {
    /// `[global] hostname`.
    pub hostname: String,
    /// `[db] update every`.
    pub update_every: u32,
    /// `[db] retention` (history).
    pub history: i64,
    /// `[db] mode`.
    pub memory_mode: MemoryMode,
    /// `[web] mode`.
    pub web_mode: WebMode,
    /// `[web] bind to` (first address; `*` = all).
    pub bind_to: String,
    /// `[web] default port`.
    pub port: u16,
    /// `[directories] config`.
    pub config_dir: PathBuf,
    /// `[directories] cache`.
    pub cache_dir: PathBuf,
    /// `[directories] lib`.
    pub lib_dir: PathBuf,
    /// `[directories] log`.
    pub log_dir: PathBuf,
    /// `[logs] error`.
    pub error_log: String,
    /// `-s` prefix for /proc and /sys.
    pub host_prefix: PathBuf,
    /// `[web] allow connections from` (simple pattern of client IPs).
    pub allow_connections_from: String,
    /// `[web] allow streaming from` (simple pattern of client IPs).
    pub allow_streaming_from: String,
    /// `[web] accept a streaming request every seconds` (0: no limit).
    pub stream_accept_every_secs: u64,
    /// `[web] enable gzip compression` and `gzip compression level`: the level, or None.
    pub gzip_level: Option<u32>,
    /// `[web] ssl certificate` (PEM), when set and present.
    pub ssl_certificate: Option<PathBuf>,
    /// `[web] ssl key` (PEM), when set and present.
    pub ssl_key: Option<PathBuf>,
    /// TLS on the listener: off without a certificate, else from `bind to ...^SSL=`.
    pub tls_mode: TlsMode,
    /// `[directories] plugins`: where external `*.plugin` files are looked for, in order (a
    /// plugin file name found in two directories runs from the first).
    pub plugins_dirs: Vec<PathBuf>,
    /// `[directories] web`: serve this directory's files (netdata's dashboards) instead of
    /// tributary's own dashboard; unset or empty: our dashboard.
    pub web_dir: Option<PathBuf>,
}

/// Splits netdata's quoted list of directories (`"/a dir" /b,/c`): words are separated by
/// spaces, tabs or commas; a word in single or double quotes may contain them.
pub fn split_quoted_list(value: &str) -> Vec<String> {
    let sep = |c: &char| matches!(c, ' ' | '\t' | ',' | '\r' | '\n');
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(sep).is_some() {}
        let Some(first) = chars.next() else {
            return out;
        };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            for c in chars.by_ref() {
                if c == first {
                    break;
                }
                word.push(c);
            }
        } else {
            word.push(first);
            while let Some(c) = chars.next_if(|c| !sep(c)) {
                word.push(c);
            }
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
}

/// The built-in `[directories] plugins`: netdata's plugins where Debian/Ubuntu packages
/// (`/usr/lib`) and netdata's own installers (`/usr/libexec`) put them, then the user's
/// `CONFIG/custom-plugins.d` (netdata's default is `"PLUGINS_DIR" "CONFIG/custom-plugins.d"`).
fn default_plugins_dirs(config_dir: &Path) -> String {
    format!(
        "\"/usr/lib/netdata/plugins.d\" \"/usr/libexec/netdata/plugins.d\" \"{}\"",
        config_dir.join("custom-plugins.d").display()
    )
}

fn str_setting(cfg: &Config, section: &str, key: &str, default: &str) -> String {
    lookup(cfg, section, key).map_or_else(|| default.to_string(), |e| e.value().to_string())
}

/// Reads a yes/no setting.
pub fn bool_setting(
    cfg: &Config,
    section: &str,
    key: &str,
    default: bool,
) -> Result<bool, SettingError> {
    match lookup(cfg, section, key) {
        None => Ok(default),
        Some(e) => match e.as_bool()? {
            Boolean::No => Ok(false),
            Boolean::Yes | Boolean::Auto => Ok(true),
        },
    }
}

fn system_hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

impl Settings {
    /// Resolves the settings. `cfg` already holds the file and the `-W set` overrides; the
    /// built-in defaults of the keys read here are recorded in it, so that `/netdata.conf`
    /// lists every key with its effective value.
    pub fn resolve(cfg: &mut Config, args: &Args) -> Result<Settings, SettingError> {
        let hostname = system_hostname();
        let bind_default = if args.config_file.is_none() {
            "127.0.0.1"
        } else {
            "*"
        };
        let log_default = str_setting(cfg, "directories", "log", "/var/log/tributary");
        let error_default = if args.foreground {
            "stderr".to_string()
        } else {
            format!("{log_default}/error.log")
        };
        let defaults: [(&str, &str, &str); 14] = [
            ("web", "allow connections from", "localhost *"),
            ("web", "allow streaming from", "*"),
            ("global", "hostname", &hostname),
            ("db", "update every", "1"),
            ("db", "retention", "3600"),
            ("db", "mode", "ram"),
            ("web", "mode", "multi-threaded"),
            ("web", "bind to", bind_default),
            ("web", "default port", "19999"),
            ("directories", "cache", "/var/cache/tributary"),
            ("directories", "lib", "/var/lib/tributary"),
            ("directories", "log", "/var/log/tributary"),
            ("logs", "error", &error_default),
            ("plugins", "enable running new plugins", "yes"),
        ];
        for (section, key, value) in defaults {
            if lookup(cfg, section, key).is_none() {
                cfg.set_default(section, key, value);
            }
        }
        let cfg: &Config = cfg;
        let config_dir = match lookup(cfg, "directories", "config") {
            Some(e) => PathBuf::from(e.value()),
            None => args
                .config_file
                .as_deref()
                .and_then(Path::parent)
                .map_or_else(|| PathBuf::from("/etc/tributary"), Path::to_path_buf),
        };
        let update_every = match args.update_every {
            Some(t) => t,
            None => match lookup(cfg, "db", "update every") {
                None => 1,
                Some(e) => {
                    let v = e.as_u64()?;
                    if v == 0 || v > 86400 {
                        return Err(SettingError::new(e, "expected seconds between 1 and 86400"));
                    }
                    v as u32
                }
            },
        };
        let plugins_dirs = split_quoted_list(&str_setting(
            cfg,
            "directories",
            "plugins",
            &default_plugins_dirs(&config_dir),
        ))
        .into_iter()
        .map(PathBuf::from)
        .collect();
        let history = match lookup(cfg, "db", "retention") {
            None => 3600,
            Some(e) => e.as_i64()?,
        };
        let memory_mode = match lookup(cfg, "db", "mode") {
            None => MemoryMode::Ram,
            Some(e) => MemoryMode::parse(e.value())
                .ok_or_else(|| SettingError::new(e, "expected none, ram, save or map"))?,
        };
        let web_mode = match lookup(cfg, "web", "mode") {
            None => WebMode::MultiThreaded,
            Some(e) => match e.value() {
                "none" => WebMode::None,
                "single-threaded" => WebMode::SingleThreaded,
                "multi-threaded" | "static-threaded" => WebMode::MultiThreaded,
                _ => {
                    return Err(SettingError::new(
                        e,
                        "expected none, single-threaded or multi-threaded",
                    ));
                }
            },
        };
        let port = match args.port {
            Some(p) => p,
            None => match lookup(cfg, "web", "default port") {
                None => 19999,
                Some(e) => u16::try_from(e.as_u64()?)
                    .map_err(|_| SettingError::new(e, "expected a TCP port (0-65535)"))?,
            },
        };
        let bind_to = match &args.bind_ip {
            Some(ip) => ip.clone(),
            None => {
                let default = if args.config_file.is_none() {
                    "127.0.0.1"
                } else {
                    "*"
                };
                let v = str_setting(cfg, "web", "bind to", default);
                let first = v.split_whitespace().next().unwrap_or(default);
                first.split('^').next().unwrap_or(default).to_string()
            }
        };
        let bind_value = str_setting(cfg, "web", "bind to", "");
        let gzip_level = if bool_setting(cfg, "web", "enable gzip compression", true)? {
            Some(match lookup(cfg, "web", "gzip compression level") {
                None => 3,
                Some(e) => u32::try_from(e.as_u64()?)
                    .ok()
                    .filter(|l| (1..=9).contains(l))
                    .ok_or_else(|| SettingError::new(e, "expected a level from 1 to 9"))?,
            })
        } else {
            None
        };
        let ssl_file = |key: &str, default: &str| {
            let p = PathBuf::from(str_setting(cfg, "web", key, default));
            p.is_file().then_some(p)
        };
        let ssl_certificate = ssl_file(
            "ssl certificate",
            &config_dir.join("ssl/cert.pem").display().to_string(),
        );
        let ssl_key = ssl_file(
            "ssl key",
            &config_dir.join("ssl/key.pem").display().to_string(),
        );
        let tls_mode = if ssl_certificate.is_none() || ssl_key.is_none() {
            TlsMode::Off
        } else if bind_value.contains("^SSL=force") {
            TlsMode::Force
        } else {
            TlsMode::Optional
        };
        let stream_accept_every_secs =
            match lookup(cfg, "web", "accept a streaming request every seconds") {
                None => 0,
                Some(e) => e.as_u64()?,
            };
        let log_dir = PathBuf::from(str_setting(cfg, "directories", "log", "/var/log/tributary"));
        let default_error_log = if args.foreground {
            "stderr".to_string()
        } else {
            log_dir.join("error.log").display().to_string()
        };
        Ok(Settings {
            hostname: str_setting(cfg, "global", "hostname", &system_hostname()),
            update_every,
            history,
            memory_mode,
            web_mode,
            bind_to,
            port,
            config_dir,
            cache_dir: str_setting(cfg, "directories", "cache", "/var/cache/tributary").into(),
            lib_dir: str_setting(cfg, "directories", "lib", "/var/lib/tributary").into(),
            error_log: str_setting(cfg, "logs", "error", &default_error_log),
            log_dir,
            host_prefix: args.host_prefix.clone().unwrap_or_default(),
            allow_connections_from: str_setting(
                cfg,
                "web",
                "allow connections from",
                "localhost *",
            ),
            allow_streaming_from: str_setting(cfg, "web", "allow streaming from", "*"),
            stream_accept_every_secs,
            gzip_level,
            ssl_certificate,
            ssl_key,
            tls_mode,
            plugins_dirs,
            web_dir: lookup(cfg, "directories", "web")
                .map(|e| e.value().trim().trim_matches('"').to_string())
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        })
    }
}

/// Whether the listener speaks TLS (netdata's `bind to` option `^SSL=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No certificate configured: plain only.
    Off,
    /// TLS and plain on the same port (netdata's default once a certificate is set).
    Optional,
    /// TLS only: plain HTTP is redirected, plain streams are refused.
    Force,
}
