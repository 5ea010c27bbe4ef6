//! tributary's own dashboard in a real browser: a parent with two tributary children and a fake
//! child of 500 charts, Debian's chromium driven by playwright-core (tests/browser/).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::{TempDir, http_get, wait_until};

const KEY: &str = "5d0a7c2e-1b3f-4e6a-9c8d-7f6e5d4c3b2a";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser scripts' directory.
fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Fails (never skips) with how to install what is missing.
fn require_browser() {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push("chromium: apt-get install chromium");
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node: apt-get install nodejs npm");
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        missing.push("playwright-core: (cd tests/browser && npm ci)");
    }
    assert!(
        missing.is_empty(),
        "the dashboard tests need a browser; install {}",
        missing.join("; ")
    );
}

/// A protocol-v1 child of `charts` charts (`fake.cN`, two dimensions each, `d0` = 42) streaming
/// once a second into `port` until dropped.
struct FakeChild {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeChild {
    fn start(port: u16, hostname: &str, guid: &str, charts: usize) -> FakeChild {
        let mut s = wait_until(Duration::from_secs(15), "the parent to accept", || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            write!(
                s,
                "STREAM key={KEY}&hostname={hostname}&registry_hostname={hostname}&machine_guid={guid}&update_every=1&os=linux&timezone=UTC&tags=&ver=1 HTTP/1.1\r\nUser-Agent: tributary-test/1\r\n\r\n"
            )
            .ok()?;
            s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).ok()?;
            (&buf[..n] == b"Hit me baby, push them over...").then_some(s)
        });
        let mut defs = String::new();
        for i in 0..charts {
            defs.push_str(&format!(
                "CHART fake.c{i} '' 'Fake chart {i}' 'widgets' 'family {f}' fake.c{i} line {p} 1\nDIMENSION d0 d0 absolute 1 1\nDIMENSION d1 d1 absolute 1 1\n",
                f = i / 50,
                p = 1000 + i
            ));
        }
        s.write_all(defs.as_bytes()).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut n = 0u64;
            while !flag.load(Ordering::Relaxed) {
                let mut batch = String::new();
                for i in 0..charts {
                    batch.push_str(&format!(
                        "BEGIN fake.c{i}\nSET d0 = 42\nSET d1 = {}\nEND\n",
                        (n + i as u64) % 20
                    ));
                }
                if s.write_all(batch.as_bytes()).is_err() {
                    return;
                }
                n += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        FakeChild {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeChild {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ignored = t.join();
        }
    }
}

const ALARM: &str = "
alarm: dash_high
   on: fake.c0
 calc: $d0
every: 1s
 warn: $this > 10
 crit: $this > 100
units: widgets
 info: the fake child's d0 is high
   to: sysadmin
";

fn child(parent: u16, name: &str) -> Agent {
    Agent::builder()
        .set("global", "hostname", name)
        .set("plugins", "diskspace", "no")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{parent}\n    api key = {KEY}\n    reconnect delay seconds = 1\n"
        ))
        .start()
}

fn has_data(port: u16, path: &str) -> bool {
    http_get(port, path).is_ok_and(|(status, body)| {
        status == 200
            && serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| {
                v["data"].as_array().is_some_and(|rows| {
                    rows.iter().any(|r| {
                        r.as_array()
                            .is_some_and(|c| c[1..].iter().any(|x| !x.is_null()))
                    })
                })
            })
    })
}

#[test]
fn the_dashboard_shows_every_host_live_in_chromium() {
    require_browser();
    let dir = TempDir::new("dashboard");
    let p = dir.path().join("parent");
    std::fs::create_dir_all(p.join("etc/health.d")).unwrap();
    std::fs::create_dir_all(p.join("stock-health")).unwrap();
    std::fs::write(p.join("etc/health.d/dash.conf"), ALARM).unwrap();
    let parent = Agent::builder()
        .dir(&p)
        .set("global", "hostname", "dparent")
        .set("plugins", "diskspace", "no")
        .set(
            "directories",
            "stock health config",
            &p.join("stock-health").display().to_string(),
        )
        .set("health", "script to execute on alarm", "/bin/true")
        .stream_conf(&format!(
            "[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    allow from = *\n    health enabled by default = auto\n    default postpone alarms on connect seconds = 1\n"
        ))
        .start();
    let _a = child(parent.port, "dchild-a");
    let mut b = child(parent.port, "dchild-b");
    // a grandchild through a tributary proxy: two hops from the parent
    let proxy = Agent::builder()
        .set("global", "hostname", "dproxy")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    allow from = *\n",
            parent.port
        ))
        .start();
    let _c = child(proxy.port, "dchild-c");
    let _fake = FakeChild::start(
        parent.port,
        "dfake500",
        "0e1d2c3b-4a59-4687-9a5b-4c3d2e1f0a9b",
        500,
    );
    for h in ["dchild-a", "dchild-b", "dchild-c"] {
        wait_until(Duration::from_secs(60), "the children's data", || {
            has_data(
                parent.port,
                &format!("/host/{h}/api/v1/data?chart=system.cpu&after=-20&format=json"),
            )
            .then_some(())
        });
    }
    wait_until(Duration::from_secs(30), "the fake child's alarm", || {
        let (_, body) = http_get(parent.port, "/host/dfake500/api/v1/alarms").ok()?;
        body.contains("\"WARNING\"").then_some(())
    });

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let seen = run_browser_script(
        "dashboard.js",
        &[
            &format!("http://127.0.0.1:{}", parent.port),
            &out.display().to_string(),
            "dchild-a",
            "dchild-b",
            "dfake500",
            "fake.c0",
            "dash_high",
        ],
    );
    let ctx = format!("{seen:#}");
    std::fs::write(out.join("seen.json"), &ctx).unwrap();

    // the host menu: this agent, both children, the fake one; every child streaming, hops 1
    let menu = seen["menu"].as_array().unwrap();
    let names: Vec<&str> = menu.iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(names[0], "dparent", "{ctx}");
    for h in ["dchild-a", "dchild-b", "dfake500"] {
        let o = menu.iter().find(|o| o["name"] == h).expect(&ctx);
        assert!(
            o["text"].as_str().unwrap().contains("streaming, hops 1"),
            "{ctx}"
        );
    }
    // switching host: /host/NAME/, that host's charts with data, every request to that host
    let sw = &seen["switched"];
    assert!(sw["path"] == "/host/dchild-a/", "{ctx}");
    assert!(sw["charts"].as_u64().unwrap() > 10, "{ctx}");
    assert!(sw["withData"].as_u64().unwrap() >= 1, "{ctx}");
    let sections: Vec<&str> = sw["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(sections.first(), Some(&"system"), "{ctx}");
    assert!(
        sections.contains(&"cpu") || sections.contains(&"mem"),
        "{ctx}"
    );
    let data_paths = seen["switchedDataRequests"].as_array().unwrap();
    assert!(!data_paths.is_empty(), "{ctx}");
    assert!(
        data_paths.iter().all(|p| p
            .as_str()
            .unwrap()
            .starts_with("/host/dchild-a/api/v1/data")),
        "{ctx}"
    );
    // live updates into the same elements; one instant under the cursor in every legend
    assert_eq!(seen["live"]["kept"], true, "{ctx}");
    assert_ne!(seen["live"]["t0"], seen["live"]["t1"], "{ctx}");
    let hover = seen["hover"].as_array().unwrap();
    assert!(hover.len() >= 2, "{ctx}");
    assert!(hover.iter().all(|t| t == &hover[0]), "{ctx}");
    assert!(seen["hoverValues"].as_u64().unwrap() >= 2, "{ctx}");
    // the resolution follows the chart: one point per pixel, averaged
    let q = &seen["cpuQuery"];
    assert_eq!(q["group"], "average", "{ctx}");
    assert_eq!(
        q["points"].as_str().unwrap().parse::<u64>().unwrap(),
        seen["cpuWidth"].as_u64().unwrap(),
        "{ctx}"
    );
    // pan and zoom changed the URL's window: dragging left moves it back to absolute times,
    // zooming halves it; a shared link shows the same host and window
    let w = &seen["window"];
    let window_of = |h: &str| -> (i64, i64) {
        let get = |k: &str| {
            h.trim_start_matches('#')
                .split(';')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .unwrap()
                .parse::<i64>()
                .unwrap()
        };
        (get("after"), get("before"))
    };
    let (a0, b0) = window_of(w["before"].as_str().unwrap());
    let (a1, b1) = window_of(w["panned"].as_str().unwrap());
    let (a2, b2) = window_of(w["zoomed"].as_str().unwrap());
    assert_eq!((a0, b0), (-600, 0), "{ctx}");
    assert!(a1 > 1_000_000_000 && b1 - a1 == 600, "{ctx}");
    let now = crate::support::now_f() as i64;
    assert!(b1 < now - 100, "panned back: {ctx}");
    assert!((b2 - a2 - 300).abs() <= 1, "zoomed in: {ctx}");
    let (a3, b3) = window_of(seen["keyboardPan"].as_str().unwrap());
    assert!(a3 < a2 && b3 - a3 == b2 - a2, "arrow left pans back: {ctx}");
    assert_eq!(seen["sharedLink"]["host"], "dchild-a", "{ctx}");
    assert_eq!(seen["sharedLink"]["hash"], w["zoomed"], "{ctx}");
    // the alarm: counted in the header, listed in the panel and the log, shown on its chart
    let al = &seen["alarm"];
    assert!(
        al["count"].as_str().unwrap().parse::<u32>().unwrap() >= 1,
        "{ctx}"
    );
    assert!(
        al["countClass"].as_str().unwrap().contains("warning"),
        "{ctx}"
    );
    assert!(
        al["rows"].as_array().unwrap().iter().any(|r| {
            let r = r.as_str().unwrap();
            r.contains("WARNING") && r.contains("dash_high") && r.contains("fake.c0")
        }),
        "{ctx}"
    );
    assert!(!al["log"].as_array().unwrap().is_empty(), "{ctx}");
    assert_eq!(al["badge"], "dash_high: WARNING", "{ctx}");
    assert!(
        al["chartClass"].as_str().unwrap().contains("alarm-warning"),
        "{ctx}"
    );
    assert_eq!(seen["alarmPanelClosed"], true, "{ctx}");
    // 500 charts: drawn in under a second, only the visible ones fetch, one request per
    // chart per second at most
    let load = &seen["load"];
    assert_eq!(load["charts"], 500, "{ctx}");
    assert!(load["loadMs"].as_f64().unwrap() < 1000.0, "{ctx}");
    let fetched = load["fetchedCharts"].as_u64().unwrap();
    assert!((1..100).contains(&fetched), "{ctx}");
    assert!(load["maxRequestsIn3s"].as_u64().unwrap() <= 4, "{ctx}");
    assert!(
        load["minRequestsIn3s"].as_u64().unwrap() >= 1,
        "live: {ctx}"
    );
    // the streaming tree: every child streaming, hops, lag, bytes/s and replication shown
    let nodes = seen["streaming"].as_array().unwrap();
    for h in ["dchild-a", "dchild-b", "dfake500"] {
        let n = nodes.iter().find(|n| n["host"] == h).expect(&ctx);
        assert!(n["cls"].as_str().unwrap().contains("streaming"), "{ctx}");
        let text = n["text"].as_str().unwrap();
        assert!(
            text.contains("hops 1") && text.contains("replication"),
            "{ctx}"
        );
        assert!(text.contains("lag ") && text.contains("B/s"), "{ctx}");
    }
    // the grandchild: two hops, under a proxy (on loopback every stream comes from 127.0.0.1,
    // so which one is not known: a placeholder)
    let c = nodes.iter().find(|n| n["host"] == "dchild-c").expect(&ctx);
    assert!(c["text"].as_str().unwrap().contains("hops 2"), "{ctx}");
    assert_eq!(c["underProxy"], true, "{ctx}");
    assert!(nodes.iter().any(|n| n["host"] == "dproxy"), "{ctx}");
    assert!(
        seen["streamingHash"]
            .as_str()
            .unwrap()
            .contains("view=streaming"),
        "{ctx}"
    );
    // themes and phone width
    assert_ne!(seen["theme"]["before"], seen["theme"]["after"], "{ctx}");
    assert_eq!(seen["theme"]["systemDark"], "rgb(18, 21, 27)", "{ctx}");
    assert_eq!(seen["theme"]["systemLight"], "rgb(247, 248, 250)", "{ctx}");
    assert!(
        seen["phone"]["scrollWidth"].as_u64().unwrap() <= 392,
        "{ctx}"
    );
    assert_eq!(seen["phone"]["tocHidden"], true, "{ctx}");
    assert!(
        seen["focus"].as_str().is_some_and(|f| !f.is_empty()),
        "{ctx}"
    );
    assert_eq!(seen["offLoopback"], serde_json::json!([]), "{ctx}");
    assert_eq!(seen["errors"], serde_json::json!([]), "{ctx}");

    // a child that stops: stale since its last data, in the menu and the tree
    b.stop();
    let stale = run_browser_script(
        "host_menu.js",
        &[
            &format!("http://127.0.0.1:{}", parent.port),
            &out.display().to_string(),
            "dchild-b",
        ],
    );
    let text = stale["menu"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "dchild-b")
        .and_then(|o| o["text"].as_str())
        .unwrap()
        .to_string();
    assert!(
        text.contains("stale since ") && text.contains("hops 1"),
        "{stale:#}"
    );
    assert!(
        stale["menu"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "dchild-a" && o["text"].as_str().unwrap().contains("streaming")),
        "{stale:#}"
    );
    assert!(
        stale["node"].as_str().unwrap().contains("stale"),
        "{stale:#}"
    );
}

const NETDATA_WEB: &str = "/usr/share/netdata/web";

/// Runs a script of tests/browser/ and returns the JSON it printed, failing with its output.
fn run_browser_script(script: &str, args: &[&str]) -> serde_json::Value {
    let run = Command::new("node")
        .current_dir(browser_dir())
        .env("CHROMIUM", CHROMIUM)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| {
            panic!(
                "{script} output is not JSON ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&run.stderr)
            )
        });
    assert!(
        run.status.success(),
        "{script} failed: {seen:#}\nscreenshots in target/dashboard-screenshots"
    );
    seen
}

#[test]
fn netdatas_own_dashboards_draw_our_charts_from_directories_web() {
    require_browser();
    assert!(
        Path::new(NETDATA_WEB).join("old/index.html").exists(),
        "netdata's web files are missing: apt-get install netdata-web"
    );
    let agent = Agent::builder()
        .set("global", "hostname", "dweb")
        .set("plugins", "diskspace", "no")
        .set("directories", "web", NETDATA_WEB)
        .start();
    wait_until(Duration::from_secs(30), "system.cpu data", || {
        has_data(
            agent.port,
            "/api/v1/data?chart=system.cpu&after=-10&format=json",
        )
        .then_some(())
    });
    // netdata's files, not ours, and nothing outside the directory
    let (status, body) = http_get(agent.port, "/").unwrap();
    assert_eq!(status, 200);
    assert!(!body.contains("tributary-dashboard.js") && body.contains("netdata"));
    let (status, _) = http_get(agent.port, "/old/").unwrap();
    assert_eq!(status, 200);
    for evil in [
        "/../etc/passwd",
        "/old/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/old/..%2f..%2fetc/passwd",
        "/host/dweb/../../etc/passwd",
    ] {
        let (status, body) = http_get(agent.port, evil).unwrap();
        assert!(status == 400 || status == 404, "{evil}: {status} {body}");
        assert!(!body.contains("root:"), "{evil}: {body}");
    }

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let seen = run_browser_script(
        "netdata_web.js",
        &[
            &format!("http://127.0.0.1:{}", agent.port),
            &out.display().to_string(),
        ],
    );
    let ctx = format!("{seen:#}");
    std::fs::write(out.join("netdata-web-seen.json"), &ctx).unwrap();
    let drew = |page: &str| {
        seen[page]["dataResponses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["chart"] == "system.cpu" && d["rows"].as_u64().unwrap_or(0) > 0)
    };
    // the old dashboard: our system.cpu with a legend of numbers, no script error
    let old = &seen["old"];
    assert_eq!(old["hasCpu"], true, "{ctx}");
    assert!(old["canvases"].as_u64().unwrap() >= 3, "{ctx}");
    assert!(old["legendValues"].as_u64().unwrap() >= 3, "{ctx}");
    assert!(drew("old"), "{ctx}");
    assert_eq!(old["errors"], serde_json::json!([]), "{ctx}");
    // the React dashboard at /: charts drawn from our data
    assert!(seen["main"]["canvases"].as_u64().unwrap() >= 3, "{ctx}");
    assert!(drew("main"), "{ctx}");
}
