//! The HTTP transaction of one stream: its request and response heads
//! (each a copy of the head bytes in a pooled buffer, with spans into it),
//! body framing states and what the rules decided.

use super::body::BodyState;
use super::head::{RequestHead, ResponseHead, Version};
use super::rewrite::HeaderEdit;
use crate::core::buffer::Buffer;

/// Method classes the proxy treats specially.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodKind {
    Head,
    Connect,
    Idempotent, // GET, PUT, DELETE, OPTIONS, TRACE: may be retried on a reused connection
    Other,
}

/// One request/response exchange. Owned by its stream; dropped with it.
pub struct Txn {
    pub req_buf: Buffer, // the request head bytes (spans of `req` point here)
    pub req: RequestHead,
    pub req_body: BodyState, // request body framing progress
    pub method: MethodKind,
    pub res_buf: Option<Buffer>, // the final response head bytes, from its arrival until sent as received
    pub res: Option<ResponseHead>,
    pub res_body: BodyState, // response body framing progress (Done until a head arrives)
    pub status: Option<u16>, // status sent to the client (server's or built-in)
    pub client_close: bool,  // the client connection closes after this exchange
    pub server_close: bool,  // the server connection must not be reused
    pub upgraded: bool,      // 101 Switching Protocols: now a tunnel
    pub req_edits: Vec<HeaderEdit>, // request header edits decided by rules
    pub res_edits: Vec<HeaderEdit>, // response header edits decided by rules
    pub uri_override: Option<Vec<u8>>, // URI rewrites' result (`set-path`...): the URI to send
    pub vars: crate::acl::Vars, // `txn.`, `req.` and `res.` variables
    pub method_override: Option<Vec<u8>>, // `set-method` result: the method to send
    pub status_override: Option<(u16, Option<String>)>, // response `set-status` (code, reason)
    pub first_req: bool,     // the first request of its client connection (`http_first_req`)
    pub after_rules_done: bool, // `http-after-response` rules ran on strata's own answer
    pub from_cache: Option<std::sync::Arc<str>>, // the cache that answered (`res.cache_hit`, `res.cache_name`)
    pub unique_id: std::cell::OnceCell<Box<[u8]>>, // `unique-id`, generated on first use
    pub unique_id_busy: std::cell::Cell<bool>,   // being generated (a format naming itself gets nothing)
    pub captured: super::captured::Captured, // the frontend's captures (`%hr`, `%hs`, `%CC`, `capture.req.hdr`)
}

impl Txn {
    /// A transaction for a parsed request whose head bytes are in `req_buf`.
    #[inline]
    pub fn new(req_buf: Buffer, req: RequestHead) -> Txn {
        let method = match req.method.of(req_buf.data()) {
            b"HEAD" => MethodKind::Head,
            b"CONNECT" => MethodKind::Connect,
            b"GET" | b"PUT" | b"DELETE" | b"OPTIONS" | b"TRACE" => MethodKind::Idempotent,
            _ => MethodKind::Other,
        };
        let req_body = BodyState::new(req.framing);
        let client_close = req.conn.close;
        Txn {
            req_buf,
            req,
            req_body,
            method,
            res_buf: None,
            res: None,
            res_body: BodyState::Done,
            status: None,
            client_close,
            server_close: false,
            upgraded: false,
            req_edits: Vec::new(),
            res_edits: Vec::new(),
            uri_override: None,
            vars: crate::acl::Vars::new(),
            method_override: None,
            status_override: None,
            first_req: false,
            after_rules_done: false,
            from_cache: None,
            unique_id: std::cell::OnceCell::new(),
            unique_id_busy: std::cell::Cell::new(false),
            captured: Default::default(),
        }
    }

    /// The request head bytes.
    pub fn req_bytes(&self) -> &[u8] {
        self.req_buf.data()
    }

    pub fn method_bytes(&self) -> &[u8] {
        self.method_override.as_deref().unwrap_or_else(|| self.req.method.of(self.req_buf.data()))
    }

    /// `set-method`: the method to send (and that rules see) from now on.
    pub fn set_method(&mut self, m: Vec<u8>) {
        self.method = match m.as_slice() {
            b"HEAD" => MethodKind::Head,
            b"CONNECT" => MethodKind::Connect,
            b"GET" | b"PUT" | b"DELETE" | b"OPTIONS" | b"TRACE" => MethodKind::Idempotent,
            _ => MethodKind::Other,
        };
        self.method_override = Some(m);
    }

    pub fn uri_bytes(&self) -> &[u8] {
        self.req.uri.of(self.req_buf.data())
    }

    pub fn req_version(&self) -> Version {
        self.req.version
    }

    /// The URI to send to the server. A request that came over HTTP/2
    /// carries an absolute URI (what `url` and logs show, as in HAProxy);
    /// it is sent in origin form.
    pub fn outgoing_uri(&self) -> &[u8] {
        if let Some(u) = self.uri_override.as_deref() {
            return u;
        }
        let uri = self.uri_bytes();
        if self.req.version != Version::Http2 {
            return uri;
        }
        match uri.windows(3).position(|w| w == b"://") {
            Some(at) => {
                let rest = &uri[at + 3..];
                rest.iter().position(|&b| b == b'/').map_or(&b"/"[..], |slash| &rest[slash..])
            }
            None => uri,
        }
    }

    /// The response head bytes, once received.
    pub fn res_bytes(&self) -> &[u8] {
        self.res_buf.as_ref().map_or(&[][..], Buffer::data)
    }

    /// Whether a retry on another connection is safe for this request.
    pub fn retryable(&self) -> bool {
        matches!(self.method, MethodKind::Idempotent | MethodKind::Head)
            && self.req.framing == super::head::Framing::None
    }
}
