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
    /// Extra headers (`Content-Disposition`, `Location`, `Set-Cookie`).
    pub headers: Vec<(&'static str, String)>,
    /// `Cache-Control: public` instead of no-cache (data with an absolute window).
    pub cacheable: bool,
    /// A static file's bytes (`[directories] web`), sent instead of `body`.
    pub file: Option<Vec<u8>>,
}

impl Reply {
    /// 200 with JSON.
    pub fn json(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json; charset=utf-8",
            body,
            headers: Vec::new(),
            cacheable: false,
            file: None,
        }
    }

    /// 200 with plain text.
    pub fn text(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body,
            headers: Vec::new(),
            cacheable: false,
            file: None,
        }
    }

    /// A reply with any status and content type.
    pub fn with(status: u16, content_type: &'static str, body: String) -> Reply {
        Reply {
            status,
            content_type,
            body,
            headers: Vec::new(),
            cacheable: false,
            file: None,
        }
    }

    /// An error with a plain-text message, as netdata answers them.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: message.into(),
            headers: Vec::new(),
            cacheable: false,
            file: None,
        }
    }
}

impl Reply {
    /// 200 with a static file's bytes.
    pub fn file(content_type: &'static str, bytes: Vec<u8>) -> Reply {
        let mut r = Reply::with(200, content_type, String::new());
        r.file = Some(bytes);
        r
    }

    /// An error netdata's static-file and API-version paths answer as `text/html`.
    pub fn html_error(status: u16, message: impl Into<String>) -> Reply {
        let mut r = Reply::error(status, message);
        r.content_type = "text/html; charset=utf-8";
        r
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

/// Routes one GET request; `host_header` is the request's `Host` (for the `/host/NAME` redirect).
pub fn route(state: &AgentState, path: &str, query: &str, host_header: Option<&str>) -> Reply {
    let decoded = percent_decode(path);
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    let mut host: Arc<Host> = Arc::clone(state.hosts.localhost());
    let mut rest: &[&str] = &segments;
    if rest.first() == Some(&"host") {
        let Some(name) = rest.get(1) else {
            return Reply::error(404, "This netdata does not maintain a database for host: ");
        };
        match state.hosts.find(name) {
            Some(h) => host = h,
            None => {
                let mut r = Reply::error(
                    404,
                    format!("This netdata does not maintain a database for host: {name}"),
                );
                r.content_type = "text/html; charset=utf-8";
                return r;
            }
        }
        if rest.len() == 2 && !decoded.ends_with('/') {
            let mut r = Reply::error(308, "Permanent redirect");
            r.headers.push((
                "Location",
                format!("http://{}/host/{name}/", host_header.unwrap_or("localhost")),
            ));
            return r;
        }
        rest = &rest[2..];
        if rest.first() == Some(&"host") {
            return Reply::error(400, "Nesting of hosts is not allowed.");
        }
    }
    let params = query_pairs(query);
    match rest {
        ["api"] => Reply::error(400, "Which API version?"),
        ["api", "v1", cmd @ ..] => api_v1::dispatch(
            state,
            &host,
            cmd.first().copied().unwrap_or(""),
            &params,
            query,
        ),
        ["api", version, ..] => {
            Reply::html_error(404, format!("Unsupported API version: {version}"))
        }
        ["netdata.conf"] => Reply::text(state.effective_config.clone()),
        [] | [_]
            if state.web_dir.is_none()
                && super::dashboard::asset(rest.first().copied().unwrap_or("")).is_some() =>
        {
            let (content_type, body) =
                super::dashboard::asset(rest.first().copied().unwrap_or("")).unwrap_or_default();
            Reply::with(200, content_type, body.to_string())
        }
        file => {
            let name = file.join("/");
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
            {
                return Reply::html_error(
                    400,
                    format!("Filename contains invalid characters: {name}"),
                );
            }
            if file.contains(&"..") {
                return Reply::html_error(
                    400,
                    format!("Relative filenames are not supported: {name}"),
                );
            }
            if let Some(root) = &state.web_dir {
                return super::static_files::serve(root, file);
            }
            let mut r = Reply::error(
                404,
                format!(
                    "File does not exist, or is not accessible: {}",
                    html_escape(&name)
                ),
            );
            r.content_type = "text/html; charset=utf-8";
            r
        }
    }
}

/// netdata escapes `&<>"'/` in HTML error texts.
fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#x27;"),
            '/' => o.push_str("&#x2F;"),
            c => o.push(c),
        }
    }
    o
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
