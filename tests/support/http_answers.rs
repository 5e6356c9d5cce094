//! HAProxy 2.6's built-in HTTP answers (403/429 of `http-request deny`,
//! 400/408/502/503/504 of failures), byte for byte, as the tests expect
//! them from strata too. Two families: answers of the HTTP analysers
//! (403/429 of `deny`, 502/503/504) are re-encoded by the H1 mux (lower-case names, no
//! `Connection`); answers of the H1 mux itself (400/408) are sent raw with
//! `Connection: close`.

pub const BAD_REQUEST_400: &[u8] =
    b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\n\
Connection: close\r\nContent-Type: text/html\r\n\r\n\
<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";

pub const REQUEST_TIMEOUT_408: &[u8] = b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\n\
Cache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n\
<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";

pub const BAD_GATEWAY_502: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\n\
content-type: text/html\r\n\r\n\
<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";

pub const SERVICE_UNAVAILABLE_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\n\
cache-control: no-cache\r\ncontent-type: text/html\r\n\r\n\
<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";

pub const GATEWAY_TIMEOUT_504: &[u8] = b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\n\
cache-control: no-cache\r\ncontent-type: text/html\r\n\r\n\
<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

/// `http-request deny` (an analyser answer: re-encoded, lower-case names).
pub const FORBIDDEN_403: &[u8] =
    b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\n\
content-type: text/html\r\n\r\n\
<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";

/// `http-request deny deny_status 429`.
pub const TOO_MANY_REQUESTS_429: &[u8] =
    b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\n\
content-type: text/html\r\n\r\n\
<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n";
