//! Byte-level helpers the HTTP fetches share: the path of a request URI,
//! its query string, `url_param` lookup and comma-separated header values.
//! Pure functions over borrowed bytes; nothing here allocates.

use std::ops::ControlFlow;

/// The path part of a request URI, query included (HAProxy's
/// `http_get_path`): the URI itself in origin-form (`/x`) or `*`, the part
/// from the first `/` after the authority in absolute-form. `None` when
/// there is none (authority-form, `http://host`).
pub(crate) fn uri_path(uri: &[u8]) -> Option<&[u8]> {
    match uri.first()? {
        b'/' | b'*' => Some(uri),
        _ => {
            let scheme_end = uri.windows(3).position(|w| w == b"://")?;
            let scheme = &uri[..scheme_end];
            if scheme.is_empty() || !scheme.iter().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)) {
                return None;
            }
            let rest = &uri[scheme_end + 3..];
            let slash = rest.iter().position(|&c| c == b'/')?;
            Some(&rest[slash..])
        }
    }
}

/// `path`: the URI path without the query string.
pub(crate) fn path(uri: &[u8]) -> Option<&[u8]> {
    uri_path(uri).map(before_query)
}

/// The bytes before the first `?`.
pub(crate) fn before_query(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == b'?') {
        Some(q) => &s[..q],
        None => s,
    }
}

/// `query`: what follows the first `?` of the URI; `None` without `?`.
pub(crate) fn query(uri: &[u8]) -> Option<&[u8]> {
    uri.iter().position(|&c| c == b'?').map(|q| &uri[q + 1..])
}

/// `url_param(name[,delim])`: calls `f` with the value of every parameter
/// called `name` (every parameter when `name` is empty) in the part of the
/// URI after the first `delim`. Parameters are separated by `&`, `;` or
/// `delim`; a parameter without `=` has an empty value.
pub(crate) fn url_params(
    uri: &[u8],
    name: &[u8],
    delim: u8,
    f: &mut dyn FnMut(&[u8]) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some(start) = uri.iter().position(|&c| c == delim) else {
        return ControlFlow::Continue(());
    };
    let params = &uri[start + 1..];
    for param in params.split(|&c| c == b'&' || c == b';' || c == delim) {
        let (key, value) = match param.iter().position(|&c| c == b'=') {
            Some(eq) => (&param[..eq], &param[eq + 1..]),
            None => (param, &param[param.len()..]),
        };
        if param.is_empty() || (!name.is_empty() && key != name) {
            continue;
        }
        f(value)?;
    }
    ControlFlow::Continue(())
}

/// Calls `f` with each comma-separated value of one header line, blanks
/// around each value removed; commas inside double quotes do not split
/// (HAProxy's `http_find_hdr_value_end`).
pub(crate) fn header_values(value: &[u8], f: &mut dyn FnMut(&[u8]) -> ControlFlow<()>) -> ControlFlow<()> {
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, &c) in value.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && c == b'\\' {
            escaped = true;
        } else if c == b'"' {
            quoted = !quoted;
        } else if c == b',' && !quoted {
            f(trim(&value[start..i]))?;
            start = i + 1;
        }
    }
    f(trim(&value[start..]))
}

/// Removes leading and trailing spaces and tabs.
pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = s.iter().position(|c| !blank(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !blank(c)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// HAProxy's `read_int64` used by the string → integer cast: optional `-`,
/// then leading digits; stops at the first other byte; saturates.
pub(crate) fn read_int(s: &[u8]) -> i64 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg { v.saturating_neg() } else { v }
}
