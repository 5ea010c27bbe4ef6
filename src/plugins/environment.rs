//! The environment netdata 1.37.1 gives its plugins (spec plugins-d-protocol.md §2 and
//! fixtures/stream/real-child/plugin-environment.txt): where the user and stock configuration
//! live (`NETDATA_USER_CONFIG_DIR` = `[directories] config`, `NETDATA_STOCK_CONFIG_DIR` =
//! `[directories] stock config`: python.d.plugin, charts.d.plugin and apps.plugin read the
//! user's file first and fall back to the stock one), the other directories, the registry and
//! system facts, `PATH` and the locale.

use std::path::{Path, PathBuf};
use std::thread;

use tributary_config::Config;
use tributary_config::netdata_conf::lookup;
use tributary_rrd::Host;

use crate::settings::Settings;

/// The version plugins are told they run under: tributary speaks netdata 1.37.1's protocol.
const NETDATA_VERSION: &str = "v1.37.1";

/// `[directories] lock` (default `LIB/lock`): python.d.plugin keeps its job locks there and
/// skips every job when it is missing. netdata creates it at start; so does tributary.
pub fn lock_dir(cfg: &Config, settings: &Settings) -> PathBuf {
    lookup(cfg, "directories", "lock").map_or_else(
        || settings.lib_dir.join("lock"),
        |e| PathBuf::from(e.value()),
    )
}

/// The variables of a plugin's environment, on top of the agent's own.
pub fn environment(cfg: &Config, settings: &Settings, host: &Host) -> Vec<(String, String)> {
    let get = |section: &str, key: &str, default: &str| {
        lookup(cfg, section, key).map_or_else(|| default.to_string(), |e| e.value().to_string())
    };
    let path_of = |p: &Path| p.display().to_string();
    let primary = settings
        .plugins_dirs
        .iter()
        .find(|d| d.is_dir())
        .or(settings.plugins_dirs.first())
        .cloned()
        .unwrap_or_default();
    let others = settings
        .plugins_dirs
        .iter()
        .filter(|d| **d != primary)
        .map(|d| path_of(d))
        .collect::<Vec<_>>()
        .join(" ");
    let inherited_path = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".into());
    let lib = path_of(&settings.lib_dir);
    let home_default = std::env::var("HOME").unwrap_or_else(|_| path_of(&settings.cache_dir));
    let uname = rustix::system::uname();
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let mut env = vec![
        ("NETDATA_UPDATE_EVERY", settings.update_every.to_string()),
        ("NETDATA_VERSION", NETDATA_VERSION.to_string()),
        ("NETDATA_HOSTNAME", settings.hostname.clone()),
        ("NETDATA_CONFIG_DIR", path_of(&settings.config_dir)),
        ("NETDATA_USER_CONFIG_DIR", path_of(&settings.config_dir)),
        (
            "NETDATA_STOCK_CONFIG_DIR",
            get("directories", "stock config", "/usr/lib/netdata/conf.d"),
        ),
        ("NETDATA_PLUGINS_DIR", path_of(&primary)),
        ("NETDATA_USER_PLUGINS_DIRS", others),
        (
            "NETDATA_WEB_DIR",
            get("directories", "web", "/usr/share/netdata/web"),
        ),
        ("NETDATA_CACHE_DIR", path_of(&settings.cache_dir)),
        ("NETDATA_LIB_DIR", lib.clone()),
        ("NETDATA_LOCK_DIR", path_of(&lock_dir(cfg, settings))),
        ("NETDATA_LOG_DIR", path_of(&settings.log_dir)),
        ("HOME", get("directories", "home", &home_default)),
        ("NETDATA_HOST_PREFIX", path_of(&settings.host_prefix)),
        ("NETDATA_LISTEN_PORT", settings.port.to_string()),
        ("NETDATA_DEBUG_FLAGS", "0x0000000000000000".into()),
        (
            "NETDATA_ERRORS_THROTTLE_PERIOD",
            get("logs", "errors flood protection period", "1200"),
        ),
        (
            "NETDATA_ERRORS_PER_PERIOD",
            get("logs", "errors to trigger flood protection", "200"),
        ),
        ("NETDATA_INTERNALS_MONITORING", "NO".into()),
        (
            "NETDATA_REGISTRY_UNIQUE_ID",
            host.machine_guid().to_string(),
        ),
        (
            "NETDATA_REGISTRY_HOSTNAME",
            get("registry", "registry hostname", &settings.hostname),
        ),
        (
            "NETDATA_REGISTRY_URL",
            get(
                "registry",
                "registry to announce",
                "https://registry.my-netdata.io",
            ),
        ),
        (
            "NETDATA_REGISTRY_CLOUD_BASE_URL",
            get("cloud", "cloud base url", "https://api.netdata.cloud"),
        ),
        (
            "NETDATA_SYSTEM_KERNEL_NAME",
            uname.sysname().to_string_lossy().into_owned(),
        ),
        (
            "NETDATA_SYSTEM_KERNEL_VERSION",
            uname.release().to_string_lossy().into_owned(),
        ),
        (
            "NETDATA_SYSTEM_ARCHITECTURE",
            uname.machine().to_string_lossy().into_owned(),
        ),
        ("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT", cpus.to_string()),
        (
            "PATH",
            get(
                "env vars",
                "PATH",
                &format!("{inherited_path}:/sbin:/usr/sbin:/usr/local/bin:/usr/local/sbin"),
            ),
        ),
        (
            "PYTHONPATH",
            get(
                "env vars",
                "PYTHONPATH",
                &std::env::var("PYTHONPATH").unwrap_or_default(),
            ),
        ),
        ("PYTHONUNBUFFERED", "1".into()),
        ("LC_ALL", "C".into()),
    ];
    if std::env::var_os("TZ").is_none() {
        env.push(("TZ", get("env vars", "TZ", ":/etc/localtime")));
    }
    env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
