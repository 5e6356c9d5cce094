//! Custom error pages: `errorfile CODE FILE`, `errorfiles NAME [CODE...]`
//! (an `http-errors NAME` section's pages), `http-error status CODE ...`.
//!
//! A page is read and checked when the configuration is loaded, then kept
//! as the bytes strata sends, re-encoded as HAProxy 2.6 sends it: its own
//! status line, header names in lower case, hop-by-hop headers
//! (`Connection`, `Keep-Alive`...) removed, the body as written. A page
//! without a length (or an HTTP/1.0 one) is delimited by the close.
//!
//! Directives are kept in order (`defaults` first) and resolved once the
//! whole configuration is read, since a section may be named before it
//! appears: for each status, the last directive naming it wins.

use super::model::Loc;
use std::sync::Arc;

/// The statuses HAProxy lets `errorfile` and `http-error` replace.
pub const CODES: [u16; 17] =
    [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504];

/// One ready-to-send response, or one built per answer from its format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorPage {
    pub code: u16,                       // the status it replaces
    pub bytes: Arc<[u8]>, // what is sent, as is (a page with a format: its literal parts, no `hdr`)
    pub closes: bool,     // the client connection closes after it (no length, HTTP/1.0, empty)
    pub format: Option<Arc<PageFormat>>, // `http-error ... hdr|lf-string|lf-file`: rendered per answer
}

/// The parts of an `http-error` page that are log-format strings, kept as
/// written: `l7_http::custom_errors` compiles them (the configuration is
/// checked by `l6_stream::rules`) and renders them for each answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageFormat {
    pub hdrs: Vec<(String, String)>, // `hdr NAME FMT`, names in lower case, in order
    pub content_type: Option<String>, // sent when the body is not empty
    pub body: PageBody,
    pub loc: Loc, // the `http-error` line
}

/// The body of a page with a format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageBody {
    Bytes(Vec<u8>), // `string`, `file`, or none
    Format(String), // `lf-string`, `lf-file`: a log-format
}

/// One line of a proxy about its error pages, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorDirective {
    Page(ErrorPage), // `errorfile`, `http-error ... errorfile|string`
    Section { name: String, codes: Vec<u16>, loc: Loc }, // `errorfiles NAME [CODE...]`
    Builtin(u16),    // `http-error status N default-errorfiles`
}

/// An `http-errors NAME` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpErrors {
    pub name: String,
    pub loc: Loc,
    pub pages: Vec<ErrorPage>,
}

/// Re-encodes the response text `raw` (an errorfile's contents) for
/// status `code`. `Err` says why it is not a response.
pub fn page_from_response(code: u16, raw: &[u8]) -> Result<ErrorPage, String> {
    if raw.is_empty() {
        return Ok(ErrorPage { code, bytes: Arc::from(&b""[..]), closes: true, format: None });
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut res = httparse::Response::new(&mut headers);
    let head_len = match res.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err("incomplete HTTP response (no empty line after the headers)".into());
        }
        Err(e) => return Err(format!("invalid HTTP response ({e})")),
    };
    let version = if res.version == Some(0) { "HTTP/1.0" } else { "HTTP/1.1" };
    let status = res.code.unwrap_or(code);
    let reason = res.reason.unwrap_or("");
    let body = &raw[head_len..];
    let mut out = format!("{version} {status} {reason}\r\n").into_bytes();
    let mut length = false;
    for h in res.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "connection" | "keep-alive" | "proxy-connection" | "upgrade" | "transfer-encoding"
        ) {
            continue;
        }
        if name == "content-length" {
            length = true;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value);
        out.extend_from_slice(b"\r\n");
    }
    let http10 = version == "HTTP/1.0";
    if !length && !http10 {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        length = true;
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok(ErrorPage { code, bytes: Arc::from(out), closes: http10 || !length, format: None })
}

/// A page made of a content type and a body (`http-error ... string`),
/// or no body at all.
pub fn page_from_body(code: u16, content_type: Option<&str>, body: &[u8]) -> ErrorPage {
    let reason = reason(code);
    let mut out = format!("HTTP/1.1 {code} {reason}\r\ncontent-length: {}\r\n", body.len()).into_bytes();
    if let Some(ct) = content_type.filter(|_| !body.is_empty()) {
        out.extend_from_slice(format!("content-type: {ct}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    ErrorPage { code, bytes: Arc::from(out), closes: false, format: None }
}

/// The reason phrase HAProxy uses for a status it answers itself.
pub fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Unauthorized",
        408 => "Request Time-out",
        410 => "Gone",
        413 => "Payload Too Large",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        _ => "",
    }
}

/// The pages a proxy ends up with: each directive in order, a later one
/// replacing an earlier one for the same status. `sections` are the
/// `http-errors` sections; an unknown name is an error naming the line.
pub fn resolve(
    directives: &[ErrorDirective],
    sections: &[HttpErrors],
) -> Result<Vec<ErrorPage>, (Loc, String)> {
    let mut pages: Vec<ErrorPage> = Vec::new();
    let mut set = |p: Option<ErrorPage>, code: u16| {
        pages.retain(|q| q.code != code);
        if let Some(p) = p {
            pages.push(p);
        }
    };
    for d in directives {
        match d {
            ErrorDirective::Page(p) => set(Some(p.clone()), p.code),
            ErrorDirective::Builtin(code) => set(None, *code),
            ErrorDirective::Section { name, codes, loc } => {
                let Some(s) = sections.iter().find(|s| &s.name == name) else {
                    return Err((
                        loc.clone(),
                        format!("unable to find http-errors section '{name}' referenced by 'errorfiles'."),
                    ));
                };
                for p in s.pages.iter().filter(|p| codes.is_empty() || codes.contains(&p.code)) {
                    set(Some(p.clone()), p.code);
                }
            }
        }
    }
    Ok(pages)
}

/// HAProxy 2.6's warnings for a `content-type` (`ctype`) and `hdr` lines
/// (`hdrs`) given with an error file, which is sent as it is (HAProxy's
/// text misspells "errorfile"; strata spells it).
pub fn ignored_beside_errorfile(ctype: Option<&str>, hdrs: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = ctype {
        out.push(format!("content-type '{t}' ignored by the http reply when used with an errorfile."));
    }
    if hdrs {
        out.push("hdr parameters ignored by the http reply when used with an errorfile.".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_reencoded_as_haproxy_sends_them() {
        let p = page_from_response(
            403,
            b"HTTP/1.0 403 Forbidden\r\nCache-Control: no-cache\r\nConnection: close\r\nX-Err: mine\r\n\r\n<html>nope</html>\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            &*p.bytes,
            &b"HTTP/1.0 403 Forbidden\r\ncache-control: no-cache\r\nx-err: mine\r\n\r\n<html>nope</html>\n"[..]
        );
        assert!(p.closes);
        let p = page_from_response(503, b"HTTP/1.1 503 Busy\r\nContent-Length: 3\r\n\r\nabc")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&*p.bytes, &b"HTTP/1.1 503 Busy\r\ncontent-length: 3\r\n\r\nabc"[..]);
        assert!(!p.closes);
        assert!(page_from_response(503, b"").is_ok_and(|p| p.closes && p.bytes.is_empty()));
        assert!(page_from_response(503, b"garbage\n").is_err());
        let p = page_from_body(400, None, b"");
        assert_eq!(&*p.bytes, &b"HTTP/1.1 400 Bad request\r\ncontent-length: 0\r\n\r\n"[..]);
    }

    #[test]
    fn the_last_directive_wins_per_status() {
        let page = |code: u16, tag: &str| ErrorPage {
            code,
            bytes: Arc::from(tag.as_bytes()),
            closes: false,
            format: None,
        };
        let sections = vec![HttpErrors {
            name: "e1".into(),
            loc: Loc::default(),
            pages: vec![page(400, "e1"), page(500, "e1")],
        }];
        let d = vec![
            ErrorDirective::Page(page(500, "file")),
            ErrorDirective::Section { name: "e1".into(), codes: vec![500], loc: Loc::default() },
            ErrorDirective::Page(page(404, "file")),
            ErrorDirective::Builtin(404),
        ];
        let pages = resolve(&d, &sections).unwrap_or_default();
        assert_eq!(pages, vec![page(500, "e1")]);
        let bad = vec![ErrorDirective::Section { name: "nope".into(), codes: vec![], loc: Loc::default() }];
        assert!(resolve(&bad, &sections).is_err());
    }
}
