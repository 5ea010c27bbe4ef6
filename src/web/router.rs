//! Maps a request path to a handler, GreptimeDB-style: one place decides the HTTP status.
//! `/host/NAME/...` (hostname or machine GUID) selects the host; everything else is localhost.

use std::sync::Arc;

use tributary_rrd::Host;

use super::api_v1;
use crate::daemon::AgentState;

/// A response before it becomes an HTTP message.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl Reply {
    /// 200 with JSON.
    pub fn json(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body,
        }
    }

    /// 200 with plain text.
    pub fn text(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    /// An error with a plain-text message, as netdata answers them.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: message.into(),
        }
    }
}

/// Splits `a=b&c=d` into decoded pairs.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+` (as space).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Routes one GET request.
pub fn route(state: &AgentState, path: &str, query: &str) -> Reply {
    let (host, rest): (Arc<Host>, &str) = match path.strip_prefix("/host/") {
        Some(after) => {
            let (name, rest) = after.split_once('/').unwrap_or((after, ""));
            let name = percent_decode(name);
            match state.hosts.find(&name) {
                Some(h) => (h, rest),
                None => return Reply::error(404, format!("host '{name}' not found")),
            }
        }
        None => (
            Arc::clone(state.hosts.localhost()),
            path.trim_start_matches('/'),
        ),
    };
    let params = query_pairs(query);
    match rest {
        "api/v1/info" => api_v1::info(state, &host),
        "api/v1/charts" => api_v1::charts(state, &host),
        "api/v1/chart" => api_v1::chart(&host, &params),
        "api/v1/data" => api_v1::data(&host, &params),
        "netdata.conf" => Reply::text(state.effective_config.clone()),
        "" | "index.html" => Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: api_v1::index_page(state, &host),
        },
        _ => Reply::error(404, "File does not exist, or is not accessible."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(percent_decode("a%7Cb+c"), "a|b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(
            query_pairs("chart=system.cpu&options=flip%7Cjsonwrap&x"),
            vec![
                ("chart".into(), "system.cpu".into()),
                ("options".into(), "flip|jsonwrap".into()),
                ("x".into(), String::new())
            ]
        );
    }
}
