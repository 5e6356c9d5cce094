//! `http-request use-service strata.static root DIR [index FILE]`: files
//! under DIR, served by strata itself (eXpServer's file module does the
//! same): `Content-Type` from the extension, `Content-Length`,
//! `Last-Modified` and `If-Modified-Since` → 304, one `Range` → 206 (416
//! when unsatisfiable), GET and HEAD only (405 otherwise).
//!
//! Nothing outside DIR is ever opened: a `..` segment or a NUL (also when
//! percent-encoded) is refused with 403 before touching the file system,
//! and the opened path is canonicalised and must still be inside the
//! (canonical) root, so a symlink pointing out of it gives 403 too.
//! Bodies go out with `sendfile(2)` from the open file, never read into
//! memory.

use super::http_date;
use super::reply::{head, reply, url_decode};
use crate::l6_stream::service::{FileBody, ServiceReply};
use crate::l7_http::head::find;
use crate::l7_http::service_rules::StaticRoot;
use crate::l7_http::txn::{MethodKind, Txn};
use std::path::{Path, PathBuf};

/// The `Content-Type` for a file name's extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "txt" | "log" | "cfg" | "conf" => "text/plain",
        "csv" => "text/csv",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "gz" => "application/gzip",
        "zip" => "application/zip",
        "tar" => "application/x-tar",
        _ => "application/octet-stream",
    }
}

/// The path below the root a request names, or the status refusing it.
fn relative_path(txn: &Txn) -> Result<PathBuf, u16> {
    let uri = txn.uri_bytes();
    let path = uri.split(|&b| b == b'?').next().unwrap_or_default();
    if !path.starts_with(b"/") {
        return Err(400);
    }
    let decoded = url_decode(path);
    if decoded.contains(&0) {
        return Err(403);
    }
    let text = std::str::from_utf8(&decoded).map_err(|_| 404u16)?;
    let mut rel = PathBuf::new();
    for seg in text.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => return Err(403),
            s => rel.push(s),
        }
    }
    Ok(rel)
}

fn error(status: u16, head_only: bool) -> ServiceReply {
    let text = match status {
        400 => "400 Bad Request",
        403 => "403 Forbidden",
        405 => "405 Method Not Allowed",
        _ => "404 Not Found",
    };
    let body = format!("<html><body><h1>{text}</h1>\n</body></html>\n");
    let allow = ["allow: GET, HEAD".to_owned()];
    let extra: &[String] = if status == 405 { &allow } else { &[] };
    reply(status, "text/html", extra, body.as_bytes(), head_only)
}

/// One `bytes=` range of a file of `len` bytes: `Ok(None)` serve it all,
/// `Err(())` unsatisfiable.
fn range(spec: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(set) = spec.trim().strip_prefix("bytes=") else { return Ok(None) };
    if set.contains(',') {
        return Ok(None); // several ranges: the whole file (RFC 9110 allows ignoring Range)
    }
    let (a, b) = set.trim().split_once('-').ok_or(())?;
    let parse = |v: &str| v.trim().parse::<u64>().map_err(|_| ());
    let (first, last) = match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, true) => return Err(()),
        (true, false) => {
            let n = parse(b)?;
            if n == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (false, true) => (parse(a)?, len.saturating_sub(1)),
        (false, false) => (parse(a)?, parse(b)?.min(len.saturating_sub(1))),
    };
    if len == 0 || first >= len || first > last {
        return Err(());
    }
    Ok(Some((first, last)))
}

/// Answers a request for a file under `root`.
pub fn serve(root: &StaticRoot, txn: &Txn) -> ServiceReply {
    let head_only = txn.method == MethodKind::Head;
    if !matches!(txn.method_bytes(), b"GET" | b"HEAD") {
        return error(405, head_only);
    }
    let rel = match relative_path(txn) {
        Ok(r) => r,
        Err(status) => return error(status, head_only),
    };
    let mut path = root.root.join(&rel);
    if path.is_dir() {
        path.push(&root.index);
    }
    // Symlinks are resolved, and the result must still be inside the root.
    let real = match std::fs::canonicalize(&path) {
        Ok(p) => p,
        Err(_) => return error(404, head_only),
    };
    if !real.starts_with(&root.root) {
        return error(403, head_only);
    }
    let Ok(file) = std::fs::File::open(&real) else { return error(403, head_only) };
    let Ok(meta) = file.metadata() else { return error(404, head_only) };
    if !meta.is_file() {
        return error(404, head_only);
    }
    let len = meta.len();
    let mtime = meta.modified().map(http_date::unix_secs).unwrap_or(0);
    let last_modified = http_date::format(mtime);
    let buf = txn.req_bytes();
    let header = |name: &str| {
        find(buf, &txn.req.headers, name).next().map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let mut extra = vec![format!("last-modified: {last_modified}"), "accept-ranges: bytes".to_owned()];
    if let Some(since) = header("if-modified-since").and_then(|v| http_date::parse(&v))
        && mtime <= since
    {
        let bytes =
            format!("HTTP/1.1 304 Not Modified\r\nlast-modified: {last_modified}\r\n\r\n").into_bytes();
        return ServiceReply { status: 304, bytes, file: None };
    }
    let if_range_ok = header("if-range").is_none_or(|v| v.trim() == last_modified);
    let ctype = content_type(&real);
    let (status, offset, count) = match header("range").filter(|_| if_range_ok).map(|r| range(&r, len)) {
        Some(Err(())) => {
            let extra = [format!("content-range: bytes */{len}")];
            return reply(
                416,
                "text/html",
                &extra,
                b"<html><body><h1>416 Range Not Satisfiable</h1>\n</body></html>\n",
                head_only,
            );
        }
        Some(Ok(Some((first, last)))) => {
            extra.push(format!("content-range: bytes {first}-{last}/{len}"));
            (206, first, last - first + 1)
        }
        _ => (200, 0, len),
    };
    let bytes = head(status, ctype, &extra, count);
    let file = (!head_only && count > 0).then_some(FileBody { file, offset, len: count });
    ServiceReply { status, bytes, file }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=95-200", 100), Ok(Some((95, 99))));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=5-1", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
    }

    #[test]
    fn types() {
        assert_eq!(content_type(Path::new("a/b.HTML")), "text/html");
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
    }
}
