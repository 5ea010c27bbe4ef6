//! Finding and reading the health.d files: the user directory first, then the stock
//! directory, recursively (depth 3). A stock file is skipped when the user directory has a
//! file of the same name (so an empty user `cpu.conf` disables the stock one). Within a
//! directory files are read in name order; the first definition of a key wins later (in the
//! engine), so user definitions beat stock ones.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config_file::{self, AlarmDef, ConfigError};

/// How deep netdata recurses into health.d.
const MAX_DEPTH: usize = 3;

/// Everything the health.d directories define.
#[derive(Debug, Default)]
pub struct HealthConfig {
    /// Every valid entity, user files first.
    pub defs: Vec<Arc<AlarmDef>>,
    /// Errors, each naming file and line.
    pub errors: Vec<ConfigError>,
    /// Expressions whose value may differ from netdata's (other precedence).
    pub precedence_warnings: Vec<ConfigError>,
    /// The files read.
    pub files: Vec<PathBuf>,
}

impl HealthConfig {
    /// Reads `user_dir` and (when given) `stock_dir`.
    pub fn load(user_dir: &Path, stock_dir: Option<&Path>) -> HealthConfig {
        let mut cfg = HealthConfig::default();
        let mut user_files = Vec::new();
        collect(user_dir, 0, &mut user_files);
        let mut files: Vec<PathBuf> = user_files.clone();
        if let Some(stock) = stock_dir.filter(|s| *s != user_dir) {
            let mut stock_files = Vec::new();
            collect(stock, 0, &mut stock_files);
            for f in stock_files {
                let rel = f.strip_prefix(stock).unwrap_or(&f);
                if user_dir.join(rel).is_file() {
                    continue;
                }
                files.push(f);
            }
        }
        for f in files {
            match fs::read(&f) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let parsed = config_file::parse(&text, &f);
                    cfg.defs.extend(parsed.entities.into_iter().map(Arc::new));
                    cfg.errors.extend(parsed.errors);
                    cfg.precedence_warnings.extend(parsed.precedence_warnings);
                }
                Err(e) => cfg.errors.push(ConfigError {
                    file: f.clone(),
                    line: 0,
                    message: format!("cannot read health configuration file: {e}"),
                }),
            }
            cfg.files.push(f);
        }
        cfg
    }

    /// Logs every error and precedence warning.
    pub fn log_problems(&self) {
        for e in &self.errors {
            log::error!("HEALTH: {e}");
        }
        for w in &self.precedence_warnings {
            log::warn!("HEALTH: {w}");
        }
    }
}

/// Files ending in `.conf` under `dir`, sorted by name, subdirectories after files.
fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    let mut dirs = Vec::new();
    for p in names {
        if p.is_dir() {
            dirs.push(p);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() > 5 && n.ends_with(".conf"))
        {
            out.push(p);
        }
    }
    for d in dirs {
        collect(&d, depth + 1, out);
    }
}
