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

#[test]
fn a_real_prometheus_scrapes_allmetrics_and_stores_the_values() {
    use std::os::unix::fs::PermissionsExt;
    let dir = crate::support::TempDir::new("prom-scrape");
    let plugins = dir.path().join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = plugins.join("promtest.plugin");
    std::fs::write(
        &plugin,
        "#!/bin/sh\n\
         echo 'CHART prom.test \"\" \"prom test\" \"things\" prom prom.test line 1000 1'\n\
         echo 'DIMENSION fortytwo \"\" absolute 1 1'\n\
         echo 'DIMENSION half \"\" absolute 1 2'\n\
         while true; do echo 'BEGIN prom.test'; echo 'SET fortytwo = 42'; echo 'SET half = 7'; echo 'END'; sleep 1; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let a = Agent::builder()
        .dir(dir.path())
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .set(
            "directories",
            "plugins",
            &format!("\"{}\"", plugins.display()),
        )
        .start();
    let prom = crate::support::receivers::Prometheus::scraping(a.port);
    let stored = crate::support::wait_until(
        std::time::Duration::from_secs(60),
        "prometheus to store the plugin's values",
        || {
            let s = prom.samples("{chart=\"prom.test\"}");
            (s.len() == 2 && s.iter().all(|(_, p)| p.len() >= 2)).then_some(s)
        },
    );
    let (_, ours) = http_get(a.port, "/api/v1/allmetrics?format=prometheus").unwrap();
    for (labels, points) in &stored {
        let dim = labels["dimension"].as_str().unwrap();
        let expected = match dim {
            "fortytwo" => 42.0,
            "half" => 3.5,
            other => panic!("unexpected dimension {other}: {labels}"),
        };
        assert!(
            points.iter().all(|(_, v)| (*v - expected).abs() < 1e-9),
            "{dim}: {points:?}"
        );
        let name = labels["__name__"].as_str().unwrap();
        assert!(
            ours.lines().any(|l| l.starts_with(&format!("{name}{{"))
                && l.contains(&format!("dimension=\"{dim}\""))),
            "{name} {dim} is not one of ours:\n{ours}"
        );
        assert_eq!(labels["instance"], format!("127.0.0.1:{}", a.port));
    }
}

#[test]
fn slow_clients_huge_heads_and_binary_garbage_get_an_answer_or_a_close_and_the_agent_serves_on() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let a = Agent::builder().set("plugins", "proc", "no").start();
    // slowloris: a head trickling in a byte a second is cut off.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", a.port)).unwrap();
    slow.write_all(b"GET /api/v1/info HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let started = Instant::now();
    let closed = loop {
        std::thread::sleep(Duration::from_secs(1));
        // Others are served while it trickles.
        assert_eq!(http_get(a.port, "/api/v1/info").unwrap().0, 200);
        if slow.write_all(b"a").is_err() {
            break true;
        }
        slow.set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        let mut b = [0u8; 256];
        match slow.read(&mut b) {
            Ok(0) => break true,
            Ok(_) => break true, // answered (408) and closed
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break true,
        }
        if started.elapsed() > Duration::from_secs(40) {
            break false;
        }
    };
    assert!(closed, "a slowloris client was kept for 40 s");
    assert!(started.elapsed() < Duration::from_secs(30));
    // A 1 MB request head: refused (431) or closed, never buffered whole.
    let mut big = std::net::TcpStream::connect(("127.0.0.1", a.port)).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "GET /api/v1/info HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(1 << 20)
    );
    let _maybe_reset = big.write_all(head.as_bytes());
    let mut reply = Vec::new();
    let _eof = big.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{}",
        text.chars().take(200).collect::<String>()
    );
    // Binary garbage instead of a request.
    let mut junk = std::net::TcpStream::connect(("127.0.0.1", a.port)).unwrap();
    junk.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _maybe_reset = junk.write_all(&[0xff, 0xfe, 0x00, 0x01, b'\r', b'\n', b'\r', b'\n']);
    let mut reply = Vec::new();
    let _eof = junk.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 4"), "{text}");
    // Non-UTF-8 bytes in the path.
    let r = crate::support::http_raw::http_request(a.port, "GET", "/api/v1/%ff%fe?chart=%ff", &[])
        .unwrap();
    assert!((400..500).contains(&r.status), "{}", r.status);
    assert_eq!(http_get(a.port, "/api/v1/info").unwrap().0, 200);
}
