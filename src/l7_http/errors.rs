//! HAProxy's built-in answers, byte for byte as HAProxy 2.6 sends them.
//!
//! Two families, as observed: answers produced by the HTTP analysers
//! (deny, 5xx) are re-encoded by HAProxy's H1 mux with lower-case header
//! names and without `connection: close`; answers produced by the H1 mux
//! itself for a request it cannot parse (400) or that did not arrive in
//! time (408) are sent raw, with HAProxy's original header case and
//! `Connection: close`.

/// A status strata can answer by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinStatus {
    Ok,                 // 200: deny_status 200
    BadRequest,         // 400: unparsable request
    Unauthorized,       // 401
    NotFound,           // 404
    MethodNotAllowed,   // 405
    ProxyAuth,          // 407
    Gone,               // 410
    PayloadTooLarge,    // 413
    TooEarly,           // 425
    NotImplemented,     // 501
    Forbidden,          // 403: deny
    RequestTimeout,     // 408: request head not received in time
    TooManyRequests,    // 429: deny_status 429
    InternalError,      // 500
    BadGateway,         // 502: invalid or incomplete server response
    ServiceUnavailable, // 503: no server available
    GatewayTimeout,     // 504: server timeout
}

impl BuiltinStatus {
    /// The status for a `deny_status` code, if HAProxy has a built-in page for it.
    pub fn from_code(code: u16) -> Option<BuiltinStatus> {
        Some(match code {
            200 => BuiltinStatus::Ok,
            400 => BuiltinStatus::BadRequest,
            401 => BuiltinStatus::Unauthorized,
            404 => BuiltinStatus::NotFound,
            405 => BuiltinStatus::MethodNotAllowed,
            407 => BuiltinStatus::ProxyAuth,
            410 => BuiltinStatus::Gone,
            413 => BuiltinStatus::PayloadTooLarge,
            425 => BuiltinStatus::TooEarly,
            501 => BuiltinStatus::NotImplemented,
            403 => BuiltinStatus::Forbidden,
            408 => BuiltinStatus::RequestTimeout,
            429 => BuiltinStatus::TooManyRequests,
            500 => BuiltinStatus::InternalError,
            502 => BuiltinStatus::BadGateway,
            503 => BuiltinStatus::ServiceUnavailable,
            504 => BuiltinStatus::GatewayTimeout,
            _ => return None,
        })
    }

    pub fn code(self) -> u16 {
        match self {
            BuiltinStatus::Ok => 200,
            BuiltinStatus::Unauthorized => 401,
            BuiltinStatus::NotFound => 404,
            BuiltinStatus::MethodNotAllowed => 405,
            BuiltinStatus::ProxyAuth => 407,
            BuiltinStatus::Gone => 410,
            BuiltinStatus::PayloadTooLarge => 413,
            BuiltinStatus::TooEarly => 425,
            BuiltinStatus::NotImplemented => 501,
            BuiltinStatus::BadRequest => 400,
            BuiltinStatus::Forbidden => 403,
            BuiltinStatus::RequestTimeout => 408,
            BuiltinStatus::TooManyRequests => 429,
            BuiltinStatus::InternalError => 500,
            BuiltinStatus::BadGateway => 502,
            BuiltinStatus::ServiceUnavailable => 503,
            BuiltinStatus::GatewayTimeout => 504,
        }
    }

    /// Whether strata closes the client connection after this answer.
    pub fn closes(self) -> bool {
        matches!(self, BuiltinStatus::BadRequest | BuiltinStatus::RequestTimeout)
    }

    /// The exact bytes HAProxy 2.6 sends.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            BuiltinStatus::Ok => b"HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n",
            BuiltinStatus::Unauthorized => b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
            BuiltinStatus::NotFound => b"HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n",
            BuiltinStatus::MethodNotAllowed => b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 146\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n",
            BuiltinStatus::ProxyAuth => b"HTTP/1.1 407 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
            BuiltinStatus::Gone => b"HTTP/1.1 410 Gone\r\ncontent-length: 114\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n",
            BuiltinStatus::PayloadTooLarge => b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 106\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n",
            BuiltinStatus::TooEarly => b"HTTP/1.1 425 Too Early\r\ncontent-length: 80\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n",
            BuiltinStatus::NotImplemented => b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 136\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n",
            BuiltinStatus::BadRequest => b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n",
            BuiltinStatus::Forbidden => b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n",
            BuiltinStatus::RequestTimeout => b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n",
            BuiltinStatus::TooManyRequests => b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n",
            BuiltinStatus::InternalError => b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n",
            BuiltinStatus::BadGateway => b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n",
            BuiltinStatus::ServiceUnavailable => b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
            BuiltinStatus::GatewayTimeout => b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every page's Content-Length matches its body, as HAProxy's do.
    #[test]
    fn content_length_matches_body() {
        for code in [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504] {
            let s = BuiltinStatus::from_code(code).expect("known");
            assert_eq!(s.code(), code);
            let text = std::str::from_utf8(s.bytes()).expect("ascii");
            let (head, body) = text.split_once("\r\n\r\n").expect("head");
            let cl: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned))
                .expect("content-length")
                .parse()
                .expect("number");
            assert_eq!(cl, body.len(), "{code}");
            assert!(head.starts_with(&format!("HTTP/1.1 {code} ")));
        }
    }
}
