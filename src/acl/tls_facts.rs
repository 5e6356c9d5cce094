//! What a finished TLS handshake established, as the `ssl_*` fetches and
//! the log read it. Filled once per connection by `l4_conn::tls` when its
//! handshake completes (a value handed up, so the fetches need no TLS
//! library), read-only afterwards.

/// The negotiated parameters of one TLS connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFacts {
    pub sni: Option<Box<str>>,   // server name the client sent (`ssl_fc_sni`), lower case
    pub alpn: Option<Box<[u8]>>, // negotiated ALPN protocol (`ssl_fc_alpn`)
    pub version: &'static str,   // `TLSv1.2` / `TLSv1.3` (`ssl_fc_protocol`, `%sslv`)
    pub cipher: &'static str,    // OpenSSL name of the suite (`ssl_fc_cipher`, `%sslc`)
    pub resumed: bool,           // the session was resumed (`ssl_fc_is_resumed`)
    pub peer: Option<Box<PeerCert>>, // the peer's certificate, when it sent one
}

/// The certificate a peer presented (`ssl_c_*` on the client side).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCert {
    pub subject: Box<str>, // OpenSSL one-line form: `/C=FR/O=Acme/CN=client`
    pub issuer: Box<str>,  // same form
    pub serial: Box<[u8]>, // big-endian bytes, as in the certificate
    pub sha1: [u8; 20],    // SHA-1 of the DER certificate
    pub verify: i64,       // X509 verify result: 0 = verified (the only value a finished handshake leaves)
}
