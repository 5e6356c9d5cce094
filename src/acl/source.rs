//! What a condition reads: the [`SampleSource`] trait the stream layer
//! implements, and the values ([`Sample`]) fetches produce from it.

use std::net::{IpAddr, SocketAddr};
use std::ops::ControlFlow;

use super::vars::{Scope, Vars};

/// One fetched value. Owned by nobody: strings borrow from the
/// [`SampleSource`] (or from a short-lived scratch buffer), integers and
/// addresses are copied, so producing a sample never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample<'a> {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str(&'a [u8]),
    Bin(&'a [u8]), // binary (`b64dec`, `sha1`...): printed as text up to its first NUL
}

/// The callback of a header walk: called with `(name, value)` for each
/// header line; returning `Break` stops the walk.
pub type HeaderVisitor<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> ControlFlow<()>;

/// A fetch argument as written in the configuration (`hdr(host,2)` gives
/// `[Str("host"), Int(2)]`). Parsed once by the ACL parser, owned by the
/// compiled expression, passed read-only to [`SampleSource::custom`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgValue {
    Int(i64),
    Str(String),
}

/// Proxy and server state a fetch may ask for (`be_conn`, `srv_is_up`...):
/// a backend (or frontend) by name, None meaning the stream's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyQuery<'a> {
    BeConn(Option<&'a str>),
    FeConn(Option<&'a str>),
    Queue(Option<&'a str>),
    AvgQueue(Option<&'a str>),
    ConnSlots(Option<&'a str>),
    SrvIsUp(&'a str, &'a str), // backend, server
    SrvConn(&'a str, &'a str),
    BeId,
    FeId,
    SrvId,
    Timeout { current: bool, tunnel: bool }, // `be_server_timeout`... in ms: the backend's, or the stream's (`cur_*`)
}

/// What a sample fetch can read at the point a rule runs. Implemented by the
/// stream layer (one implementation per rule set), read-only for the ACL
/// engine, which never stores anything borrowed from it past one
/// [`Condition::eval`](super::Condition::eval).
///
/// A method returning `None` means "not available here" (e.g. the response
/// status during request rules): a fetch on it gives no sample, so an ACL
/// using it does not match. Header walks hand out `(name, value)` pairs as
/// received (value without surrounding blanks) and stop when the callback
/// returns `ControlFlow::Break`.
/// The request line as received, before any rule rewrote it, with the
/// response's version once one arrived (`capture.req.*`,
/// `capture.res.ver`, `req.len`). Versions are `b"1.1"`-style.
#[derive(Clone, Copy, Debug)]
pub struct ReceivedRequest<'a> {
    pub method: &'a [u8],
    pub uri: &'a [u8],
    pub version: &'a [u8],
    pub res_version: Option<&'a [u8]>,
}

pub trait SampleSource {
    /// Client address (`src`, `src_port`).
    fn src(&self) -> Option<SocketAddr>;
    /// Address the client connected to (`dst`, `dst_port`).
    fn dst(&self) -> Option<SocketAddr>;
    /// Request method as received (none where no request exists: the
    /// defaults of the HTTP methods below describe a source without one).
    fn method(&self) -> Option<&[u8]> {
        None
    }
    /// Request URI as received (origin-form or absolute-form).
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    /// The request line as received (none outside HTTP).
    fn received_request(&self) -> Option<ReceivedRequest<'_>> {
        None
    }
    /// Request HTTP version as `b"1.1"` (`req.ver`, `HTTP_1.0`, `HTTP_1.1`).
    fn req_version(&self) -> Option<&[u8]> {
        None
    }
    /// Calls `f` for each request header line, in order.
    fn for_each_req_header(&self, f: HeaderVisitor<'_>) {
        let _ = f;
    }
    /// Response status, when a response is being processed.
    fn res_status(&self) -> Option<u16> {
        None
    }
    /// Calls `f` for each response header line, in order (nothing before a response exists).
    fn for_each_res_header(&self, f: HeaderVisitor<'_>) {
        let _ = f;
    }
    /// Name of the frontend the stream came in through.
    fn frontend_name(&self) -> &str;
    /// Name of the backend chosen so far, if any.
    fn backend_name(&self) -> Option<&str> {
        None
    }
    /// Usable servers of the named backend; `None` if no such backend.
    fn nbsrv(&self, backend: &str) -> Option<u32> {
        let _ = backend;
        None
    }
    /// Extension point for fetches the ACL engine declares but cannot
    /// compute itself (stick counters `sc*_`/`src_*` later). Called with
    /// the keyword and its parsed arguments; `None`: no sample.
    fn custom(&self, name: &str, args: &[ArgValue]) -> Option<Sample<'_>> {
        let _ = (name, args);
        None
    }
    /// The variables of `scope` (`sess`: the session's; `txn`, `req`,
    /// `res`: the transaction's); `proc` ones are process-wide, not here.
    fn vars(&self, scope: Scope) -> Option<&Vars> {
        let _ = scope;
        None
    }
    /// What the client connection's TLS handshake negotiated (`ssl_fc*`,
    /// `ssl_c_*`); None when it is not TLS.
    fn client_tls(&self) -> Option<&super::tls_facts::TlsFacts> {
        None
    }
    /// The stream is an HTTP one (`internal.strm.is_htx`); None outside a stream.
    fn is_http(&self) -> Option<bool> {
        None
    }
    /// The TLVs of the client connection's PROXY v2 header (`fc_pp_*`).
    fn proxy_tlvs(&self) -> Option<&super::pp_facts::ProxyTlvs> {
        None
    }
    /// The server connection speaks TLS (`ssl_bc`).
    fn server_tls(&self) -> bool {
        false
    }
    /// The bytes the client sent that wait in the request buffer (TCP
    /// mode, before forwarding: `req.ssl_sni`...), and whether no more can
    /// come (input closed, or buffer full).
    fn req_payload(&self) -> Option<(&[u8], bool)> {
        None
    }
    /// The bytes the server sent that wait in the response buffer (TCP
    /// mode `tcp-response content` rules: `res.payload`, `res.len`), and
    /// whether no more can come.
    fn res_payload(&self) -> Option<(&[u8], bool)> {
        None
    }
    /// `WAIT_END`'s answer where content is inspected: whether the pass is
    /// the last one (delay over, buffer full, input closed). None where no
    /// content is waited for (HTTP rules: always the last pass).
    fn inspect_final(&self) -> Option<bool> {
        None
    }
    /// The file and line of the stream's last final rule (`last_rule_file`,
    /// `last_rule_line`).
    fn last_rule(&self) -> Option<(&str, usize)> {
        None
    }
    /// Proxy and server state (`be_conn`, `srv_is_up`, `queue`...).
    fn proxy_query(&self, q: ProxyQuery<'_>) -> Option<i64> {
        let _ = q;
        None
    }
    /// The name of the server the stream is attached to (`srv_name`).
    fn server_name(&self) -> Option<&str> {
        None
    }
    /// A `table_*` converter: the value of `what` (a stored type, or
    /// `trackers`) of the entry whose key is `key` in table `table`.
    fn table_value(&self, table: &str, what: &str, key: Sample<'_>) -> Option<i64> {
        let _ = (table, what, key);
        None
    }
    /// The stream's unique id (`unique-id`), generated on first use.
    fn unique_id(&self) -> Option<&[u8]> {
        None
    }
    /// Whether the request is the first of its client connection
    /// (`http_first_req`); None outside HTTP.
    fn first_request(&self) -> Option<bool> {
        None
    }
    /// The cache that answered this request (`res.cache_hit`, `res.cache_name`).
    fn cache_served(&self) -> Option<&str> {
        None
    }
    /// What the frontend's capture slot `idx` of one side holds
    /// (`capture.req.hdr`, `capture.res.hdr`).
    fn capture_slot(&self, response: bool, idx: usize) -> Option<&[u8]> {
        let _ = (response, idx);
        None
    }
    /// The request body received so far, when `wait-for-body` kept it.
    fn req_body(&self) -> Option<&[u8]> {
        None
    }
    /// The response body, when `http-response wait-for-body` kept it.
    fn res_body(&self) -> Option<&[u8]> {
        None
    }
    /// `http_auth(list)` / `http_auth_group(list)`: whether the request's
    /// `Authorization: Basic` credentials are a user of `userlist` (in
    /// one of `groups` when given); None when there is no such userlist.
    fn auth_check(&self, userlist: &str, groups: Option<&[Box<str>]>) -> Option<bool> {
        let _ = (userlist, groups);
        None
    }
}
