//! The fake's HTTPS side: a self-signed certificate for `discord.com` (made once per test
//! process with rcgen), a rustls acceptor, and a reqwest client that sends `discord.com`
//! to the fake and trusts only that certificate.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Host names the certificate is valid for.
pub const HOSTS: [&str; 2] = ["discord.com", "gateway.discord.gg"];

struct Material {
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn material() -> &'static Material {
    static MATERIAL: OnceLock<Material> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        let names: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
        let certified =
            rcgen::generate_simple_self_signed(names).expect("generate self-signed certificate");
        Material {
            cert_der: certified.cert.der().to_vec(),
            key_der: certified.key_pair.serialize_der(),
        }
    })
}

/// The certificate (DER) the HTTPS listener presents.
pub fn cert_der() -> &'static [u8] {
    &material().cert_der
}

/// A TLS acceptor for the HTTPS listener (HTTP/1.1 only).
pub fn acceptor() -> TlsAcceptor {
    let m = material();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(m.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(m.key_der.clone())),
        )
        .expect("server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsAcceptor::from(Arc::new(config))
}

/// A reqwest client for serenity's "default mode": `https://discord.com` reaches
/// `https_addr`, only the fake's certificate is trusted, and no system proxy is used.
pub fn client_for(https_addr: SocketAddr) -> reqwest::Client {
    let cert = reqwest::Certificate::from_der(cert_der()).expect("certificate");
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .no_proxy();
    for host in HOSTS {
        builder = builder.resolve(host, https_addr);
    }
    builder.build().expect("build reqwest client")
}
