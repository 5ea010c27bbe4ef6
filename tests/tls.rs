//! TLS on port 19999 and on streams: HTTPS and TLS streams into a tributary parent (optional
//! and forced), certificate checking with `CAfile`, and both directions with a real netdata
//! 1.37.1 (`destination = HOST:PORT:SSL`, `[web] ssl certificate` / `ssl key`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::support::agent::Agent;
use crate::support::{Netdata, TempDir, http_get_retry, wait_until};

const KEY: &str = "5c4b3a29-1807-4f6e-9d5c-4b3a29180706";

/// A self-signed certificate for 127.0.0.1 and localhost: `(cert.pem, key.pem)` in `dir`.
fn self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, signing_key.serialize_pem()).unwrap();
    (c, k)
}

fn parent_conf() -> String {
    format!("[{KEY}]\n    enabled = yes\n    default memory mode = ram\n    allow from = *\n")
}

fn child_conf(port: u16, extra: &str) -> String {
    format!(
        "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{port}:SSL\n    api key = {KEY}\n    timeout seconds = 60\n    reconnect delay seconds = 1\n{extra}"
    )
}

/// A tributary parent whose config directory has `ssl/cert.pem` and `ssl/key.pem`.
fn tls_parent(dir: &TempDir, bind: Option<&str>) -> (Agent, std::path::PathBuf) {
    let (cert, _) = self_signed(&dir.path().join("etc/ssl"));
    let mut b = Agent::builder()
        .set("global", "hostname", "tls-parent")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&parent_conf())
        .dir(dir.path());
    if let Some(bind) = bind {
        b = b.set("web", "bind to", bind);
    }
    (b.start(), cert)
}

/// GET over TLS, trusting `ca` (the parent's self-signed certificate).
fn https_get(port: u16, path: &str, ca: &Path) -> String {
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let Ok(mut sock) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    if write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return String::new();
    }
    let mut out = Vec::new();
    let _eof_or_close_notify = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn child_has_data(port: u16, child: &str) -> bool {
    http_get_retry(
        port,
        &format!("/host/{child}/api/v1/data?chart=system.idlejitter&after=-10&format=csv"),
    )
    .is_ok_and(|(s, body)| s == 200 && body.lines().count() > 3)
}

/// The same check over HTTPS (a parent with `^SSL=force` redirects plain HTTP).
fn child_has_data_https(port: u16, child: &str, ca: &Path) -> bool {
    let reply = https_get(
        port,
        &format!("/host/{child}/api/v1/data?chart=system.idlejitter&after=-10&format=csv"),
        ca,
    );
    reply.starts_with("HTTP/1.1 200") && reply.lines().count() > 12
}

#[test]
fn tls_streams_and_https_reach_a_tributary_parent_next_to_plain_ones() {
    let dir = TempDir::new("tls-parent");
    let (parent, cert) = tls_parent(&dir, None);
    let https = https_get(parent.port, "/api/v1/info", &cert);
    assert!(https.starts_with("HTTP/1.1 200"), "{https}");
    assert!(https.contains("\"mirrored_hosts\""), "{https}");
    let (status, _) = http_get_retry(parent.port, "/api/v1/info").unwrap();
    assert_eq!(status, 200, "plain HTTP still works with TLS optional");
    let _child = Agent::builder()
        .set("global", "hostname", "tls-child")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&child_conf(
            parent.port,
            "    ssl skip certificate verification = yes\n",
        ))
        .start();
    wait_until(Duration::from_secs(60), "the TLS child's data", || {
        child_has_data(parent.port, "tls-child").then_some(())
    });
}

#[test]
fn a_forced_tls_parent_refuses_plain_children_and_checks_certificates_with_cafile() {
    let dir = TempDir::new("tls-force");
    let (parent, cert) = tls_parent(&dir, Some("127.0.0.1^SSL=force"));
    let plain = Agent::builder()
        .set("global", "hostname", "plain-child")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&format!(
            "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{}\n    api key = {KEY}\n    reconnect delay seconds = 1\n",
            parent.port
        ))
        .start();
    let verified = Agent::builder()
        .set("global", "hostname", "verified-child")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&child_conf(
            parent.port,
            &format!("    CAfile = {}\n", cert.display()),
        ))
        .start();
    wait_until(Duration::from_secs(60), "the verified child's data", || {
        child_has_data_https(parent.port, "verified-child", &cert).then_some(())
    });
    let (status, body) = crate::support::http_get(parent.port, "/api/v1/info").unwrap();
    assert_eq!(status, 301, "plain HTTP is redirected: {body}");
    wait_until(Duration::from_secs(30), "the plain child refused", || {
        parent
            .log()
            .contains("please enable the SSL on child")
            .then_some(())
    });
    assert!(!child_has_data_https(parent.port, "plain-child", &cert));
    // A child that does not trust the certificate does not stream.
    let other = TempDir::new("tls-other-ca");
    let (other_ca, _) = self_signed(other.path());
    let untrusting = Agent::builder()
        .set("global", "hostname", "untrusting-child")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&child_conf(
            parent.port,
            &format!("    CAfile = {}\n", other_ca.display()),
        ))
        .start();
    wait_until(Duration::from_secs(30), "the certificate refused", || {
        untrusting
            .log()
            .contains("SSL handshake failed")
            .then_some(())
    });
    drop((plain, verified));
}

#[test]
fn a_real_netdata_child_streams_over_tls_into_tributary() {
    let dir = TempDir::new("tls-nd-child");
    let (parent, _) = tls_parent(&dir, None);
    let _nd = Netdata::start(
        "nd-tls-child",
        "none",
        &["idlejitter"],
        &child_conf(parent.port, "    ssl skip certificate verification = yes\n"),
    );
    wait_until(Duration::from_secs(90), "netdata's TLS stream", || {
        child_has_data(parent.port, "nd-tls-child").then_some(())
    });
}

#[test]
fn tributary_streams_over_tls_into_a_real_netdata_parent() {
    let certs = TempDir::new("tls-nd-parent-certs");
    let (cert, key) = self_signed(certs.path());
    let nd = Netdata::start_with_web(
        "nd-tls-parent",
        "ram",
        &[],
        &parent_conf(),
        &format!(
            "    ssl key = {}\n    ssl certificate = {}\n",
            key.display(),
            cert.display()
        ),
    );
    wait_until(Duration::from_secs(90), "netdata's HTTPS server", || {
        https_get(nd.port, "/api/v1/info", &cert)
            .starts_with("HTTP/1.1 200")
            .then_some(())
    });
    let child = Agent::builder()
        .set("global", "hostname", "trib-tls-child")
        .set("plugins", "proc", "no")
        .set("plugins", "diskspace", "no")
        .stream_conf(&child_conf(
            nd.port,
            &format!("    CAfile = {}\n", cert.display()),
        ))
        .start();
    let arrived = std::panic::catch_unwind(|| {
        wait_until(Duration::from_secs(90), "our TLS stream on netdata", || {
            child_has_data_https(nd.port, "trib-tls-child", &cert).then_some(())
        })
    });
    assert!(
        arrived.is_ok(),
        "our child's log:\n{}\nnetdata's STREAM log:\n{}",
        child.log(),
        nd.error_log()
            .lines()
            .filter(|l| l.contains("STREAM") || l.contains("SSL"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
