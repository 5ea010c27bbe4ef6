//! What netdata's `system-info.sh` tells about the machine, as the `NETDATA_SYSTEM_*` /
//! `NETDATA_CONTAINER_*` parameters of a STREAM request (spec §2.1), read once at start-up.
//! netdata 1.37.1 parents need every one of them non-empty: a proxy's sender frees an unset
//! value while building its own request and stops (seen with a real netdata proxy).

use tributary_protocol::handshake::SYSTEM_INFO_PARAMS;

fn os_release() -> Vec<(String, String)> {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

fn total_ram_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = text
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The parameters in netdata's order, with `unknown` where nothing is known.
pub fn stream_parameters() -> Vec<(String, String)> {
    let os = os_release();
    let os_value = |key: &str| {
        os.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let uname = rustix::system::uname();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    SYSTEM_INFO_PARAMS
        .iter()
        .map(|&name| {
            let value = match name {
                "NETDATA_SYSTEM_OS_NAME" => os_value("NAME"),
                "NETDATA_SYSTEM_OS_ID" => os_value("ID"),
                "NETDATA_SYSTEM_OS_ID_LIKE" => os_value("ID_LIKE"),
                "NETDATA_SYSTEM_OS_VERSION" => os_value("VERSION"),
                "NETDATA_SYSTEM_OS_VERSION_ID" => os_value("VERSION_ID"),
                "NETDATA_SYSTEM_OS_DETECTION" => Some("/etc/os-release".to_string()),
                "NETDATA_HOST_IS_K8S_NODE" => Some("false".to_string()),
                "NETDATA_SYSTEM_KERNEL_NAME" => {
                    Some(uname.sysname().to_string_lossy().into_owned())
                }
                "NETDATA_SYSTEM_KERNEL_VERSION" => {
                    Some(uname.release().to_string_lossy().into_owned())
                }
                "NETDATA_SYSTEM_ARCHITECTURE" => {
                    Some(uname.machine().to_string_lossy().into_owned())
                }
                "NETDATA_SYSTEM_CONTAINER" | "NETDATA_SYSTEM_VIRTUALIZATION" => {
                    Some("none".to_string())
                }
                "NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT" => Some(cpus.to_string()),
                "NETDATA_SYSTEM_TOTAL_RAM" => total_ram_bytes().map(|b| b.to_string()),
                "NETDATA_PROTOCOL_VERSION" => Some("1.1".to_string()),
                _ => None,
            };
            (
                name.to_string(),
                value
                    .unwrap_or_else(|| "unknown".to_string())
                    .replace('&', " "),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_parameter_has_a_value() {
        let p = super::stream_parameters();
        assert_eq!(
            p.len(),
            tributary_protocol::handshake::SYSTEM_INFO_PARAMS.len()
        );
        assert!(p.iter().all(|(_, v)| !v.is_empty()));
        assert!(
            p.iter()
                .any(|(k, v)| k == "NETDATA_SYSTEM_KERNEL_NAME" && v == "Linux")
        );
    }
}
