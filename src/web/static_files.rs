//! `[directories] web`: the files of a web directory (netdata's own dashboards, Debian's
//! netdata-web in /usr/share/netdata/web) served as they are, instead of tributary's dashboard.
//!
//! The router has already refused names with characters outside `[A-Za-z0-9/._-]` and any `..`
//! segment, so a request can only name a path below the directory; symlinks inside it (Debian's
//! fonts) are followed, as the administrator who installed them meant.

use std::path::Path;

use super::router::Reply;

/// The content type netdata sends for a file name's extension.
fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "txt" | "yaml" | "yml" => "text/plain; charset=utf-8",
        "xml" => "text/xml; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        _ => "application/octet-stream",
    }
}

/// Serves `segments` (already checked by the router) below `root`; a directory gives its
/// `index.html`.
pub fn serve(root: &Path, segments: &[&str]) -> Reply {
    debug_assert!(segments.iter().all(|s| *s != ".." && !s.is_empty()));
    let mut path = root.to_path_buf();
    path.extend(segments);
    if path.is_dir() {
        path.push("index.html");
    }
    match std::fs::read(&path) {
        Ok(bytes) => {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            Reply::file(content_type(name), bytes)
        }
        Err(_) => Reply::html_error(
            404,
            format!(
                "File does not exist, or is not accessible: {}",
                segments.join("/")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_files_and_directory_indexes_below_the_root() {
        let dir = std::env::temp_dir().join(format!("tributary-static-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("old")).unwrap();
        std::fs::write(dir.join("index.html"), "top").unwrap();
        std::fs::write(dir.join("old/index.html"), "old").unwrap();
        std::fs::write(dir.join("a.png"), [0x89, b'P', 0, 0xff]).unwrap();
        let r = serve(&dir, &[]);
        assert_eq!((r.status, r.file.as_deref()), (200, Some(&b"top"[..])));
        let r = serve(&dir, &["old"]);
        assert_eq!(r.file.as_deref(), Some(&b"old"[..]));
        let r = serve(&dir, &["a.png"]);
        assert_eq!(r.content_type, "image/png");
        assert_eq!(r.file.as_deref(), Some(&[0x89, b'P', 0, 0xff][..]));
        assert_eq!(serve(&dir, &["missing.js"]).status, 404);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
