//! HTTP/1 head parsing and validation.
//!
//! httparse does the tokenising (it already refuses obs-fold, whitespace
//! before the colon, NUL and bare CR in values); this file adds the
//! message-level rules, always choosing to reject where RFC 9112 allows
//! rejecting or repairing: Content-Length together with Transfer-Encoding,
//! several or comma-joined Content-Length values, any transfer coding other
//! than a single `chunked`, a missing or repeated Host in HTTP/1.1, an
//! absolute-form URI whose authority differs from Host.

use std::mem::MaybeUninit;

use super::head::{
    ConnOpts, Framing, HeaderSpan, Headers, RequestHead, ResponseHead, Span, Version, find, name_is, tokens,
};

/// HAProxy's `tune.http.maxhdr` default: more header lines is an error.
pub const MAX_HEADERS: usize = 101;

/// Why a head was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    TooLarge,             // the head does not fit in the buffer
    Syntax(&'static str), // malformed; the text says what, for logs
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::TooLarge => f.write_str("head larger than the buffer"),
            ParseError::Syntax(why) => f.write_str(why),
        }
    }
}

fn syntax(e: httparse::Error) -> ParseError {
    ParseError::Syntax(match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid version",
    })
}

fn version(v: Option<u8>) -> Result<Version, ParseError> {
    match v {
        Some(0) => Ok(Version::Http10),
        Some(1) => Ok(Version::Http11),
        _ => Err(ParseError::Syntax("invalid version")),
    }
}

fn collect(buf: &[u8], raw: &[httparse::Header<'_>]) -> Headers {
    raw.iter()
        .map(|h| HeaderSpan { name: Span::within(buf, h.name.as_bytes()), value: Span::within(buf, h.value) })
        .collect()
}

/// Parses the request head at the start of `buf`. `Ok(None)`: incomplete,
/// read more (the caller turns "incomplete and the buffer is full" into
/// [`ParseError::TooLarge`]).
pub fn parse_request(buf: &[u8]) -> Result<Option<RequestHead>, ParseError> {
    // Header slots left uninitialised: httparse fills what it uses (saves
    // writing 101 empty headers per request).
    let mut raw = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut raw).map_err(syntax)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let (Some(method), Some(path)) = (req.method, req.path) else {
        return Err(ParseError::Syntax("incomplete request line"));
    };
    let version = version(req.version)?;
    let headers = collect(buf, req.headers);
    let seen = Seen::of(buf, &headers);
    let method_span = Span::within(buf, method.as_bytes());
    let uri = Span::within(buf, path.as_bytes());
    check_uri(method, path)?;
    check_host(buf, &headers, &seen, version, method, path)?;
    let framing = request_framing(buf, &headers, &seen, version)?;
    let conn = conn_opts(buf, &headers, &seen, version);
    websocket_handshake(buf, &headers, &conn, "sec-websocket-key")?;
    let expect_continue =
        seen.expect > 0 && find(buf, &headers, "expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"));
    Ok(Some(RequestHead { method: method_span, uri, version, headers, len, framing, conn, expect_continue }))
}

/// Request targets: origin-form (`/...`), absolute-form (`scheme://...`),
/// `*` for OPTIONS, authority-form for CONNECT.
/// How many times each header the checks below look at appears, counted
/// in one pass over the names (most heads have none of them but Host, so
/// the checks then look no further).
#[derive(Default)]
struct Seen {
    host: u8,
    content_length: u8,
    transfer_encoding: u8,
    connection: u8,
    upgrade: u8,
    expect: u8,
    content_length_at: usize, // index of the first Content-Length, if any
}

impl Seen {
    fn of(buf: &[u8], headers: &[HeaderSpan]) -> Seen {
        let mut seen = Seen::default();
        for (i, h) in headers.iter().enumerate() {
            let name = h.name.of(buf);
            // The length picks the one candidate; the comparison confirms it.
            let (count, want): (&mut u8, &[u8]) = match name.len() {
                4 => (&mut seen.host, b"host"),
                6 => (&mut seen.expect, b"expect"),
                7 => (&mut seen.upgrade, b"upgrade"),
                10 => (&mut seen.connection, b"connection"),
                14 => (&mut seen.content_length, b"content-length"),
                17 => (&mut seen.transfer_encoding, b"transfer-encoding"),
                _ => continue,
            };
            if name_is(name, want) {
                *count = count.saturating_add(1);
                if name.len() == 14 && seen.content_length == 1 {
                    seen.content_length_at = i;
                }
            }
        }
        seen
    }
}

fn check_uri(method: &str, uri: &str) -> Result<(), ParseError> {
    let ok = if method == "CONNECT" {
        !uri.is_empty() && !uri.starts_with('/')
    } else {
        uri.starts_with('/')
            || (uri == "*" && method == "OPTIONS")
            || super::authority::has_authority(uri.as_bytes())
    };
    if ok { Ok(()) } else { Err(ParseError::Syntax("invalid request target")) }
}

fn check_host(
    buf: &[u8],
    headers: &[HeaderSpan],
    seen: &Seen,
    version: Version,
    method: &str,
    uri: &str,
) -> Result<(), ParseError> {
    if seen.host > 1 {
        return Err(ParseError::Syntax("several Host headers"));
    }
    if seen.host == 0 && version == Version::Http11 {
        return Err(ParseError::Syntax("missing Host header"));
    }
    if uri.starts_with('/') {
        return Ok(());
    }
    let host = if seen.host == 1 { find(buf, headers, "host").next() } else { None };
    super::authority::check(method.as_bytes(), uri.as_bytes(), host)
}

/// The single Content-Length value, refusing repeats, lists and non-digits.
fn content_length(buf: &[u8], headers: &[HeaderSpan], seen: &Seen) -> Result<Option<u64>, ParseError> {
    if seen.content_length > 1 {
        return Err(ParseError::Syntax("several Content-Length headers"));
    }
    let Some(v) =
        headers.get(seen.content_length_at).filter(|_| seen.content_length == 1).map(|h| h.value.of(buf))
    else {
        return Ok(None);
    };
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Syntax("invalid Content-Length"));
    }
    Ok(Some(v.iter().fold(0u64, |n, d| n * 10 + (d - b'0') as u64)))
}

/// Transfer-Encoding present: must be exactly one `chunked` coding.
fn transfer_encoding(buf: &[u8], headers: &[HeaderSpan], seen: &Seen) -> Result<bool, ParseError> {
    if seen.transfer_encoding == 0 {
        return Ok(false);
    }
    let mut codings = find(buf, headers, "transfer-encoding").flat_map(tokens).peekable();
    if codings.peek().is_none() {
        // No header, or only empty values: an empty one is invalid.
        return if find(buf, headers, "transfer-encoding").next().is_some() {
            Err(ParseError::Syntax("empty Transfer-Encoding"))
        } else {
            Ok(false)
        };
    }
    let first = codings.next().unwrap_or_default();
    if !first.eq_ignore_ascii_case(b"chunked") || codings.next().is_some() {
        return Err(ParseError::Syntax("unsupported Transfer-Encoding"));
    }
    Ok(true)
}

fn request_framing(
    buf: &[u8],
    headers: &[HeaderSpan],
    seen: &Seen,
    version: Version,
) -> Result<Framing, ParseError> {
    let chunked = transfer_encoding(buf, headers, seen)?;
    let length = content_length(buf, headers, seen)?;
    match (chunked, length) {
        (true, Some(_)) => Err(ParseError::Syntax("Content-Length with Transfer-Encoding")),
        (true, None) if version == Version::Http10 => {
            Err(ParseError::Syntax("Transfer-Encoding in HTTP/1.0"))
        }
        (true, None) => Ok(Framing::Chunked),
        (false, Some(0)) | (false, None) => Ok(Framing::None),
        (false, Some(n)) => Ok(Framing::Length(n)),
    }
}

fn conn_opts(buf: &[u8], headers: &[HeaderSpan], seen: &Seen, version: Version) -> ConnOpts {
    let mut opts = ConnOpts::default();
    let connection = (seen.connection > 0).then(|| find(buf, headers, "connection"));
    for t in connection.into_iter().flatten().flat_map(tokens) {
        if t.eq_ignore_ascii_case(b"close") {
            opts.close = true;
        } else if t.eq_ignore_ascii_case(b"keep-alive") {
            opts.keep_alive = true;
        } else if t.eq_ignore_ascii_case(b"upgrade") {
            opts.upgrade = seen.upgrade > 0;
        }
    }
    if version == Version::Http10 && !opts.keep_alive {
        opts.close = true;
    }
    opts
}

/// RFC 6455 §4.1 and §4.2.2 as HAProxy 2.6 enforces them: a WebSocket
/// upgrade request (`Connection: upgrade`, `Upgrade: websocket`) without
/// `Sec-WebSocket-Key`, or the 101 answering one without
/// `Sec-WebSocket-Accept` (`key_header`), is invalid: a 400 for the
/// client, a 502 for the server's. Only the presence is checked, as HAProxy
/// does between HTTP/1 peers.
fn websocket_handshake(
    buf: &[u8],
    headers: &[HeaderSpan],
    conn: &ConnOpts,
    key_header: &str,
) -> Result<(), ParseError> {
    if !conn.upgrade {
        return Ok(());
    }
    let websocket =
        find(buf, headers, "upgrade").flat_map(tokens).any(|t| t.eq_ignore_ascii_case(b"websocket"));
    if websocket && find(buf, headers, key_header).next().is_none() {
        return Err(ParseError::Syntax("WebSocket handshake without its key"));
    }
    Ok(())
}

/// Parses the response head at the start of `buf`, for a request whose
/// method was HEAD (`head_request`) or CONNECT (`connect_request`).
pub fn parse_response(
    buf: &[u8],
    head_request: bool,
    connect_request: bool,
) -> Result<Option<ResponseHead>, ParseError> {
    let mut raw = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    let parsed =
        httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut resp, buf, &mut raw);
    let len = match parsed.map_err(syntax)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let Some(status) = resp.code else {
        return Err(ParseError::Syntax("invalid status"));
    };
    let version = version(resp.version)?;
    let reason = Span::within(buf, resp.reason.unwrap_or_default().as_bytes());
    let headers = collect(buf, resp.headers);
    let seen = Seen::of(buf, &headers);
    let chunked = transfer_encoding(buf, &headers, &seen)?;
    let length = content_length(buf, &headers, &seen)?;
    let framing = if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::None
    } else if connect_request && (200..300).contains(&status) {
        Framing::UntilClose
    } else {
        match (chunked, length) {
            (true, Some(_)) => {
                return Err(ParseError::Syntax("Content-Length with Transfer-Encoding"));
            }
            (true, None) => Framing::Chunked,
            (false, Some(n)) => Framing::Length(n),
            (false, None) => Framing::UntilClose,
        }
    };
    let conn = conn_opts(buf, &headers, &seen, version);
    if status == 101 {
        websocket_handshake(buf, &headers, &conn, "sec-websocket-accept")?;
    }
    Ok(Some(ResponseHead { status, reason, version, headers, len, framing, conn }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(raw: &str) -> Result<Option<RequestHead>, ParseError> {
        parse_request(raw.as_bytes())
    }

    #[test]
    fn valid_requests_parse_into_ranges() {
        let raw = "POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc";
        let h = req(raw).expect("valid").expect("complete");
        assert_eq!(h.method.of(raw.as_bytes()), b"POST");
        assert_eq!(h.uri.of(raw.as_bytes()), b"/a?b=1");
        assert_eq!(h.version, Version::Http11);
        assert_eq!(h.framing, Framing::Length(3));
        assert_eq!(h.len, raw.len() - 3);
        assert_eq!(h.headers.len(), 3);
        assert!(h.conn.keep_alive && !h.conn.close);

        let h10 = req("GET / HTTP/1.0\r\n\r\n").expect("valid").expect("complete");
        assert!(h10.conn.close, "HTTP/1.0 closes by default");
        let chunked =
            req("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").expect("ok").expect("c");
        assert_eq!(chunked.framing, Framing::Chunked);
        let ws = req("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(ws.conn.upgrade);
        // HAProxy 2.6 (reg-test websocket): no key, a 400; a 101 without
        // its accept key, a 502; another protocol's upgrade needs neither
        assert!(
            req("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n").is_err()
        );
        assert!(req("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n").is_ok());
        let res = |raw: &str| parse_response(raw.as_bytes(), false, false).map(|_| ());
        assert!(res("HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").is_err());
        assert!(res("HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: a\r\n\r\n").is_ok());
        let cont = req("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(cont.expect_continue);
        assert!(req("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().is_some());
        assert!(req("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().is_some());
        assert!(req("CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n").unwrap().is_some());
    }

    #[test]
    fn incomplete_is_not_an_error() {
        assert_eq!(req("GET / HTTP/1.1\r\nHost: x\r\n").map(|h| h.is_none()), Ok(true));
        assert_eq!(req("").map(|h| h.is_none()), Ok(true));
    }

    /// Each must be refused (strata answers 400 and closes).
    #[test]
    fn malformed_and_smuggling_requests_are_refused() {
        let cases = [
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n",
            "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Bad : a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Cr: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            "GET http://x/ HTTP/1.1\r\nHost: y\r\n\r\n",
            "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
            "GET / FTP/1.1\r\nHost: x\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET foo HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
        ];
        for case in cases {
            assert!(matches!(req(case), Err(ParseError::Syntax(_))), "accepted: {case:?} -> {:?}", req(case));
        }
        let many: String = (0..MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let too_many = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        assert!(req(&too_many).is_err(), "too many headers");
    }

    #[test]
    fn response_framing_follows_rfc_9112() {
        let r = |raw: &str, head: bool| parse_response(raw.as_bytes(), head, false);
        let ok = r("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false).unwrap().unwrap();
        assert_eq!((ok.status, ok.framing), (200, Framing::Length(5)));
        assert_eq!(
            r("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true).unwrap().unwrap().framing,
            Framing::None
        );
        assert_eq!(
            r("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false).unwrap().unwrap().framing,
            Framing::None
        );
        assert_eq!(r("HTTP/1.1 204 No Content\r\n\r\n", false).unwrap().unwrap().framing, Framing::None);
        assert_eq!(r("HTTP/1.1 100 Continue\r\n\r\n", false).unwrap().unwrap().framing, Framing::None);
        assert_eq!(r("HTTP/1.0 200 OK\r\n\r\n", false).unwrap().unwrap().framing, Framing::UntilClose);
        assert_eq!(
            r("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false).unwrap().unwrap().framing,
            Framing::Chunked
        );
        assert!(
            r("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", false).is_err()
        );
        assert!(r("HTTP/1.1 2000 OK\r\n\r\n", false).is_err());
        assert!(r("garbage\r\n\r\n", false).is_err());
    }
}
