//! TLS with rustls (ring provider): the listener's server side (`[web] ssl key`, `[web] ssl
//! certificate`, `bind to ...^SSL=optional|force`) and the stream sender's client side
//! (destinations ending in `:SSL`, `ssl skip certificate verification`, `CAfile`, `CApath`).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

pub use crate::settings::TlsMode;

/// The listener's TLS: the acceptor and whether plain connections are still allowed.
#[derive(Clone)]
#[cfg_attr(not(feature = "web"), allow(dead_code))] // the listener's (feature `web`)
pub struct ListenerTls {
    /// Handshakes incoming connections.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Optional or forced.
    pub mode: TlsMode,
}

impl std::fmt::Debug for ListenerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerTls")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The listener's TLS configuration from PEM files.
#[cfg_attr(not(feature = "web"), allow(dead_code))] // the listener's (feature `web`)
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| anyhow::anyhow!("[web] ssl certificate {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("[web] ssl certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "[web] ssl certificate {}: no certificate in it",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("[web] ssl key {}: {e}", key.display()))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

/// The sender's TLS configuration: trust from `CAfile` / `CApath` (default: the system's
/// bundle), or none at all with `ssl skip certificate verification = yes`.
pub fn client_config(
    skip_verification: bool,
    ca_file: Option<&str>,
    ca_path: Option<&str>,
) -> anyhow::Result<Arc<ClientConfig>> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let config = if skip_verification {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(
                provider().signature_verification_algorithms,
            )))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        if let Some(f) = ca_file {
            files.push(f.into());
        }
        if let Some(dir) = ca_path {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| anyhow::anyhow!("[stream] CApath {dir}: {e}"))?;
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
        if files.is_empty() {
            files.push("/etc/ssl/certs/ca-certificates.crt".into());
        }
        for f in &files {
            // A directory of hashed links holds other files too: take what parses.
            if let Ok(certs) = CertificateDer::pem_file_iter(f) {
                for c in certs.flatten() {
                    let _ignored = roots.add(c);
                }
            }
        }
        if roots.is_empty() {
            anyhow::bail!("no CA certificate could be read from {files:?}");
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The name a destination's certificate must carry: its IP address or host name.
pub fn server_name(host: &str) -> anyhow::Result<ServerName<'static>> {
    ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|e| anyhow::anyhow!("'{host}' is not a valid TLS server name: {e}"))
}

/// `ssl skip certificate verification = yes`: any certificate is accepted (self-signed
/// parents), but the handshake signatures are still checked, so the session is still
/// encrypted to whoever holds the certificate's key.
#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
