//! What the API and the host labels say about a machine: this one's system information read
//! once, at first use, from this machine (`/etc/os-release`, `uname`, `/proc/cpuinfo`,
//! `/proc/meminfo`, `/sys/block`), the way netdata's `system-info.sh` finds it; a child's from
//! the host labels it streamed (`_os_name`, `_kernel_version`, ...), `"unknown"` where it sent
//! none. Used by `/api/v1/info`, health and exporting (host labels), so it is part of every
//! build, with or without the web server.

use std::sync::OnceLock;

#[cfg(feature = "web")]
use tributary_rrd::Host;

use crate::daemon::AgentState;

/// The version string the API and the exporters report (`"v" + ours`).
#[cfg(any(feature = "web", feature = "exporting"))]
pub fn netdata_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// What netdata's `system-info.sh` reports about a machine.
#[derive(Debug, Clone)]
pub struct SystemInfo {
    /// `(info key, host label, value)` in netdata's order; every value is a JSON string.
    pub fields: Vec<(&'static str, Option<&'static str>, String)>,
}

const UNKNOWN: &str = "unknown";

/// The `KEY=value` pairs of an os-release file (quotes removed).
fn os_release(path: &str) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_string(),
                    v.trim().trim_matches('"').trim_matches('\'').to_string(),
                )
            })
            .collect(),
    )
}

fn release_value(r: &Option<Vec<(String, String)>>, key: &str) -> String {
    r.as_ref()
        .and_then(|r| r.iter().find(|(k, _)| k == key))
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| UNKNOWN.into())
}

/// `%g`-style rendering of a frequency in Hz (`2.596e+09`), as netdata's script prints it.
fn hz_string(hz: f64) -> String {
    if hz <= 0.0 || !hz.is_finite() {
        return UNKNOWN.into();
    }
    let exp = hz.log10().floor() as i32;
    if exp < 6 {
        return format!("{hz}");
    }
    let mantissa = hz / 10f64.powi(exp);
    let m = format!("{mantissa:.5}");
    let m = m.trim_end_matches('0').trim_end_matches('.');
    format!("{m}e+{exp:02}")
}

fn cpu_freq() -> String {
    for f in ["base_frequency", "cpuinfo_max_freq", "scaling_max_freq"] {
        if let Ok(s) = std::fs::read_to_string(format!("/sys/devices/system/cpu/cpu0/cpufreq/{f}"))
            && let Ok(khz) = s.trim().parse::<u64>()
        {
            return (khz * 1000).to_string();
        }
    }
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("cpu MHz"))
                .and_then(|l| l.split(':').nth(1))
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .map_or_else(|| UNKNOWN.into(), |mhz| hz_string(mhz.round() * 1e6))
}

fn cores() -> String {
    std::thread::available_parallelism().map_or_else(|_| UNKNOWN.into(), |n| n.get().to_string())
}

fn ram_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or_else(|| UNKNOWN.into(), |kib| (kib * 1024).to_string())
}

/// The size of every real block device (one with a `device` link: no loop, ram, zram, dm).
fn disk_space() -> String {
    let Ok(dir) = std::fs::read_dir("/sys/block") else {
        return UNKNOWN.into();
    };
    let mut total: u64 = 0;
    for e in dir.flatten() {
        let p = e.path();
        if !p.join("device").exists() {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(p.join("size")) {
            total += s.trim().parse::<u64>().unwrap_or(0) * 512;
        }
    }
    total.to_string()
}

/// `(container, detection)`.
fn container() -> (String, String) {
    if std::path::Path::new("/.dockerenv").exists() {
        return ("docker".into(), "dockerenv".into());
    }
    if std::path::Path::new("/run/.containerenv").exists() {
        return ("podman".into(), "containerenv".into());
    }
    if let Ok(env) = std::fs::read("/proc/1/environ")
        && let Some(v) = env
            .split(|&b| b == 0)
            .find_map(|kv| kv.strip_prefix(b"container="))
    {
        return (String::from_utf8_lossy(v).into_owned(), "pid1-env".into());
    }
    ("none".into(), "none".into())
}

/// `(virtualization, detection)`.
fn virtualization() -> (String, String) {
    let hypervisor = std::fs::read_to_string("/proc/cpuinfo")
        .map(|t| {
            t.lines()
                .any(|l| l.starts_with("flags") && l.contains(" hypervisor"))
        })
        .unwrap_or(false);
    if !hypervisor {
        return ("none".into(), "none".into());
    }
    let vendor = std::fs::read_to_string("/sys/class/dmi/id/sys_vendor").unwrap_or_default();
    let v = vendor.trim();
    let name = match v {
        s if s.contains("QEMU") || s.contains("KVM") => "kvm",
        s if s.contains("VMware") => "vmware",
        s if s.contains("Microsoft") => "microsoft",
        s if s.contains("Xen") => "xen",
        s if s.contains("Amazon") => "amazon",
        s if s.contains("Google") => "google",
        s if s.contains("innotek") || s.contains("Oracle") => "oracle",
        _ => "hypervisor",
    };
    (name.into(), "/proc/cpuinfo".into())
}

fn collect_local() -> SystemInfo {
    let (container, container_detection) = container();
    let in_container = container != "none";
    // Inside a container, netdata reads the host's os-release from /host/etc (mounted by its
    // docker image) and the container's own from /etc.
    let (host_release, host_path) = if in_container {
        (os_release("/host/etc/os-release"), "/host/etc/os-release")
    } else {
        (
            os_release("/etc/os-release").or_else(|| os_release("/usr/lib/os-release")),
            "/etc/os-release",
        )
    };
    let container_release = if in_container {
        os_release("/etc/os-release")
    } else {
        None
    };
    let uname = rustix::system::uname();
    let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
    let (virt, virt_detection) = virtualization();
    let os_or = |key: &str| release_value(&host_release, key);
    let cont_or = |key: &str| {
        if in_container {
            release_value(&container_release, key)
        } else {
            "none".into()
        }
    };
    let detection = if host_release.is_some() {
        host_path.into()
    } else {
        UNKNOWN.into()
    };
    let cores = cores();
    let freq = cpu_freq();
    let ram = ram_total();
    let disk = disk_space();
    SystemInfo {
        fields: vec![
            ("os_name", Some("_os_name"), os_or("NAME")),
            ("os_id", None, os_or("ID")),
            ("os_id_like", None, os_or("ID_LIKE")),
            ("os_version", Some("_os_version"), os_or("VERSION")),
            ("os_version_id", None, os_or("VERSION_ID")),
            ("os_detection", None, detection),
            ("cores_total", Some("_system_cores"), cores),
            ("total_disk_space", Some("_system_disk_space"), disk),
            ("cpu_freq", Some("_system_cpu_freq"), freq),
            ("ram_total", Some("_system_ram_total"), ram),
            ("container_os_name", None, cont_or("NAME")),
            ("container_os_id", None, cont_or("ID")),
            ("container_os_id_like", None, cont_or("ID_LIKE")),
            ("container_os_version", None, cont_or("VERSION")),
            ("container_os_version_id", None, cont_or("VERSION_ID")),
            (
                "container_os_detection",
                None,
                if in_container {
                    "/etc/os-release".into()
                } else {
                    "none".into()
                },
            ),
            ("is_k8s_node", Some("_is_k8s_node"), {
                let k8s = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
                k8s.to_string()
            }),
            ("kernel_name", None, s(uname.sysname())),
            (
                "kernel_version",
                Some("_kernel_version"),
                s(uname.release()),
            ),
            ("architecture", Some("_architecture"), s(uname.machine())),
            ("virtualization", Some("_virtualization"), virt),
            ("virt_detection", Some("_virt_detection"), virt_detection),
            ("container", Some("_container"), container),
            (
                "container_detection",
                Some("_container_detection"),
                container_detection,
            ),
            (
                "cloud_provider_type",
                Some("_cloud_provider_type"),
                UNKNOWN.into(),
            ),
            (
                "cloud_instance_type",
                Some("_cloud_instance_type"),
                UNKNOWN.into(),
            ),
            (
                "cloud_instance_region",
                Some("_cloud_instance_region"),
                UNKNOWN.into(),
            ),
        ],
    }
}

/// This machine's system information (read once).
pub fn local_system_info() -> &'static SystemInfo {
    static INFO: OnceLock<SystemInfo> = OnceLock::new();
    INFO.get_or_init(collect_local)
}

/// A child's system information, from the host labels it streamed.
/// A child's system information, from the host labels it streamed.
#[cfg(feature = "web")]
pub fn child_system_info(host: &Host) -> SystemInfo {
    let labels = host.labels.read().unwrap_or_else(|p| p.into_inner());
    let label = |name: &str| {
        labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut info = local_system_info().clone();
    for (key, lbl, value) in &mut info.fields {
        *value = match lbl {
            Some(l) => label(l),
            None if *key == "kernel_name" => Some("Linux".into()),
            None => None,
        }
        .unwrap_or_else(|| UNKNOWN.into());
    }
    info
}

/// The host labels netdata's `/api/v1/info` shows for localhost.
pub fn local_host_labels(state: &AgentState) -> Vec<(String, String)> {
    let info = local_system_info();
    let mut out: Vec<(String, String)> = info
        .fields
        .iter()
        .filter_map(|(_, l, v)| l.map(|l| (l.to_string(), v.clone())))
        .collect();
    // netdata's order puts the cloud labels first.
    out.rotate_right(3);
    let sender = tributary_config::StreamConf::new(&state.stream_config).sender();
    let streams_to = sender
        .as_ref()
        .ok()
        .filter(|s| s.can_send())
        .map(|s| s.destination.clone());
    out.extend([
        ("_aclk_available".to_string(), "false".to_string()),
        ("_is_ephemeral".into(), "false".into()),
        ("_has_unstable_connection".into(), "false".into()),
        (
            "_is_parent".into(),
            (state.hosts.all().len() > 1).to_string(),
        ),
    ]);
    if let Some(d) = streams_to {
        out.push(("_streams_to".into(), d));
    }
    let own = state
        .hosts
        .localhost()
        .labels
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    for (k, v) in own {
        if !out.iter().any(|(ok, _)| *ok == k) {
            out.push((k, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_print_like_percent_g() {
        assert_eq!(hz_string(2_596_000_000.0), "2.596e+09");
        assert_eq!(hz_string(3_000_000_000.0), "3e+09");
        assert_eq!(hz_string(0.0), "unknown");
    }

    #[test]
    fn local_info_has_every_key() {
        let info = local_system_info();
        assert_eq!(info.fields.len(), 27);
        assert!(
            info.fields
                .iter()
                .any(|(k, _, v)| *k == "kernel_version" && !v.is_empty())
        );
    }
}
