//! Micro-benchmark of the HTTP/1 request and response head parsers on
//! realistic messages. `cargo bench --bench http_parse`

#[path = "harness.rs"]
mod harness;

use strata::l7_http::parse::{parse_request, parse_response};

const BROWSER: &[u8] = b"GET /static/app/main.3f9a1c.js?v=12 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://www.example.com/\r\n\
Connection: keep-alive\r\n\
Cookie: session=6b1f0c2e9a7d4e3b8c5a1f0e; theme=dark; lang=en\r\n\
Sec-Fetch-Dest: script\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Site: same-origin\r\n\r\n";

const API: &[u8] = b"POST /api/v1/orders HTTP/1.1\r\nHost: api.example.com\r\n\
Content-Type: application/json\r\nContent-Length: 128\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x\r\n\
X-Request-Id: 9d2c1f7a-6b1e-4a3c-8f2d-7e5b4a3c2d1e\r\n\r\n";

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 29 Nov 2026 19:00:00 GMT\r\n\
Content-Type: text/html; charset=utf-8\r\nContent-Length: 612\r\nConnection: keep-alive\r\n\
Cache-Control: max-age=3600\r\nETag: \"5f1a-612\"\r\n\r\n";

fn main() {
    harness::bench("parse_request: browser GET (12 headers)", 2_000_000, |_| {
        parse_request(BROWSER).ok().flatten().map(|h| h.len)
    });
    harness::bench("parse_request: API POST (5 headers)", 2_000_000, |_| {
        parse_request(API).ok().flatten().map(|h| h.len)
    });
    harness::bench("parse_response: 200 (8 headers)", 2_000_000, |_| {
        parse_response(RESPONSE, false, false).ok().flatten().map(|h| h.len)
    });
}
