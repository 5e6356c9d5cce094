//! The one place strata drives rustls's connection I/O (`read_tls`,
//! `process_new_packets`, `reader`, `writer`, `write_tls`, the server
//! `Acceptor`): rustls 0.24 changes this API, and only this file has to
//! follow. Everything above speaks in [`Engine`]'s terms.

use super::certs;
use super::ciphers::openssl_name;
use super::{BindTls, HsFailure};
use crate::acl::tls_facts::TlsFacts;
use rustls::server::{AcceptedAlert, Acceptor};
use rustls::{ClientConnection, HandshakeKind, ProtocolVersion, ServerConnection};
use std::io::{self, Read, Write};
use std::sync::Arc;

/// One connection's TLS state machine. Owned by its `Conn`'s transport.
pub enum Engine {
    /// Server side before the ClientHello: the certificate (and so the
    /// configuration) is chosen by its SNI.
    Accepting(Box<Acceptor>, Arc<BindTls>),
    Server(Box<ServerConnection>),
    Client(Box<ClientConnection>),
    /// The ClientHello was refused: only the alert is left to send.
    Refused(Option<AcceptedAlert>),
}

impl Engine {
    pub fn accepting(bind: Arc<BindTls>) -> Engine {
        Engine::Accepting(Box::default(), bind)
    }

    pub fn client(
        config: Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
    ) -> Option<Engine> {
        ClientConnection::new(config, name).ok().map(|c| Engine::Client(Box::new(c)))
    }

    /// Reads ciphertext from `rd` (one read). `Ok(0)`: EOF, or a
    /// close_notify already received.
    pub fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        match self {
            Engine::Accepting(a, _) => a.read_tls(rd),
            Engine::Server(c) => c.read_tls(rd),
            Engine::Client(c) => c.read_tls(rd),
            Engine::Refused(_) => Ok(0),
        }
    }

    /// Processes the ciphertext read so far. A failure leaves its alert
    /// queued for [`Engine::write_tls`].
    pub fn process(&mut self) -> Result<(), HsFailure> {
        let result = match self {
            Engine::Accepting(acceptor, bind) => match acceptor.accept() {
                Ok(None) => return Ok(()),
                Ok(Some(accepted)) => {
                    let config = bind.config_for(accepted.client_hello().server_name());
                    *self = match accepted.into_connection(config) {
                        Ok(c) => Engine::Server(Box::new(c)),
                        Err((_, alert)) => {
                            *self = Engine::Refused(Some(alert));
                            return Err(HsFailure::Handshake);
                        }
                    };
                    return self.process();
                }
                Err((_, alert)) => {
                    *self = Engine::Refused(Some(alert));
                    return Err(HsFailure::Handshake);
                }
            },
            Engine::Server(c) => c.process_new_packets().map(drop),
            Engine::Client(c) => c.process_new_packets().map(drop),
            Engine::Refused(_) => return Err(HsFailure::Handshake),
        };
        result.map_err(|e| classify(&e, matches!(self, Engine::Server(_))))
    }

    /// Plaintext received, into `buf`: `Ok(0)` once the peer's
    /// close_notify was read, `UnexpectedEof` after a TCP close without
    /// it, `WouldBlock` when more ciphertext is needed.
    pub fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Engine::Server(c) => c.reader().read(buf),
            Engine::Client(c) => c.reader().read(buf),
            _ => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Encrypts `data`; returns how much was taken (all of it unless
    /// rustls's buffer limit was reached).
    pub fn write_plain(&mut self, data: &[u8]) -> usize {
        let written = match self {
            Engine::Server(c) => c.writer().write(data),
            Engine::Client(c) => c.writer().write(data),
            _ => Ok(0),
        };
        written.unwrap_or(0)
    }

    /// Ciphertext (handshake messages, records, alerts) waits to be sent.
    pub fn wants_write(&self) -> bool {
        match self {
            Engine::Server(c) => c.wants_write(),
            Engine::Client(c) => c.wants_write(),
            Engine::Refused(a) => a.is_some(),
            Engine::Accepting(..) => false,
        }
    }

    /// Sends pending ciphertext to `wr` (one write).
    pub fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        match self {
            Engine::Server(c) => c.write_tls(wr),
            Engine::Client(c) => c.write_tls(wr),
            Engine::Refused(alert) => {
                // An alert is a few bytes: one best-effort write, then it is gone.
                if let Some(mut a) = alert.take() {
                    let _ = a.write(wr);
                }
                Ok(0)
            }
            Engine::Accepting(..) => Ok(0),
        }
    }

    pub fn is_handshaking(&self) -> bool {
        match self {
            Engine::Server(c) => c.is_handshaking(),
            Engine::Client(c) => c.is_handshaking(),
            _ => true,
        }
    }

    /// Queues a close_notify alert.
    pub fn close_notify(&mut self) {
        match self {
            Engine::Server(c) => c.send_close_notify(),
            Engine::Client(c) => c.send_close_notify(),
            _ => {}
        }
    }

    /// Whether the session was resumed (valid once the handshake is done).
    pub fn resumed(&self) -> bool {
        let kind = match self {
            Engine::Server(c) => c.handshake_kind(),
            Engine::Client(c) => c.handshake_kind(),
            _ => None,
        };
        kind == Some(HandshakeKind::Resumed)
    }

    /// The server name of the connection: the client's SNI (server side),
    /// or the one sent (client side).
    pub fn sni(&self) -> Option<&str> {
        match self {
            Engine::Server(c) => c.server_name(),
            _ => None,
        }
    }

    /// The negotiated ALPN protocol.
    pub fn alpn(&self) -> Option<&[u8]> {
        match self {
            Engine::Server(c) => c.alpn_protocol(),
            Engine::Client(c) => c.alpn_protocol(),
            _ => None,
        }
    }

    /// What the finished handshake negotiated.
    pub fn facts(&self) -> TlsFacts {
        let common: &rustls::CommonState = match self {
            Engine::Server(c) => c,
            Engine::Client(c) => c,
            _ => return TlsFacts::default(),
        };
        let version = match common.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "",
        };
        let peer = common
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(certs::peer_cert)
            .map(Box::new);
        TlsFacts {
            sni: self.sni().map(Into::into),
            alpn: common.alpn_protocol().map(Into::into),
            version,
            cipher: common.negotiated_cipher_suite().map_or("", openssl_name),
            resumed: self.resumed(),
            peer,
        }
    }
}

/// HAProxy's connection error for a rustls error.
fn classify(e: &rustls::Error, server_side: bool) -> HsFailure {
    match e {
        rustls::Error::InvalidCertificate(_) if server_side => HsFailure::CrtFail,
        _ => HsFailure::Handshake,
    }
}
