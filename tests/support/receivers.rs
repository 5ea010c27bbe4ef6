//! Real time-series databases on loopback for the exporting tests (recipes in
//! `shared/real-peers.md`): carbon-cache with whisper files, VictoriaMetrics (graphite,
//! opentsdb and remote-write ingestion), Prometheus with its remote-write receiver. Each runs
//! in its own temp directory on free ports and is stopped by its PID (SIGTERM, then SIGKILL)
//! when its guard drops. A missing program fails the test with the command that installs it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::peers::{TempDir, free_port, http_get, wait_until};

const INSTALL: &str =
    "apt-get install -y --no-install-recommends graphite-carbon victoria-metrics prometheus";

fn require(program: &str) {
    assert!(
        Path::new(program).exists(),
        "{program} is not installed: the exporting tests need real receivers; install them with `{INSTALL}` (.ci/run does)"
    );
}

fn stop(child: &mut Child) {
    let pid = child.id();
    let _sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    for _ in 0..50 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _killed = child.kill();
    let _reaped = child.wait();
}

fn wait_tcp(port: u16, what: &str) {
    wait_until(Duration::from_secs(20), what, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
}

/// carbon-cache storing every metric at 1 s resolution for an hour.
pub struct Carbon {
    child: Child,
    /// Plaintext line receiver port.
    pub port: u16,
    dir: TempDir,
}

impl Carbon {
    /// Starts it and waits until it accepts connections.
    pub fn start() -> Carbon {
        require("/usr/bin/carbon-cache");
        require("/usr/bin/whisper-fetch");
        let dir = TempDir::new("carbon");
        let d = dir.path().display().to_string();
        std::fs::create_dir_all(dir.path().join("whisper")).unwrap();
        let port = free_port();
        let query = free_port();
        std::fs::write(
            dir.path().join("carbon.conf"),
            format!(
                "[cache]\nSTORAGE_DIR = {d}/\nLOCAL_DATA_DIR = {d}/whisper/\nCONF_DIR = {d}/\nLOG_DIR = {d}/log/\nPID_DIR = {d}/\nUSER =\nMAX_CACHE_SIZE = inf\nMAX_CREATES_PER_MINUTE = inf\nLINE_RECEIVER_INTERFACE = 127.0.0.1\nLINE_RECEIVER_PORT = {port}\nPICKLE_RECEIVER_PORT = 0\nCACHE_QUERY_INTERFACE = 127.0.0.1\nCACHE_QUERY_PORT = {query}\nCARBON_METRIC_INTERVAL = 0\nWHISPER_AUTOFLUSH = True\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("storage-schemas.conf"),
            "[default]\npattern = .*\nretentions = 1s:1h,60s:1d\n",
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("carbon.log")).unwrap();
        let child = Command::new("carbon-cache")
            .arg(format!("--config={d}/carbon.conf"))
            .arg(format!("--pidfile={d}/carbon.pid"))
            .args(["--nodaemon", "start"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot run carbon-cache");
        wait_tcp(port, "carbon-cache to listen");
        Carbon { child, port, dir }
    }

    /// The points of a metric (`a.b.c`) between `from` and `until` (seconds), non-empty only.
    pub fn fetch(&self, metric: &str, from: i64, until: i64) -> Vec<(i64, f64)> {
        let file = self
            .dir
            .path()
            .join("whisper")
            .join(format!("{}.wsp", metric.replace('.', "/")));
        if !file.exists() {
            return Vec::new();
        }
        let out = Command::new("whisper-fetch")
            .args([
                "--json",
                &format!("--from={from}"),
                &format!("--until={until}"),
            ])
            .arg(&file)
            .output()
            .expect("cannot run whisper-fetch");
        let v: serde_json::Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) => v,
            Err(_) => return Vec::new(),
        };
        let (start, step) = (v["start"].as_i64().unwrap(), v["step"].as_i64().unwrap());
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .filter_map(|(i, x)| x.as_f64().map(|f| (start + i as i64 * step, f)))
            .collect()
    }

    /// carbon's own log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("carbon.log")).unwrap_or_default()
    }
}

impl Drop for Carbon {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// VictoriaMetrics single node with graphite, opentsdb (telnet and HTTP) and remote write.
pub struct Victoria {
    child: Child,
    /// HTTP API (also `/api/v1/write`).
    pub http: u16,
    /// Graphite plaintext.
    pub graphite: u16,
    /// OpenTSDB telnet.
    pub opentsdb: u16,
    /// OpenTSDB HTTP `/api/put`.
    pub opentsdb_http: u16,
    _dir: TempDir,
}

impl Victoria {
    /// Starts it and waits for `/health`.
    pub fn start() -> Victoria {
        require("/usr/bin/victoria-metrics");
        let dir = TempDir::new("vm");
        let (http, graphite, opentsdb, opentsdb_http) =
            (free_port(), free_port(), free_port(), free_port());
        let log = std::fs::File::create(dir.path().join("vm.log")).unwrap();
        let child = Command::new("victoria-metrics")
            .arg(format!("-storageDataPath={}/data", dir.path().display()))
            .arg("-retentionPeriod=1d")
            .arg(format!("-httpListenAddr=127.0.0.1:{http}"))
            .arg(format!("-graphiteListenAddr=127.0.0.1:{graphite}"))
            .arg(format!("-opentsdbListenAddr=127.0.0.1:{opentsdb}"))
            .arg(format!("-opentsdbHTTPListenAddr=127.0.0.1:{opentsdb_http}"))
            .args(["-search.latencyOffset=0s", "-loggerLevel=WARN"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot run victoria-metrics");
        wait_until(Duration::from_secs(20), "victoria-metrics /health", || {
            http_get(http, "/health").ok().filter(|(s, _)| *s == 200)
        });
        Victoria {
            child,
            http,
            graphite,
            opentsdb,
            opentsdb_http,
            _dir: dir,
        }
    }

    /// Every stored sample of the series matching `selector` (`{__name__="x",host="y"}`):
    /// `(labels, [(seconds, value)])` per series, via `/api/v1/export`.
    pub fn export(&self, selector: &str) -> Vec<(serde_json::Value, Vec<(i64, f64)>)> {
        let _flushed = http_get(self.http, "/internal/force_flush");
        let path = format!("/api/v1/export?match[]={}", encode(selector));
        let Ok((200, body)) = http_get(self.http, &path) else {
            return Vec::new();
        };
        body.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                let ts = v["timestamps"].as_array().cloned().unwrap_or_default();
                let vals = v["values"].as_array().cloned().unwrap_or_default();
                let pts = ts
                    .iter()
                    .zip(vals.iter())
                    .filter_map(|(t, x)| Some((t.as_i64()? / 1000, x.as_f64()?)))
                    .collect();
                (v["metric"].clone(), pts)
            })
            .collect()
    }
}

impl Drop for Victoria {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Prometheus with `--web.enable-remote-write-receiver` and nothing to scrape.
pub struct Prometheus {
    child: Child,
    /// Web port (`/api/v1/write`, `/api/v1/query`).
    pub port: u16,
    _dir: TempDir,
}

impl Prometheus {
    /// Starts it and waits for `/-/ready`.
    pub fn start() -> Prometheus {
        Self::start_with("global: {scrape_interval: 15s}\nscrape_configs: []\n")
    }

    /// Starts it scraping `/api/v1/allmetrics?format=prometheus` of the agent on `port`
    /// every second, as a user's Prometheus scrapes netdata.
    pub fn scraping(port: u16) -> Prometheus {
        Self::start_with(&format!(
            "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\n\
             scrape_configs:\n\
             \x20 - job_name: tributary\n\
             \x20   metrics_path: /api/v1/allmetrics\n\
             \x20   params: {{format: [prometheus]}}\n\
             \x20   static_configs:\n\
             \x20     - targets: ['127.0.0.1:{port}']\n"
        ))
    }

    fn start_with(config: &str) -> Prometheus {
        require("/usr/bin/prometheus");
        let dir = TempDir::new("prom");
        let port = free_port();
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("prom.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}/prometheus.yml",
                dir.path().display()
            ))
            .arg(format!("--storage.tsdb.path={}/data", dir.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args([
                "--web.enable-remote-write-receiver",
                "--storage.tsdb.retention.time=1d",
                "--log.level=warn",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot run prometheus");
        wait_until(Duration::from_secs(30), "prometheus /-/ready", || {
            http_get(port, "/-/ready").ok().filter(|(s, _)| *s == 200)
        });
        Prometheus {
            child,
            port,
            _dir: dir,
        }
    }

    /// The raw samples of the last 10 minutes of the series matching `selector`.
    pub fn samples(&self, selector: &str) -> Vec<(serde_json::Value, Vec<(i64, f64)>)> {
        let path = format!(
            "/api/v1/query?query={}",
            encode(&format!("{selector}[10m]"))
        );
        let Ok((200, body)) = http_get(self.port, &path) else {
            return Vec::new();
        };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let pts = r["values"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| {
                        Some((p[0].as_f64()? as i64, p[1].as_str()?.parse::<f64>().ok()?))
                    })
                    .collect();
                (r["metric"].clone(), pts)
            })
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Percent-encodes a query parameter.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
