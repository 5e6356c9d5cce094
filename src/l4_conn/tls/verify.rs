//! How a server's certificate is checked, as HAProxy's `server ... ssl`
//! does: `verify required` checks the chain against `ca-file`, and the
//! name only when there is one to check (`verifyhost`, else the SNI
//! sent); `verify none` checks nothing but the handshake signatures.

use rustls::DigitallySignedStruct;
use rustls::SignatureScheme;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{Error, RootCertStore};
use std::sync::Arc;

/// `verify required`: the chain must lead to a root of `ca-file`.
#[derive(Debug)]
pub struct ChainVerifier {
    roots: Arc<RootCertStore>,
    host: Option<ServerName<'static>>, // `verifyhost`
    algs: WebPkiSupportedAlgorithms,
}

impl ChainVerifier {
    pub fn new(
        roots: Arc<RootCertStore>,
        verifyhost: Option<&str>,
        prov: Arc<CryptoProvider>,
    ) -> ChainVerifier {
        let host = verifyhost.and_then(|h| ServerName::try_from(h.to_owned()).ok());
        ChainVerifier { roots, host, algs: prov.signature_verification_algorithms }
    }
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.algs.all,
        )?;
        match (&self.host, server_name) {
            (Some(host), _) => rustls::client::verify_server_name(&cert, host)?,
            // An address as name means no SNI was sent: nothing to compare.
            (None, ServerName::DnsName(_)) => rustls::client::verify_server_name(&cert, server_name)?,
            (None, _) => {}
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// `verify none`: any certificate is accepted (the handshake's own
/// signatures are still checked against it).
#[derive(Debug)]
pub struct AnyServerCert {
    algs: WebPkiSupportedAlgorithms,
}

impl AnyServerCert {
    pub fn new(prov: Arc<CryptoProvider>) -> AnyServerCert {
        AnyServerCert { algs: prov.signature_verification_algorithms }
    }
}

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}
