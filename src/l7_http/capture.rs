//! The last invalid request of each frontend and the last invalid
//! response of each backend, as HAProxy keeps them for `show errors`:
//! the bytes received (up to one buffer), where the parser stopped, who
//! sent them. Filled by the HTTP/1 mux (requests) and the stream
//! (responses); read by the stats port.

use std::net::SocketAddr;
use std::time::SystemTime;

/// One captured message.
#[derive(Clone, Debug)]
pub struct Capture {
    pub when: SystemTime,
    pub event: u64,             // capture number, process-wide (HAProxy's `event #N`)
    pub proxy: usize,           // frontend (request) or backend (response) proxy index
    pub backend: Option<usize>, // for a request: the backend chosen, if any
    pub server: Option<usize>,  // for a response: the server index in its backend
    pub src: SocketAddr,        // the client
    pub bytes: Vec<u8>,         // what was received, at most one buffer
    pub error_at: usize,        // where the message stopped being valid
}

/// Every proxy's last invalid request and response. Owned by the worker.
#[derive(Debug, Default)]
pub struct ErrorLog {
    pub requests: Vec<Option<Capture>>,  // by frontend proxy index
    pub responses: Vec<Option<Capture>>, // by backend proxy index
    pub total: u64,                      // captures ever made
}

impl ErrorLog {
    /// An empty log for `proxies` proxies.
    pub fn new(proxies: usize) -> ErrorLog {
        ErrorLog { requests: vec![None; proxies], responses: vec![None; proxies], total: 0 }
    }

    /// Keeps `bytes` as proxy `proxy`'s last invalid request (`request`)
    /// or response.
    #[allow(clippy::too_many_arguments)]
    pub fn capture(
        &mut self,
        request: bool,
        proxy: usize,
        backend: Option<usize>,
        server: Option<usize>,
        src: SocketAddr,
        bytes: &[u8],
        when: SystemTime,
    ) {
        let list = if request { &mut self.requests } else { &mut self.responses };
        let Some(slot) = list.get_mut(proxy) else { return };
        let error_at = error_offset(bytes);
        *slot = Some(Capture {
            when,
            event: self.total,
            proxy,
            backend,
            server,
            src,
            bytes: bytes.to_vec(),
            error_at,
        });
        self.total += 1;
    }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Where a head stops being valid: the first byte of its first line
/// that breaks the HTTP/1 grammar (a method or header-name character, a
/// control character, a missing `:`), else its end.
pub fn error_offset(buf: &[u8]) -> usize {
    let mut pos = 0;
    let mut first = true;
    while pos < buf.len() {
        let end = buf[pos..].iter().position(|&b| b == b'\n').map_or(buf.len(), |i| pos + i);
        let line = &buf[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && !first {
            return buf.len();
        }
        let bad = if first {
            // METHOD SP URI SP VERSION, or STATUS-LINE for a response.
            let word = line.iter().position(|&b| !is_token(b) && b != b'/').unwrap_or(line.len());
            match line.get(word) {
                Some(b' ') => line.iter().position(|&b| b < 0x20 || b == 0x7f),
                Some(_) => Some(word),
                None => Some(line.len()),
            }
        } else if matches!(line.first(), Some(b' ' | b'\t')) {
            Some(0) // obsolete line folding
        } else {
            let name = line.iter().position(|&b| !is_token(b)).unwrap_or(line.len());
            match line.get(name) {
                Some(b':') if name > 0 => {
                    line[name..].iter().position(|&b| (b < 0x20 && b != b'\t') || b == 0x7f).map(|i| name + i)
                }
                _ => Some(name),
            }
        };
        if let Some(at) = bad {
            return pos + at;
        }
        first = false;
        pos = end + 1;
    }
    buf.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_positions_as_haproxy() {
        // HAProxy 2.6.12 reports 28 for this one (the space in the header name).
        assert_eq!(error_offset(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"), 28);
        assert_eq!(error_offset(b"G@T / HTTP/1.1\r\n\r\n"), 1);
        assert_eq!(error_offset(b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n"), 20);
    }
}
