//! The API basics: the full endpoint set is its own capability; these guard what the foundation
//! promises (localhost is just another host, `/host/NAME/` routing, `/netdata.conf`).

use crate::support::agent::Agent;
use crate::support::http_get;

#[test]
fn every_path_works_under_host_name_and_guid() {
    let a = Agent::builder()
        .set("global", "hostname", "trib-web-test")
        .set("plugins", "proc", "no")
        .start();
    let (s, info) = http_get(a.port, "/api/v1/info").unwrap();
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&info).unwrap();
    let guid = v["uid"].as_str().unwrap().to_string();
    for prefix in ["/host/trib-web-test", &format!("/host/{guid}")] {
        let (s, body) = http_get(a.port, &format!("{prefix}/api/v1/info")).unwrap();
        assert_eq!(s, 200, "{prefix}");
        assert_eq!(body, info);
    }
    assert_eq!(http_get(a.port, "/host/nope/api/v1/info").unwrap().0, 404);
    assert_eq!(
        http_get(a.port, "/api/v1/chart?chart=no.such").unwrap().0,
        404
    );
    assert_eq!(http_get(a.port, "/api/v1/data").unwrap().0, 400);
}

#[test]
fn netdata_conf_shows_the_effective_configuration() {
    let a = Agent::builder()
        .set("db", "mode", "ram")
        .set("plugins", "proc", "no")
        .start();
    let (s, conf) = http_get(a.port, "/netdata.conf").unwrap();
    assert_eq!(s, 200);
    assert!(conf.contains("[db]"), "{conf}");
    assert!(conf.contains("mode = ram"), "{conf}");
}

#[test]
fn old_netdata_key_names_still_work() {
    let a = Agent::builder()
        .set("global", "memory mode", "save")
        .set("global", "history", "7200")
        .set("plugins", "proc", "no")
        .start();
    // netdata's /api/v1/info has no `memory_mode`/`history`: /api/v1/charts has both.
    let (_, charts) = http_get(a.port, "/api/v1/charts").unwrap();
    let v: serde_json::Value = serde_json::from_str(&charts).unwrap();
    assert_eq!(v["memory_mode"], "save");
    // netdata rounds save/map rings to whole pages after a 400-byte header: 7200 -> 8092.
    assert_eq!(v["history"], 8092);
}

#[test]
fn responses_are_gzipped_when_the_client_asks_unless_disabled() {
    use crate::support::http_raw::http_request;
    use std::io::Read as _;
    let a = Agent::builder().set("plugins", "proc", "no").start();
    let plain = http_request(a.port, "GET", "/api/v1/charts", &[]).unwrap();
    assert_eq!(plain.header("content-encoding"), None);
    let z = http_request(
        a.port,
        "GET",
        "/api/v1/charts",
        &[("Accept-Encoding", "deflate, gzip;q=1.0")],
    )
    .unwrap();
    assert_eq!(z.status, 200);
    assert_eq!(z.header("content-encoding"), Some("gzip"));
    assert!(z.body.len() < plain.body.len());
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&z.body[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    // Same document (timestamps inside may move between the two requests).
    let (a_json, b_json): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&unzipped).unwrap(),
        serde_json::from_slice(&plain.body).unwrap(),
    );
    assert_eq!(
        a_json["charts"].as_object().map(|o| o.len()),
        b_json["charts"].as_object().map(|o| o.len())
    );
    let off = Agent::builder()
        .set("plugins", "proc", "no")
        .set("web", "enable gzip compression", "no")
        .start();
    let r = http_request(
        off.port,
        "GET",
        "/api/v1/info",
        &[("Accept-Encoding", "gzip")],
    )
    .unwrap();
    assert_eq!(r.header("content-encoding"), None);
}
