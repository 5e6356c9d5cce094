//! Reading an HTTP check's response: the status line, then the body as
//! far as it arrived (Content-Length, chunked or up to the close), and
//! whether the message is complete.

/// A response, or its beginning.
#[derive(Debug, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub body: Vec<u8>,  // decoded (de-chunked) body bytes received so far
    pub complete: bool, // the whole message is here
}

/// Parses `data`. `Ok(None)`: the head is not complete yet; `Err`: not
/// HTTP. `eof`: the server closed (ends a close-delimited body).
pub fn parse(data: &[u8], head_only: bool, eof: bool) -> Result<Option<HttpResponse>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut res = httparse::Response::new(&mut headers);
    let head_len = match res.parse(data) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let status = res.code.ok_or(())?;
    let reason = res.reason.unwrap_or("").to_string();
    let mut clen = None;
    let mut chunked = false;
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            clen = std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse::<usize>().ok());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = String::from_utf8_lossy(h.value).to_ascii_lowercase().contains("chunked");
        }
    }
    let rest = &data[head_len..];
    let bodyless = head_only || (100..200).contains(&status) || status == 204 || status == 304;
    let (body, complete) = if bodyless {
        (Vec::new(), true)
    } else if chunked {
        dechunk(rest)
    } else if let Some(n) = clen {
        (rest[..rest.len().min(n)].to_vec(), rest.len() >= n)
    } else {
        (rest.to_vec(), eof)
    };
    Ok(Some(HttpResponse { status, reason, body, complete }))
}

/// The chunks received so far, and whether the last chunk came.
fn dechunk(mut data: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else { return (body, false) };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16) else {
            return (body, true);
        };
        data = &data[eol + 2..];
        if size == 0 {
            return (body, true);
        }
        let take = size.min(data.len());
        body.extend_from_slice(&data[..take]);
        if data.len() < size + 2 {
            return (body, false);
        }
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", false, false)
            .expect("http")
            .expect("head");
        assert_eq!(
            (r.status, r.reason.as_str(), r.body.as_slice(), r.complete),
            (200, "OK", &b"ab"[..], false)
        );
        let r =
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", false, false)
                .expect("http")
                .expect("head");
        assert_eq!((r.body.as_slice(), r.complete), (&b"ab"[..], true));
        assert!(parse(b"HTTP/1.1 200", false, false).expect("http").is_none());
        assert!(parse(b"garbage\r\n\r\n", false, false).is_err());
        let r = parse(b"HTTP/1.0 200 OK\r\n\r\nxy", false, true).expect("http").expect("head");
        assert!(r.complete && r.body == b"xy");
    }
}
