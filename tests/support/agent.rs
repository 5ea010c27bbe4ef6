//! Our agent, started from the test binary's `CARGO_BIN_EXE_tributary` in the foreground with
//! `-p 0` (the port is read back from its log) and a temp directory; killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::peers::{TempDir, wait_until};

/// Builder for a tributary process.
pub struct AgentBuilder {
    stream_conf: Option<String>,
    sets: Vec<(String, String, String)>,
    args: Vec<String>,
    dir: Option<PathBuf>,
    port: u16,
    binary: Option<PathBuf>,
}

/// A running agent.
pub struct Agent {
    child: Option<Child>,
    /// Web port (0 when `[web] mode = none`).
    pub port: u16,
    /// Its temp directory (cache, lib, log).
    pub dir: PathBuf,
    _own_dir: Option<TempDir>,
}

impl Agent {
    /// A builder with test defaults: foreground, 127.0.0.1, port from the OS, dirs in a temp dir.
    pub fn builder() -> AgentBuilder {
        AgentBuilder {
            stream_conf: None,
            sets: Vec::new(),
            args: Vec::new(),
            dir: None,
            port: 0,
            binary: None,
        }
    }
}

impl AgentBuilder {
    /// `-W set SECTION KEY VALUE`.
    pub fn set(mut self, section: &str, key: &str, value: &str) -> Self {
        self.sets.push((section.into(), key.into(), value.into()));
        self
    }

    /// Writes `text` as stream.conf into the agent's config directory.
    pub fn stream_conf(mut self, text: &str) -> Self {
        self.stream_conf = Some(text.to_string());
        self
    }

    /// Extra command-line arguments.
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.into());
        self
    }

    /// Run this executable instead of the test build (the footprint test's release build).
    pub fn binary(mut self, path: &Path) -> Self {
        self.binary = Some(path.to_path_buf());
        self
    }

    /// Listen on this port instead of one the OS chooses (to restart a parent on its port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Use this directory for cache/lib/log (to restart an agent on the same data).
    pub fn dir(mut self, d: &Path) -> Self {
        self.dir = Some(d.to_path_buf());
        self
    }

    /// Starts it and waits until it is serving (or, with `[web] mode = none`, running).
    pub fn start(self) -> Agent {
        let own = if self.dir.is_none() {
            Some(TempDir::new("agent"))
        } else {
            None
        };
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| own.as_ref().unwrap().path().to_path_buf());
        for sub in ["cache", "lib", "log", "etc"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        if let Some(text) = &self.stream_conf {
            std::fs::write(dir.join("etc/stream.conf"), text).unwrap();
        }
        let log = dir.join("log/error.log");
        // A restarted agent appends to the same log: start from an empty one so that the port
        // read back below is this run's.
        if log.exists() {
            let mut old = log.clone().into_os_string();
            old.push(".previous");
            std::fs::rename(&log, old).unwrap();
        }
        let mut cmd = Command::new(
            self.binary
                .clone()
                .unwrap_or_else(|| env!("CARGO_BIN_EXE_tributary").into()),
        );
        cmd.args(["-D", "-i", "127.0.0.1", "-p", &self.port.to_string()]);
        let mut sets = vec![
            (
                "directories".to_string(),
                "cache".to_string(),
                dir.join("cache").display().to_string(),
            ),
            (
                "directories".into(),
                "lib".into(),
                dir.join("lib").display().to_string(),
            ),
            (
                "directories".into(),
                "log".into(),
                dir.join("log").display().to_string(),
            ),
            ("logs".into(), "error".into(), log.display().to_string()),
            (
                "directories".into(),
                "config".into(),
                dir.join("etc").display().to_string(),
            ),
        ];
        // No external plugins unless a test asks for them (`set("directories", "plugins", ..)`):
        // the machine's netdata plugins would otherwise run under every test agent.
        std::fs::create_dir_all(dir.join("plugins.d")).unwrap();
        sets.push((
            "directories".into(),
            "plugins".into(),
            format!("\"{}\"", dir.join("plugins.d").display()),
        ));
        sets.extend(self.sets);
        for (s, k, v) in &sets {
            cmd.args(["-W", "set", s, k, v]);
        }
        cmd.args(&self.args);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let web_none = sets
            .iter()
            .any(|(s, k, v)| s == "web" && k == "mode" && v == "none");
        let mut agent = Agent {
            child: Some(child),
            port: 0,
            dir,
            _own_dir: own,
        };
        agent.port = wait_until(Duration::from_secs(20), "the agent to start", || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if web_none {
                return text.contains("web server disabled").then_some(0);
            }
            let line = text.lines().find(|l| l.contains("WEB: listening on"))?;
            line.rsplit(':').next()?.trim().parse().ok()
        });
        agent
    }
}

impl Agent {
    /// The agent's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/error.log")).unwrap_or_default()
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        super::peers::signal(child.id(), "TERM");
        wait_until(Duration::from_secs(20), "the agent to exit", || {
            child.try_wait().ok().flatten()
        })
    }

    /// Kills it with SIGKILL (no chance to save anything).
    pub fn kill9(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ignored = c.kill();
            let _ignored = c.wait();
        }
    }
}
