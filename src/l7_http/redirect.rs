//! Redirects, as HAProxy 2.6 builds them (`http_parse_redirect_rule`,
//! `http_apply_redirect_rule`): the proxy keyword `redirect` (its target
//! taken as written) and the `http-request redirect` action (its target a
//! log-format string), with `code`, `drop-query`, `append-slash`,
//! `set-cookie`, `clear-cookie` and `ignore-empty`. Parsed once at start;
//! the stream renders the target and asks for the answer's bytes.

use super::logformat::{LogFormat, LogSource};

/// Where a redirect points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectKind {
    Location, // the target as it is
    Prefix,   // the target, then the request's path (a target of `/` adds nothing)
    Scheme,   // the target, `://`, the Host header, then the path
}

/// The target text: as written (the `redirect` keyword) or rendered for
/// each request (`http-request redirect`).
#[derive(Clone, Debug)]
pub enum Target {
    Static(String),
    Format(LogFormat),
}

/// One compiled redirect. Owned by its rule; immutable.
#[derive(Clone, Debug)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: Target,
    pub code: u16,              // 301, 302 (default), 303, 307, 308
    pub drop_query: bool,       // `drop-query`: the path without its query string
    pub append_slash: bool,     // `append-slash`: a location not ending in `/` gets one
    pub ignore_empty: bool,     // `ignore-empty`: an empty rendered location is no redirect
    pub cookie: Option<String>, // the `Set-Cookie` value (`set-cookie` / `clear-cookie`)
}

/// Parses the words after `redirect` up to the condition. `fmt`: the
/// target is a log-format string. Returns the redirect and how many words
/// it used (the condition, if any, starts there).
pub fn parse(words: &[String], fmt: bool) -> Result<(Redirect, usize), String> {
    let mut kind = None;
    let (mut dest, mut code, mut cookie) = (None, 302, None);
    let (mut drop_query, mut append_slash, mut ignore_empty) = (false, false, false);
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let value =
            || words.get(i + 1).filter(|v| !v.is_empty()).ok_or(format!("missing argument for '{w}'"));
        match w.as_str() {
            "location" | "prefix" | "scheme" => {
                kind = Some(match w.as_str() {
                    "location" => RedirectKind::Location,
                    "prefix" => RedirectKind::Prefix,
                    _ => RedirectKind::Scheme,
                });
                dest = Some(value()?.clone());
                i += 1;
            }
            "set-cookie" => {
                cookie = Some(format!("{}; path=/;", value()?));
                i += 1;
            }
            "clear-cookie" => {
                cookie = Some(format!("{}; path=/; Max-Age=0;", value()?));
                i += 1;
            }
            "code" => {
                let v = value()?;
                code = v.parse::<u16>().ok().filter(|c| matches!(c, 301..=303 | 307 | 308)).ok_or(
                    format!("'code': unsupported HTTP code '{v}' (must be one of 301, 302, 303, 307 or 308)"),
                )?;
                i += 1;
            }
            "drop-query" => drop_query = true,
            "append-slash" => append_slash = true,
            "ignore-empty" => ignore_empty = true,
            "if" | "unless" => break,
            other => {
                return Err(format!(
                    "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', \
                     'drop-query', 'ignore-empty' or 'append-slash' (was '{other}')"
                ));
            }
        }
        i += 1;
    }
    let (Some(kind), Some(dest)) = (kind, dest) else {
        return Err("redirection type expected ('prefix', 'location', or 'scheme')".into());
    };
    // A prefix of `/` adds nothing (a self-redirection), in both forms.
    let target = if fmt && !(kind == RedirectKind::Prefix && dest == "/") {
        Target::Format(LogFormat::parse(&dest)?)
    } else {
        Target::Static(dest)
    };
    Ok((Redirect { kind, target, code, drop_query, append_slash, ignore_empty, cookie }, i))
}

impl Redirect {
    /// The answer for a request with target `uri` and `host` (its Host
    /// header); None when `ignore-empty` finds an empty location.
    pub fn response(&self, src: &dyn LogSource, uri: &[u8], host: Option<&[u8]>) -> Option<Vec<u8>> {
        let target = match &self.target {
            Target::Static(s) if self.kind == RedirectKind::Prefix && s == "/" => String::new(),
            Target::Static(s) => s.clone(),
            Target::Format(f) => f.render(src),
        };
        let mut location = Vec::with_capacity(target.len() + uri.len() + 8);
        location.extend_from_slice(target.as_bytes());
        if self.kind == RedirectKind::Location {
            if target.is_empty() && self.ignore_empty && matches!(self.target, Target::Format(_)) {
                return None;
            }
        } else {
            let mut path = path_of(uri);
            if self.drop_query {
                path = path.split(|&b| b == b'?').next().unwrap_or(path);
            }
            if self.kind == RedirectKind::Scheme {
                location.extend_from_slice(b"://");
                location.extend_from_slice(host.unwrap_or_default());
            }
            location.extend_from_slice(path);
            if self.append_slash && location.last().is_some_and(|&b| b != b'/') {
                location.push(b'/');
            }
        }
        Some(self.answer(&location))
    }

    /// HAProxy's 30x: no body, `Location`, `Cache-Control: no-cache` for
    /// the temporary codes, the rule's cookie.
    fn answer(&self, location: &[u8]) -> Vec<u8> {
        // HAProxy's own phrases for the codes a redirect takes.
        let reason = match self.code {
            301 => "Moved Permanently",
            303 => "See Other",
            307 => "Temporary Redirect",
            308 => "Permanent Redirect",
            _ => "Found",
        };
        let mut out =
            format!("HTTP/1.1 {} {reason}\r\ncontent-length: 0\r\nlocation: ", self.code).into_bytes();
        out.extend_from_slice(location);
        out.extend_from_slice(b"\r\n");
        if matches!(self.code, 302 | 303 | 307) {
            out.extend_from_slice(b"cache-control: no-cache\r\n");
        }
        if let Some(c) = &self.cookie {
            out.extend_from_slice(b"set-cookie: ");
            out.extend_from_slice(c.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// The request's path and query (`/` when the target has none, as for
/// `*` or an authority-only absolute URI).
fn path_of(uri: &[u8]) -> &[u8] {
    match uri.first() {
        Some(b'/') => uri,
        _ => match uri.windows(3).position(|w| w == b"://") {
            Some(s) => uri[s + 3..].iter().position(|&c| c == b'/').map_or(b"/", |p| &uri[s + 3 + p..]),
            None => b"/",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoSrc;
    impl crate::acl::SampleSource for NoSrc {
        fn src(&self) -> Option<std::net::SocketAddr> {
            None
        }
        fn dst(&self) -> Option<std::net::SocketAddr> {
            None
        }
        fn method(&self) -> Option<&[u8]> {
            None
        }
        fn uri(&self) -> Option<&[u8]> {
            None
        }
        fn for_each_req_header(&self, _: crate::acl::HeaderVisitor<'_>) {}
        fn res_status(&self) -> Option<u16> {
            None
        }
        fn for_each_res_header(&self, _: crate::acl::HeaderVisitor<'_>) {}
        fn frontend_name(&self) -> &str {
            "fe"
        }
        fn backend_name(&self) -> Option<&str> {
            None
        }
        fn nbsrv(&self, _: &str) -> Option<u32> {
            None
        }
    }
    impl LogSource for NoSrc {}

    fn rd(line: &str, fmt: bool, uri: &str, host: Option<&str>) -> Result<Option<String>, String> {
        let words: Vec<String> = line.split(' ').map(String::from).collect();
        let (r, used) = parse(&words, fmt)?;
        assert_eq!(used, words.len());
        Ok(r.response(&NoSrc, uri.as_bytes(), host.map(str::as_bytes)).map(|b| String::from_utf8(b).unwrap()))
    }

    #[test]
    fn locations_as_haproxy_builds_them() {
        let head = |code: &str, loc: &str, extra: &str| {
            format!("HTTP/1.1 {code}\r\ncontent-length: 0\r\nlocation: {loc}\r\n{extra}\r\n")
        };
        let nc = "cache-control: no-cache\r\n";
        assert_eq!(
            rd("prefix https://x.example", false, "/pre?a=1", None),
            Ok(Some(head("302 Found", "https://x.example/pre?a=1", nc)))
        );
        assert_eq!(
            rd("prefix https://x/ drop-query", false, "/p?a=1", None),
            Ok(Some(head("302 Found", "https://x//p", nc)))
        );
        assert_eq!(
            rd("prefix / append-slash code 301", false, "/dir", None),
            Ok(Some(head("301 Moved Permanently", "/dir/", "")))
        );
        assert_eq!(
            rd("location /new code 308", false, "/old", None),
            Ok(Some(head("308 Permanent Redirect", "/new", "")))
        );
        assert_eq!(
            rd("scheme https code 303", false, "http://h2/s?q", Some("h")),
            Ok(Some(head("303 See Other", "https://h/s?q", nc)))
        );
        assert_eq!(rd("scheme https", false, "*", None), Ok(Some(head("302 Found", "https:///", nc))));
        assert_eq!(
            rd("location /l set-cookie A=1 code 307", false, "/", None),
            Ok(Some(head("307 Temporary Redirect", "/l", &format!("{nc}set-cookie: A=1; path=/;\r\n"))))
        );
        assert_eq!(
            rd("location /l clear-cookie A=", false, "/", None),
            Ok(Some(head("302 Found", "/l", &format!("{nc}set-cookie: A=; path=/; Max-Age=0;\r\n"))))
        );
        assert_eq!(rd("location %[str()] ignore-empty", true, "/", None), Ok(None));
        assert_eq!(rd("location /a%[str(b)]", true, "/", None), Ok(Some(head("302 Found", "/ab", nc))));
    }

    #[test]
    fn refusals_in_haproxys_words() {
        assert!(
            rd("location /x code 305", false, "/", None).unwrap_err().contains("unsupported HTTP code '305'")
        );
        assert!(rd("code 301", false, "/", None).unwrap_err().contains("redirection type expected"));
        assert!(rd("location", false, "/", None).unwrap_err().contains("missing argument for 'location'"));
        assert!(rd("location /x bogus", false, "/", None).unwrap_err().contains("(was 'bogus')"));
    }
}
