//! TLS for the tests: certificates made at test time with rcgen (a test
//! CA, server certificates for given names, client certificates), a
//! blocking rustls client ([`TlsClient`]) and a TLS HTTP/1.1 test server
//! ([`TlsBackend`]) that answers with what it saw (SNI, ALPN, client
//! certificate) in headers.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::time::ms;

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A test CA and a directory of PEM files it issued. Removed on drop.
pub struct Pki {
    pub dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// One issued certificate: its PEM file (chain then key) and DER.
#[derive(Clone, Debug)]
pub struct Issued {
    pub path: PathBuf,
    pub der: CertificateDer<'static>,
}

impl Pki {
    /// A fresh CA named `name` and an empty directory.
    pub fn new(name: &str) -> Pki {
        let n = DIRS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("strata-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("pki dir");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.distinguished_name.push(DnType::OrganizationName, "Strata Tests");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca");
        let pki = Pki { dir, ca };
        std::fs::write(pki.ca_file(), pki.ca.pem()).expect("write ca");
        pki
    }

    /// The CA certificate's PEM file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The CA certificate.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A server certificate for `names` (CN = the first), signed by the
    /// CA, written with its key to `file` (in [`Pki::dir`] unless absolute).
    pub fn server(&self, file: &str, names: &[&str]) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        self.issue(file, params)
    }

    /// A client certificate with CN `cn`, signed by the CA.
    pub fn client(&self, file: &str, cn: &str) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CountryName, "FR");
        params.distinguished_name.push(DnType::OrganizationName, "Acme");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.serial_number = Some(vec![0x01, 0x02, 0x03, 0x04].into());
        self.issue(file, params)
    }

    fn issue(&self, file: &str, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("sign");
        let path = self.dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).expect("write pem");
        Issued { path, der: cert.der().clone() }
    }

    /// A self-signed certificate (not from the CA) for `names`.
    pub fn self_signed(&self, file: &str, names: &[&str]) -> Issued {
        let c = rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("self-signed");
        let path = self.dir.join(file);
        std::fs::write(&path, format!("{}{}", c.cert.pem(), c.signing_key.serialize_pem())).expect("write");
        Issued { path, der: c.cert.der().clone() }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Accepts any server certificate (tests that look at which one came).
#[derive(Debug)]
struct AnyCert;

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// How a [`TlsClient`] connects.
#[derive(Clone, Default)]
pub struct ClientOpts {
    pub sni: Option<String>,                 // None: no SNI (an address as name)
    pub alpn: Vec<&'static str>,             // offered protocols
    pub version: Option<u16>,                // 12 or 13: only that version
    pub ca: Option<CertificateDer<'static>>, // verify against it (else accept any certificate)
    pub cert: Option<PathBuf>,               // client certificate PEM (chain + key)
}

/// A client configuration, kept to resume sessions across connections.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
    sni: Option<String>,
}

impl TlsClient {
    pub fn new(opts: ClientOpts) -> TlsClient {
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = match opts.version {
            Some(12) => vec![&rustls::version::TLS12],
            Some(13) => vec![&rustls::version::TLS13],
            _ => vec![&rustls::version::TLS13, &rustls::version::TLS12],
        };
        let b = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&versions)
            .expect("versions");
        let b = match opts.ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(ca).expect("root");
                b.with_root_certificates(roots)
            }
            None => b.dangerous().with_custom_certificate_verifier(Arc::new(AnyCert)),
        };
        let mut config = match opts.cert {
            Some(p) => {
                let chain: Vec<_> =
                    CertificateDer::pem_file_iter(&p).expect("pem").map(|c| c.expect("cert")).collect();
                let key = PrivateKeyDer::from_pem_file(&p).expect("key");
                b.with_client_auth_cert(chain, key).expect("client cert")
            }
            None => b.with_no_client_auth(),
        };
        config.alpn_protocols = opts.alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
        TlsClient { config: Arc::new(config), sni: opts.sni }
    }

    /// A client connection not yet on any socket (tests that write its
    /// bytes themselves).
    pub fn raw_connection(&self) -> io::Result<rustls::ClientConnection> {
        let name = match &self.sni {
            Some(n) => ServerName::try_from(n.clone()).map_err(io::Error::other)?,
            None => ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
        };
        rustls::ClientConnection::new(self.config.clone(), name).map_err(io::Error::other)
    }

    /// Connects to 127.0.0.1:`port` and completes the handshake.
    pub fn connect(&self, port: u16) -> io::Result<TlsConn> {
        let tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_read_timeout(Some(ms(10_000)))?;
        tcp.set_nodelay(true)?;
        let name = match &self.sni {
            Some(n) => ServerName::try_from(n.clone()).map_err(io::Error::other)?,
            None => ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
        };
        let conn = rustls::ClientConnection::new(self.config.clone(), name).map_err(io::Error::other)?;
        let mut s = rustls::StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock)?;
        }
        Ok(TlsConn { s })
    }
}

/// A TLS client connection.
pub struct TlsConn {
    pub s: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
}

/// A response read by [`TlsConn::get`].
#[derive(Debug)]
pub struct TlsResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl TlsResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl TlsConn {
    /// The certificate the server presented.
    pub fn peer_cert(&self) -> Option<CertificateDer<'static>> {
        self.s.conn.peer_certificates().and_then(|c| c.first()).map(|c| c.clone().into_owned())
    }

    pub fn alpn(&self) -> Option<String> {
        self.s.conn.alpn_protocol().map(|a| String::from_utf8_lossy(a).into_owned())
    }

    pub fn version(&self) -> Option<rustls::ProtocolVersion> {
        self.s.conn.protocol_version()
    }

    pub fn resumed(&self) -> bool {
        self.s.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Sends `raw` and reads one response (Content-Length framed, or to EOF).
    pub fn request(&mut self, raw: &[u8]) -> io::Result<TlsResponse> {
        self.s.write_all(raw)?;
        self.s.flush()?;
        read_response(&mut self.s)
    }

    /// `GET path` with `Host: test`.
    pub fn get(&mut self, path: &str) -> io::Result<TlsResponse> {
        self.request(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
    }
}

/// Reads one HTTP/1.1 response from `r`.
pub fn read_response(r: &mut dyn Read) -> io::Result<TlsResponse> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if r.read(&mut byte)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a response head"));
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_string(), v.trim().to_string())))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok());
    let mut body = Vec::new();
    match len {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body)?;
        }
        None => {
            let _ = r.read_to_end(&mut body);
        }
    }
    Ok(TlsResponse { status, headers, body })
}

/// A TLS HTTP/1.1 server: every request gets a 200 whose headers say the
/// SNI, ALPN and client-certificate subject the handshake saw, and how many
/// handshakes this server completed (`X-Handshakes`).
pub struct TlsBackend {
    port: u16,
    stop: Arc<AtomicBool>,
    handshakes: Arc<AtomicUsize>,
    resumed: Arc<AtomicUsize>,
    pub snis: Arc<Mutex<Vec<Option<String>>>>,
}

impl TlsBackend {
    /// Serves `cert` (PEM with key); asks for a client certificate signed
    /// by `client_ca` when given.
    pub fn start(cert: &Path, client_ca: Option<&Path>, alpn: &[&str]) -> TlsBackend {
        let chain: Vec<_> =
            CertificateDer::pem_file_iter(cert).expect("pem").map(|c| c.expect("cert")).collect();
        let key = PrivateKeyDer::from_pem_file(cert).expect("key");
        let b = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("v");
        let b = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca).expect("ca") {
                    roots.add(c.expect("ca cert")).expect("root");
                }
                let v =
                    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                        .build()
                        .expect("verifier");
                b.with_client_cert_verifier(v)
            }
            None => b.with_no_client_auth(),
        };
        let mut config = b.with_single_cert(chain, key).expect("cert");
        config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let resumed = Arc::new(AtomicUsize::new(0));
        let snis = Arc::new(Mutex::new(Vec::new()));
        let (st, hs, rs, sn) = (stop.clone(), handshakes.clone(), resumed.clone(), snis.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let (config, hs, rs, sn) = (config.clone(), hs.clone(), rs.clone(), sn.clone());
                        std::thread::spawn(move || serve(tcp, config, &hs, &rs, &sn));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        TlsBackend { port, stop, handshakes, resumed, snis }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::Relaxed)
    }

    /// Of which resumed.
    pub fn resumed(&self) -> usize {
        self.resumed.load(Ordering::Relaxed)
    }
}

impl Drop for TlsBackend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    hs: &AtomicUsize,
    rs: &AtomicUsize,
    snis: &Mutex<Vec<Option<String>>>,
) {
    let _ = tcp.set_nonblocking(false);
    let _ = tcp.set_read_timeout(Some(ms(10_000)));
    let Ok(conn) = rustls::ServerConnection::new(config) else { return };
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        if s.conn.complete_io(&mut s.sock).is_err() {
            return;
        }
    }
    hs.fetch_add(1, Ordering::Relaxed);
    if s.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
        rs.fetch_add(1, Ordering::Relaxed);
    }
    let sni = s.conn.server_name().map(str::to_string);
    if let Ok(mut v) = snis.lock() {
        v.push(sni.clone());
    }
    let alpn = s.conn.alpn_protocol().map(|a| String::from_utf8_lossy(a).into_owned());
    let client = s.conn.peer_certificates().map(|c| c.len()).unwrap_or(0);
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match s.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let body = b"tls-ok";
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Sni: {}\r\nX-Alpn: {}\r\nX-Client-Certs: {client}\r\nX-Handshakes: {}\r\n\r\n",
            body.len(),
            sni.as_deref().unwrap_or("-"),
            alpn.as_deref().unwrap_or("-"),
            hs.load(Ordering::Relaxed),
        );
        if s.write_all(answer.as_bytes()).and_then(|()| s.write_all(body)).and_then(|()| s.flush()).is_err() {
            return;
        }
    }
}
