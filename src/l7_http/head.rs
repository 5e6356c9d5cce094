//! Parsed HTTP/1 message heads as ranges into the buffer that holds them.
//!
//! A head is parsed once with httparse; what is kept is offsets (no copy),
//! the header lines in a list whose storage is reused
//! ([`super::header_list`]). Validation is strict: where the RFCs allow
//! rejecting or repairing a message, strata rejects it (see `parse.rs`).

pub use super::header_list::Headers;

/// A byte range `[start, end)` into the buffer the head was parsed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The bytes this span covers in `buf` (empty if out of range).
    pub fn of<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The span of `part`, a sub-slice of `buf`.
    pub(crate) fn within(buf: &[u8], part: &[u8]) -> Span {
        let start = (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
        Span { start: start as u32, end: (start + part.len()) as u32 }
    }
}

/// One header line: name and value (value without surrounding blanks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderSpan {
    pub name: Span,
    pub value: Span,
}

/// Protocol version of a message. `Http2` marks a request that arrived
/// over HTTP/2 (its head was rebuilt as HTTP/1.1 by the mux): it is
/// logged and fetched as `HTTP/2.0` and sent to servers as HTTP/1.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
    Http2,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
            Version::Http2 => "HTTP/2.0",
        }
    }

    /// The version written on the next HTTP/1 hop.
    pub fn on_the_wire(self) -> &'static str {
        match self {
            Version::Http2 => "HTTP/1.1",
            v => v.as_str(),
        }
    }
}

/// How a message's body is delimited (RFC 9112 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    None,        // no body
    Length(u64), // Content-Length
    Chunked,     // Transfer-Encoding: chunked
    UntilClose,  // response read until the server closes
}

/// What the `Connection` header (and the version) say about the connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnOpts {
    pub close: bool,      // `close` token, or HTTP/1.0 without keep-alive
    pub keep_alive: bool, // `keep-alive` token
    pub upgrade: bool,    // `upgrade` token with an Upgrade header
}

/// A parsed request head.
#[derive(Clone, Debug)]
pub struct RequestHead {
    pub method: Span,
    pub uri: Span,
    pub version: Version,
    pub headers: Headers,
    pub len: usize, // bytes of the head including the blank line
    pub framing: Framing,
    pub conn: ConnOpts,
    pub expect_continue: bool, // `Expect: 100-continue`
}

/// A parsed response head.
#[derive(Clone, Debug)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: Span,
    pub version: Version,
    pub headers: Headers,
    pub len: usize,
    pub framing: Framing,
    pub conn: ConnOpts,
}

/// Looks up headers by case-insensitive name.
pub fn find<'h>(
    buf: &'h [u8],
    headers: &'h [HeaderSpan],
    name: &'h str,
) -> impl Iterator<Item = &'h [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.of(buf).eq_ignore_ascii_case(name.as_bytes()))
        .map(move |h| h.value.of(buf))
}

/// Whether header name `name` (a token, as the parser accepted it) is
/// `lower` in any case; `lower` is lower case letters, digits and `-`.
/// Eight bytes are compared at a time: setting bit 5 turns an upper case
/// letter into its lower case and leaves every other token character that
/// could match one of `lower`'s unchanged.
pub fn name_is(name: &[u8], lower: &[u8]) -> bool {
    debug_assert!(lower.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-'));
    const CASE: u64 = 0x2020_2020_2020_2020;
    let n = name.len();
    if n != lower.len() {
        return false;
    }
    if n < 8 {
        return name.iter().zip(lower).all(|(a, b)| a | 0x20 == *b);
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let mut at = 0;
    while at + 8 <= n {
        if word(name, at) | CASE != word(lower, at) {
            return false;
        }
        at += 8;
    }
    at == n || word(name, n - 8) | CASE == word(lower, n - 8) // the tail, overlapping
}

/// Comma-separated tokens of a header value, trimmed, empty ones skipped.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(|t| t.trim_ascii()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::name_is;

    #[test]
    fn name_is_matches_any_case_and_nothing_else() {
        for (name, lower) in [
            ("Host", "host"),
            ("HOST", "host"),
            ("Content-Length", "content-length"),
            ("cOnTeNt-LeNgTh", "content-length"),
            ("Proxy-Connection", "proxy-connection"),
            ("Transfer-Encoding", "transfer-encoding"),
        ] {
            assert!(name_is(name.as_bytes(), lower.as_bytes()), "{name}");
            assert_eq!(name_is(name.as_bytes(), lower.as_bytes()), name.eq_ignore_ascii_case(lower));
        }
        for (name, lower) in [
            ("Hosts", "host"),
            ("Hist", "host"),
            ("Content_Length", "content-length"),
            ("Content-Lengtj", "content-length"),
            ("Xontent-Length", "content-length"),
            ("Transfer-Encodinh", "transfer-encoding"),
            ("Transfer~Encoding", "transfer-encoding"),
        ] {
            assert!(!name_is(name.as_bytes(), lower.as_bytes()), "{name}");
        }
    }
}
