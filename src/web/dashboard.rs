//! tributary's own dashboard, served at `/` (and `/host/NAME/`) from files embedded in the
//! binary: one HTML page, one stylesheet, one script, no library and no network access needed.
//! The page talks only to this agent's `/api/v1`; everything it shows comes from there.

/// The dashboard's page, stylesheet and script, embedded at build time.
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("dashboard/index.html"),
    ),
    (
        "tributary-dashboard.css",
        "text/css; charset=utf-8",
        include_str!("dashboard/dashboard.css"),
    ),
    (
        "tributary-dashboard.js",
        "application/javascript; charset=utf-8",
        include_str!("dashboard/dashboard.js"),
    ),
];

/// The embedded asset called `name` (`""` is the page): its content type and text.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    let name = if name.is_empty() { "index.html" } else { name };
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, body)| (*t, *body))
}

#[cfg(test)]
mod tests {
    use super::asset;

    #[test]
    fn the_page_loads_its_own_assets_relatively() {
        let (t, page) = asset("").unwrap();
        assert!(t.starts_with("text/html"));
        assert!(page.contains("src=\"tributary-dashboard.js\""));
        assert!(page.contains("href=\"tributary-dashboard.css\""));
        assert!(asset("tributary-dashboard.js").is_some());
        assert!(asset("../etc/passwd").is_none());
    }
}
