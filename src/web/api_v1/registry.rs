//! `/api/v1/registry` while the registry is disabled (tributary's only mode so far): `hello`
//! announces netdata's public registry, `access` answers `"status": "disabled"`, as a netdata
//! agent with `[registry] enabled = no` does.

use tributary_rrd::Host;

use super::param;
use crate::web::json::string;
use crate::web::router::Reply;

const ANNOUNCED: &str = "https://registry.my-netdata.io";

/// `/api/v1/registry?action=...`.
pub fn registry(host: &Host, params: &[(String, String)]) -> Reply {
    let action = param(params, "action").unwrap_or("");
    let head = |action: &str, status: &str| {
        let mut o = String::from("{\n\t\"action\": ");
        string(&mut o, action);
        o.push_str(",\n\t\"status\": ");
        string(&mut o, status);
        o.push_str(",\n\t\"hostname\": ");
        string(&mut o, host.hostname());
        o.push_str(",\n\t\"machine_guid\": ");
        string(&mut o, host.machine_guid());
        o.push_str(",\n\t\"registry\": ");
        string(&mut o, ANNOUNCED);
        o
    };
    match action {
        "hello" => {
            let mut o = head("hello", "ok");
            o.push_str(",\n\t\"cloud_base_url\": \"https://app.netdata.cloud\",\n\t\"anonymous_statistics\": false\n}");
            Reply::json(o)
        }
        "access" | "delete" | "search" | "switch" => {
            let mut o = head(action, "disabled");
            o.push_str("\n}");
            Reply::json(o)
        }
        _ => Reply::error(
            400,
            "Invalid registry request - you need to set an action: hello, access, delete, search",
        ),
    }
}
