//! A TLS ClientHello read from the first bytes a client sent, without
//! terminating TLS (HAProxy's `req.ssl_hello_type`, `req.ssl_sni`,
//! `req.ssl_alpn`, `req.ssl_ver`): what TCP-mode SNI routing reads.
//! Bounds-checked throughout: any bytes give an answer or "not (yet) a
//! hello", never a panic.

/// What the buffered bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hello<'a> {
    /// Too few bytes to tell yet.
    Incomplete,
    /// Not a TLS handshake record.
    NotTls,
    /// A handshake record: its type (1 ClientHello, 2 ServerHello), the
    /// record version, and for a whole ClientHello its extensions.
    Handshake { kind: u8, version: u16, exts: Option<&'a [u8]> },
}

/// Reads the first TLS record of `buf`. HAProxy looks at the first record
/// only; a ClientHello split over records is not followed.
pub fn parse(buf: &[u8]) -> Hello<'_> {
    if buf.len() < 6 {
        return if buf.first().is_some_and(|&b| b != 0x16) { Hello::NotTls } else { Hello::Incomplete };
    }
    if buf[0] != 0x16 || buf[1] != 3 {
        return Hello::NotTls;
    }
    let version = u16::from_be_bytes([buf[1], buf[2]]);
    let rec_len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    let kind = buf[5];
    let Some(record) = buf.get(5..5 + rec_len) else {
        // Type known, body not all here yet.
        return if kind == 1 { Hello::Incomplete } else { Hello::Handshake { kind, version, exts: None } };
    };
    if kind != 1 {
        return Hello::Handshake { kind, version, exts: None };
    }
    Hello::Handshake { kind, version, exts: client_hello_extensions(record) }
}

/// The extensions block of a ClientHello handshake message.
fn client_hello_extensions(msg: &[u8]) -> Option<&[u8]> {
    let mut r = Reader(msg);
    r.skip(1)?; // handshake type
    let len = r.u24()?;
    let mut body = Reader(r.take(len)?);
    body.skip(2 + 32)?; // client_version, random
    let sid = body.u8()?;
    body.skip(sid)?;
    let suites = body.u16()?;
    body.skip(suites)?;
    let comp = body.u8()?;
    body.skip(comp)?;
    if body.0.is_empty() {
        return Some(&[]);
    }
    let ext_len = body.u16()?;
    body.take(ext_len)
}

/// The body of extension `ty`, if present.
fn extension(exts: &[u8], ty: u16) -> Option<&[u8]> {
    let mut r = Reader(exts);
    while !r.0.is_empty() {
        let t = r.u16()? as u16;
        let len = r.u16()?;
        let body = r.take(len)?;
        if t == ty {
            return Some(body);
        }
    }
    None
}

/// The host name of the server_name extension.
pub fn sni(exts: &[u8]) -> Option<&[u8]> {
    let mut r = Reader(extension(exts, 0)?);
    let list = r.u16()?;
    let mut l = Reader(r.take(list)?);
    while !l.0.is_empty() {
        let kind = l.u8()?;
        let len = l.u16()?;
        let name = l.take(len)?;
        if kind == 0 {
            return Some(name);
        }
    }
    None
}

/// The ALPN protocols offered, each handed to `f` in order.
pub fn alpn<'a>(exts: &'a [u8], f: &mut dyn FnMut(&'a [u8]) -> bool) {
    let Some(body) = extension(exts, 16) else { return };
    let mut r = Reader(body);
    let Some(list) = r.u16() else { return };
    let Some(list) = r.take(list) else { return };
    let mut l = Reader(list);
    while let Some(len) = l.u8() {
        let Some(p) = l.take(len) else { return };
        if !f(p) {
            return;
        }
    }
}

/// The highest version offered: supported_versions when present, else the
/// ClientHello's own (`req.ssl_ver`'s value, as HAProxy's major.minor).
pub fn version(exts: &[u8], record_version: u16) -> u16 {
    let Some(body) = extension(exts, 43) else { return record_version };
    let mut r = Reader(body);
    let Some(n) = r.u8() else { return record_version };
    let Some(list) = r.take(n) else { return record_version };
    list.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .filter(|v| v & 0x0f0f != 0x0a0a) // GREASE
        .max()
        .unwrap_or(record_version)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(drop)
    }

    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }

    fn u16(&mut self) -> Option<usize> {
        self.take(2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn u24(&mut self) -> Option<usize> {
        self.take(3).map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ClientHello with SNI `a.example` and ALPN h2, http/1.1.
    fn hello() -> Vec<u8> {
        let mut exts = Vec::new();
        let name = b"a.example";
        exts.extend_from_slice(&[0, 0]);
        exts.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
        exts.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        exts.push(0);
        exts.extend_from_slice(&(name.len() as u16).to_be_bytes());
        exts.extend_from_slice(name);
        let protos: &[&[u8]] = &[b"h2", b"http/1.1"];
        let list: Vec<u8> =
            protos.iter().flat_map(|p| std::iter::once(p.len() as u8).chain(p.iter().copied())).collect();
        exts.extend_from_slice(&[0, 16]);
        exts.extend_from_slice(&((list.len() + 2) as u16).to_be_bytes());
        exts.extend_from_slice(&(list.len() as u16).to_be_bytes());
        exts.extend_from_slice(&list);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
        body.extend_from_slice(&[1, 0]); // null compression
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut msg = vec![1];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        rec.extend_from_slice(&msg);
        rec
    }

    #[test]
    fn reads_sni_and_alpn_and_waits_for_more() {
        let h = hello();
        let Hello::Handshake { kind: 1, exts: Some(exts), .. } = parse(&h) else { panic!("{:?}", parse(&h)) };
        assert_eq!(sni(exts), Some(&b"a.example"[..]));
        let mut seen = Vec::new();
        alpn(exts, &mut |p| {
            seen.push(p.to_vec());
            true
        });
        assert_eq!(seen, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        for cut in 0..h.len() {
            assert_eq!(parse(&h[..cut]), Hello::Incomplete, "cut at {cut}");
        }
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Hello::NotTls);
    }

    #[test]
    fn any_bytes_give_an_answer() {
        let h = hello();
        let mut x = 0x2545_f491_u32;
        for _ in 0..5000 {
            let mut v = h.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let i = x as usize % v.len();
                v[i] = (x >> 8) as u8;
            }
            if let Hello::Handshake { exts: Some(e), .. } = parse(&v) {
                let _ = sni(e);
                alpn(e, &mut |_| true);
                let _ = version(e, 0);
            }
        }
    }
}
