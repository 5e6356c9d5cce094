//! The PROXY protocol (haproxy.org's proxy-protocol.txt), versions 1 and
//! 2: the header a client-side proxy puts before a connection's bytes to
//! say whom it carries. Encoding for `send-proxy`, `send-proxy-v2` and
//! `check-send-proxy`; decoding for `accept-proxy` and `tcp-request
//! connection expect-proxy layer4`. Knows nothing of sessions.

use super::Conn;
use crate::acl::pp_facts::ProxyTlvs;
use crate::cfg::ProxyVersion;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12 bytes every version 2 header starts with.
const SIG_V2: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// Longest version 1 line, CRLF included.
const V1_MAX: usize = 107;

/// What a received header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    Proxied { src: SocketAddr, dst: SocketAddr }, // the addresses of the connection it carries
    Local, // `LOCAL` (v2) or `UNKNOWN` (v1): keep the connection's own addresses
}

/// A whole header at the start of the received bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub header: Header,
    pub len: usize,                   // its length on the wire
    pub tlvs: Option<Box<ProxyTlvs>>, // the TLVs strata keeps, when a v2 header had any
}

/// Why a received header is refused, or why none came, as HAProxy's
/// connection error codes (`CO_ER_PRX_*`) say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    NotProxy,  // something else than a PROXY header
    BadV1,     // a v1 line that does not parse
    BadV2,     // a v2 header that does not parse
    Truncated, // longer than strata reads, or cut by the client's close
    Empty,     // closed before the header
    Abort,     // a socket error before the header
    Timeout,   // `timeout client` before the header
}

impl Refused {
    pub fn message(self) -> &'static str {
        match self {
            Refused::NotProxy => "Received something which does not look like a PROXY protocol header",
            Refused::BadV1 | Refused::BadV2 => "Received an invalid PROXY protocol header",
            Refused::Truncated => "Truncated PROXY protocol header received",
            Refused::Empty => "Connection closed while waiting for PROXY protocol header",
            Refused::Abort => "Connection error while waiting for PROXY protocol header",
            Refused::Timeout => "Timeout while waiting for PROXY protocol header",
        }
    }
}

/// Longest header read (a v2 header's TLVs included); HAProxy reads at
/// most a buffer.
const READ_MAX: usize = 4096;

impl Conn {
    /// Reads the PROXY header this client connection starts with, before
    /// any other byte (and before TLS): peeks at what arrived, and takes
    /// exactly the header once it is whole, so the bytes after it stay
    /// for the mux. `Ok(None)`: not all there yet (a later readiness
    /// brings the rest). `timed_out`: the session's deadline passed.
    pub fn read_proxy_header(&mut self, timed_out: bool) -> Result<Option<Decoded>, Refused> {
        let mut buf = [0u8; READ_MAX];
        let n = match self.sock.peek(&mut buf) {
            Ok(0) => return Err(Refused::Empty),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                return if timed_out { Err(Refused::Timeout) } else { Ok(None) };
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(_) => return Err(Refused::Abort),
        };
        match decode(&buf[..n])? {
            Some(d) => {
                // The header is in the receive queue: this read takes it whole.
                match self.sock.read(&mut buf[..d.len]) {
                    Ok(got) if got == d.len => Ok(Some(d)),
                    _ => Err(Refused::Abort),
                }
            }
            None if n == READ_MAX || self.peer_closed() => Err(Refused::Truncated),
            None if timed_out => Err(Refused::Timeout),
            None => {
                self.readable = false;
                Ok(None)
            }
        }
    }

    /// Writes `header` on a server connection whose TCP connect just
    /// completed, before anything else (TLS included). Its send buffer is
    /// empty, so the header (at most a few hundred bytes) goes at once;
    /// anything less is an error.
    pub fn send_proxy_header(&mut self, header: &[u8]) -> io::Result<()> {
        match self.sock.write(header) {
            Ok(n) if n == header.len() => Ok(()),
            Ok(_) => Err(io::Error::other("PROXY header cut")),
            Err(e) => {
                self.error = Some(e.kind());
                Err(e)
            }
        }
    }
}

/// Decodes the header at the start of `data`: `Ok(None)` while it is
/// incomplete, else the header and its length.
pub fn decode(data: &[u8]) -> Result<Option<Decoded>, Refused> {
    let sig_part = &SIG_V2[..data.len().min(12)];
    if data.starts_with(sig_part) {
        return if data.len() < 16 { Ok(None) } else { decode_v2(data) };
    }
    let v1 = &b"PROXY "[..data.len().min(6)];
    if !data.starts_with(v1) {
        return Err(Refused::NotProxy);
    }
    match data.iter().position(|&b| b == b'\n') {
        None if data.len() >= V1_MAX => Err(Refused::BadV1),
        None => Ok(None),
        Some(nl) if nl + 1 > V1_MAX || nl == 0 || data[nl - 1] != b'\r' => Err(Refused::BadV1),
        Some(nl) => {
            decode_v1(&data[..nl - 1]).map(|header| Some(Decoded { header, len: nl + 1, tlvs: None }))
        }
    }
}

/// `PROXY TCP4|TCP6 SRC DST SPORT DPORT` or `PROXY UNKNOWN ...`.
fn decode_v1(line: &[u8]) -> Result<Header, Refused> {
    let text = std::str::from_utf8(line).map_err(|_| Refused::BadV1)?;
    let mut w = text.split(' ');
    let (_, proto) = (w.next(), w.next().ok_or(Refused::BadV1)?);
    if proto == "UNKNOWN" {
        return Ok(Header::Local);
    }
    let v6 = match proto {
        "TCP4" => false,
        "TCP6" => true,
        _ => return Err(Refused::BadV1),
    };
    let ip = |s: Option<&str>| -> Result<IpAddr, Refused> {
        let ip: IpAddr = s.ok_or(Refused::BadV1)?.parse().map_err(|_| Refused::BadV1)?;
        if ip.is_ipv6() == v6 { Ok(ip) } else { Err(Refused::BadV1) }
    };
    let port = |s: Option<&str>| -> Result<u16, Refused> {
        let s = s.ok_or(Refused::BadV1)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refused::BadV1);
        }
        s.parse().map_err(|_| Refused::BadV1)
    };
    let (src, dst) = (ip(w.next())?, ip(w.next())?);
    let (sport, dport) = (port(w.next())?, port(w.next())?);
    if w.next().is_some() {
        return Err(Refused::BadV1);
    }
    Ok(Header::Proxied { src: SocketAddr::new(src, sport), dst: SocketAddr::new(dst, dport) })
}

/// The binary header: version 2, command LOCAL or PROXY, TCP over IPv4
/// or IPv6, then its TLVs (see [`tlvs`]).
fn decode_v2(data: &[u8]) -> Result<Option<Decoded>, Refused> {
    let ver_cmd = data[12];
    let fam = data[13];
    let len = u16::from_be_bytes([data[14], data[15]]) as usize;
    if ver_cmd >> 4 != 2 {
        return Err(Refused::BadV2);
    }
    let total = 16 + len;
    if data.len() < total {
        return Ok(None);
    }
    let body = &data[16..total];
    match ver_cmd & 0x0f {
        0 => return Ok(Some(Decoded { header: Header::Local, len: total, tlvs: None })),
        1 => {}
        _ => return Err(Refused::BadV2),
    }
    let (header, addr_len) = match fam {
        0x11 if body.len() >= 12 => {
            let src = Ipv4Addr::new(body[0], body[1], body[2], body[3]);
            let dst = Ipv4Addr::new(body[4], body[5], body[6], body[7]);
            let (sp, dp) = (u16::from_be_bytes([body[8], body[9]]), u16::from_be_bytes([body[10], body[11]]));
            (
                Header::Proxied {
                    src: SocketAddr::new(src.into(), sp),
                    dst: SocketAddr::new(dst.into(), dp),
                },
                12,
            )
        }
        0x21 if body.len() >= 36 => {
            let a = |o: usize| {
                let mut b = [0u8; 16];
                b.copy_from_slice(&body[o..o + 16]);
                Ipv6Addr::from(b)
            };
            let (sp, dp) =
                (u16::from_be_bytes([body[32], body[33]]), u16::from_be_bytes([body[34], body[35]]));
            (
                Header::Proxied {
                    src: SocketAddr::new(a(0).into(), sp),
                    dst: SocketAddr::new(a(16).into(), dp),
                },
                36,
            )
        }
        // An unspecified or non-TCP family: the connection's own addresses
        // (HAProxy reads no TLV after those either).
        0x00 | 0x12 | 0x22 | 0x31 | 0x32 => {
            return Ok(Some(Decoded { header: Header::Local, len: total, tlvs: None }));
        }
        _ => return Err(Refused::BadV2),
    };
    let tlvs = tlvs(&body[addr_len..])?;
    Ok(Some(Decoded { header, len: total, tlvs }))
}

/// Longest unique id HAProxy accepts in a PP2_TYPE_UNIQUE_ID TLV
/// (`UNIQUEID_LEN`); a longer one makes the header invalid.
const UNIQUE_ID_MAX: usize = 128;
/// Longest authority (PP2_TYPE_AUTHORITY): a host name.
const AUTHORITY_MAX: usize = 255;

/// The TLVs after a v2 header's addresses: type, 16-bit length, value.
/// One whose length runs past the header, or a unique id or authority
/// longer than HAProxy's limits, makes the header invalid (HAProxy's
/// `bad_header`); TLV types strata does not keep are skipped.
fn tlvs(mut rest: &[u8]) -> Result<Option<Box<ProxyTlvs>>, Refused> {
    let mut kept: Option<Box<ProxyTlvs>> = None;
    while !rest.is_empty() {
        if rest.len() < 3 {
            return Err(Refused::BadV2);
        }
        let (kind, len) = (rest[0], u16::from_be_bytes([rest[1], rest[2]]) as usize);
        let value = rest.get(3..3 + len).ok_or(Refused::BadV2)?;
        rest = &rest[3 + len..];
        let slot = match kind {
            0x02 if len <= AUTHORITY_MAX => &mut kept.get_or_insert_default().authority,
            0x05 if len <= UNIQUE_ID_MAX => &mut kept.get_or_insert_default().unique_id,
            0x02 | 0x05 => return Err(Refused::BadV2),
            _ => continue,
        };
        *slot = Some(value.into());
    }
    Ok(kept)
}

/// The header for a connection from `src` to `dst` (HAProxy's
/// `make_proxy_line`): v1 `PROXY TCP4 ...`, or v2 with the PROXY command.
/// Mixed families are written as IPv6 (IPv4-mapped).
pub fn encode(v: ProxyVersion, src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let (src, dst) = match (src.ip(), dst.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => (src, dst),
        _ => (v6_mapped(src), v6_mapped(dst)),
    };
    match v {
        ProxyVersion::V1 => {
            let fam = if src.is_ipv4() { "TCP4" } else { "TCP6" };
            format!("PROXY {fam} {} {} {} {}\r\n", src.ip(), dst.ip(), src.port(), dst.port()).into_bytes()
        }
        ProxyVersion::V2 => {
            let mut h = SIG_V2.to_vec();
            h.push(0x21);
            match (src.ip(), dst.ip()) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    h.extend_from_slice(&[0x11, 0, 12]);
                    h.extend_from_slice(&s.octets());
                    h.extend_from_slice(&d.octets());
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    h.extend_from_slice(&[0x21, 0, 36]);
                    h.extend_from_slice(&s.octets());
                    h.extend_from_slice(&d.octets());
                }
                _ => unreachable!("families matched above"),
            }
            h.extend_from_slice(&src.port().to_be_bytes());
            h.extend_from_slice(&dst.port().to_be_bytes());
            h
        }
    }
}

/// The header of a connection that carries no client (a health check):
/// v1 `PROXY UNKNOWN`, v2 the LOCAL command.
pub fn local(v: ProxyVersion) -> Vec<u8> {
    match v {
        ProxyVersion::V1 => b"PROXY UNKNOWN\r\n".to_vec(),
        ProxyVersion::V2 => {
            let mut h = SIG_V2.to_vec();
            h.extend_from_slice(&[0x20, 0x00, 0, 0]);
            h
        }
    }
}

fn v6_mapped(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
        IpAddr::V6(_) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().expect("socket address")
    }

    #[test]
    fn round_trips() {
        for v in [ProxyVersion::V1, ProxyVersion::V2] {
            for (s, d) in [("1.2.3.4:5678", "10.0.0.1:80"), ("[2001:db8::1]:1", "[::1]:443")] {
                let h = encode(v, sa(s), sa(d));
                let mut data = h.clone();
                data.extend_from_slice(b"GET / HTTP/1.1\r\n");
                let want =
                    Decoded { header: Header::Proxied { src: sa(s), dst: sa(d) }, len: h.len(), tlvs: None };
                assert_eq!(decode(&data), Ok(Some(want)));
                for cut in 1..h.len() {
                    assert_eq!(decode(&h[..cut]), Ok(None), "{v:?} cut at {cut}");
                }
            }
            let want = Decoded { header: Header::Local, len: local(v).len(), tlvs: None };
            assert_eq!(decode(&local(v)), Ok(Some(want)));
        }
        assert_eq!(
            encode(ProxyVersion::V1, sa("1.2.3.4:5"), sa("6.7.8.9:10")),
            b"PROXY TCP4 1.2.3.4 6.7.8.9 5 10\r\n"
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(decode(b"GET / HTTP/1.1\r\n"), Err(Refused::NotProxy));
        assert_eq!(decode(b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), Err(Refused::BadV1));
        assert_eq!(decode(b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n"), Err(Refused::BadV1));
        assert_eq!(decode(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), Err(Refused::BadV1), "LF alone");
        assert_eq!(decode(&[b'P'; 200][..]), Err(Refused::NotProxy));
        let mut long = b"PROXY ".to_vec();
        long.extend_from_slice(&[b'x'; 120]);
        assert_eq!(decode(&long), Err(Refused::BadV1));
        let mut v2 = local(ProxyVersion::V2);
        v2[12] = 0x13;
        assert_eq!(decode(&v2), Err(Refused::BadV2));
        let mut v2 = encode(ProxyVersion::V2, sa("1.2.3.4:1"), sa("1.2.3.4:2"));
        v2[12] = 0x31;
        assert_eq!(decode(&v2), Err(Refused::BadV2), "version 3");
    }

    /// A v2 header with `tlvs` after its IPv4 addresses (the length field covers them).
    fn v2_with(tlvs: &[u8]) -> Vec<u8> {
        let mut h = encode(ProxyVersion::V2, sa("127.0.0.1:42"), sa("127.0.0.1:1337"));
        h[15] += tlvs.len() as u8;
        h.extend_from_slice(tlvs);
        h
    }

    #[test]
    fn unique_id_and_authority_tlvs_are_kept_others_skipped() {
        // NOOP (0x04, skipped), UNIQUE_ID "12345", AUTHORITY "a.example".
        let h = v2_with(b"\x04\x00\x01\x00\x05\x00\x0512345\x02\x00\x09a.example");
        let d = decode(&h).expect("valid").expect("whole");
        let t = d.tlvs.expect("TLVs kept");
        assert_eq!(t.unique_id.as_deref(), Some(&b"12345"[..]));
        assert_eq!(t.authority.as_deref(), Some(&b"a.example"[..]));
        assert_eq!(d.len, h.len());
        assert_eq!(decode(&v2_with(b"\x04\x00\x00")).expect("valid").expect("whole").tlvs, None);
    }

    #[test]
    fn a_tlv_past_the_header_or_an_overlong_unique_id_is_refused() {
        assert_eq!(decode(&v2_with(b"\x05\x00\x09123")), Err(Refused::BadV2));
        assert_eq!(decode(&v2_with(b"\x05\x00")), Err(Refused::BadV2));
        let mut long = vec![0x05, 0, 129];
        long.extend_from_slice(&[b'x'; 129]);
        assert_eq!(decode(&v2_with(&long)), Err(Refused::BadV2));
        let mut max = vec![0x05, 0, 128];
        max.extend_from_slice(&[b'x'; 128]);
        assert!(decode(&v2_with(&max)).expect("128 bytes is allowed").is_some());
    }
}
