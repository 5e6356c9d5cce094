//! What rules see of a stream: the [`SampleSource`] the ACL engine reads.

use super::slots::{InheritedSlots, StreamSlots};
use crate::acl::{ArgValue, HeaderVisitor, ProxyQuery, Sample, SampleSource, Scope, Vars};
use crate::backend::SharedBackends;
use crate::cfg::Config;
use crate::l4_conn::track::{TrackSlots, stick_fetch};
use crate::l7_http::logformat::{LogFacts, LogSource};
use crate::l7_http::txn::Txn;
use crate::stick::{Registry, Tracker};
use std::net::SocketAddr;

/// How a sample reaches the stream's stick-counter slots.
pub enum SlotAccess<'a> {
    Read(&'a StreamSlots),      // conditions only
    Write(&'a mut StreamSlots), // rules that may start tracking
}

/// What a sample reads from the process-wide backends, read on first use
/// and kept for the pass: building a sample takes no lock, and a pass
/// whose rules never ask takes none at all.
#[derive(Default)]
pub struct LazyFacts {
    server_name: std::cell::OnceCell<Option<std::sync::Arc<str>>>, // `%s`, `srv_name`
    conn_counts: std::cell::OnceCell<[u32; 4]>,                    // `%ac %fc %bc %sc`
}

/// One stream as rules see it: what fetches read, and (for rule passes
/// that may track) its slots. Built on the stack for a rule pass and
/// dropped right after.
pub struct StreamSample<'a> {
    pub facts: LogFacts, // what log-format variables read (`%Tt`, `%rt`...), as of this pass
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub txn: Option<&'a Txn>,
    pub frontend: usize,
    pub backend: Option<usize>,
    pub server: Option<usize>, // the server the stream is attached to, if any
    pub cfg: &'a Config,
    pub backends: &'a SharedBackends, // locked by the fetches that read them (`nbsrv`, `be_conn`...)
    pub lazy: LazyFacts,              // what is read from the backends only when asked (`%s`, `%bc`...)
    pub response: bool,               // response rules: status and response headers visible
    pub slots: SlotAccess<'a>,
    pub inherited: InheritedSlots<'a>,
    pub sess_vars: Option<&'a crate::acl::Vars>, // `sess.` variables
    pub unique_id_fmt: Option<&'a crate::l7_http::logformat::LogFormat>, // the frontend's `unique-id-format`
    pub tables: &'a Registry,
    pub rule_proxy: usize, // the proxy whose rules run (its table is `src_*`'s default)
    pub now_ms: u64,
    pub client_tls: Option<&'a crate::acl::tls_facts::TlsFacts>, // the client connection's TLS, if any
    pub client_pp: Option<&'a crate::acl::pp_facts::ProxyTlvs>,  // the TLVs of its PROXY v2 header, if any
    pub server_tls: bool,                                        // the server connection is TLS (`ssl_bc`)
    pub payload: Option<(&'a [u8], bool)>, // TCP inspection: the client's buffered bytes, and whether no more can come
    pub set_timeouts: super::timeouts::SetTimeouts, // what `set-timeout` rules set so far (`cur_*_timeout`)
    pub tcp_vars: &'a Vars, // a TCP stream's `txn.`/`req.`/`res.` variables (an HTTP stream's are its transaction's)
    pub last_rule: Option<&'a crate::cfg::Loc>, // where the stream's last final rule is (`last_rule_file`)
}

impl TrackSlots for StreamSample<'_> {
    fn used(&self, slot: usize) -> bool {
        self.tracker_or_inherited(slot)
    }

    fn tracker(&self, slot: usize) -> Option<&Tracker> {
        match &self.slots {
            SlotAccess::Read(s) => s.resolve(slot, self.inherited),
            SlotAccess::Write(s) => s.resolve(slot, self.inherited),
        }
    }

    fn install(&mut self, slot: usize, tracker: Tracker) {
        if let SlotAccess::Write(s) = &mut self.slots {
            s.with(self.inherited).install(slot, tracker);
        }
    }
}

impl crate::l4_conn::track::RuleTarget for StreamSample<'_> {
    fn render(&self, fmt: &crate::l4_conn::track::VarFormat) -> Option<Vec<u8>> {
        super::rules::render_var_format(fmt, self)
    }
}

impl StreamSample<'_> {
    /// A slot is used when the stream or its session holds it.
    fn tracker_or_inherited(&self, slot: usize) -> bool {
        match &self.slots {
            SlotAccess::Read(s) => s.is_used(slot),
            SlotAccess::Write(s) => s.is_used(slot),
        }
    }
}

/// Headers read from an inspected request head (HAProxy's `tune.http.maxhdr`).
const RAW_MAX_HEADERS: usize = 101;

impl<'a> StreamSample<'a> {
    /// The HTTP request at the head of the inspected bytes, for HTTP fetches
    /// in TCP mode (`tcp-request content track-sc0 url` on a `mode tcp`
    /// frontend: HAProxy parses the buffer for them). Only without a
    /// transaction; while the head is incomplete and more may come, the
    /// fetch is marked incomplete so that the rules wait for more.
    fn raw_request<R>(&self, f: impl FnOnce(&httparse::Request<'_, 'a>) -> Option<R>) -> Option<R> {
        if self.txn.is_some() {
            return None;
        }
        let (buf, last) = self.payload?;
        let mut headers = [httparse::EMPTY_HEADER; RAW_MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(_)) => f(&req),
            Ok(httparse::Status::Partial) => {
                if !last {
                    crate::acl::mark_incomplete();
                }
                None
            }
            Err(_) => None,
        }
    }
}

impl<'a> SampleSource for StreamSample<'a> {
    fn client_tls(&self) -> Option<&crate::acl::tls_facts::TlsFacts> {
        self.client_tls
    }

    fn server_tls(&self) -> bool {
        self.server_tls
    }

    fn proxy_tlvs(&self) -> Option<&crate::acl::pp_facts::ProxyTlvs> {
        self.client_pp
    }

    fn req_payload(&self) -> Option<(&[u8], bool)> {
        self.payload.filter(|_| !self.response)
    }

    fn res_payload(&self) -> Option<(&[u8], bool)> {
        self.payload.filter(|_| self.response)
    }

    fn inspect_final(&self) -> Option<bool> {
        self.payload.map(|(_, last)| last)
    }

    fn last_rule(&self) -> Option<(&str, usize)> {
        self.last_rule.map(|l| (l.file.as_str(), l.line))
    }

    /// With a transaction, the payload is the request body once waited for
    /// (`body_wait.rs`); before any wait the rules see an empty body, as
    /// HAProxy's do when the head came alone.
    fn req_body(&self) -> Option<&[u8]> {
        let body = if self.response { None } else { self.payload };
        self.txn.map(|_| body.map_or(&[][..], |(b, _)| b))
    }

    /// In response rules, the payload is the response body once waited
    /// for (`http/res_wait.rs`); before, an empty one.
    fn res_body(&self) -> Option<&[u8]> {
        let body = if self.response { self.payload } else { None };
        self.txn.filter(|t| t.res.is_some()).map(|_| body.map_or(&[][..], |(b, _)| b))
    }

    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }

    fn dst(&self) -> Option<SocketAddr> {
        Some(self.dst)
    }

    fn method(&self) -> Option<&[u8]> {
        match self.txn {
            Some(t) => Some(t.method_bytes()),
            None => self.raw_request(|r| r.method.map(str::as_bytes)),
        }
    }

    fn uri(&self) -> Option<&[u8]> {
        match self.txn {
            Some(t) => Some(t.outgoing_uri()), // rules see an earlier rule's set-path, as in HAProxy
            None => self.raw_request(|r| r.path.map(str::as_bytes)),
        }
    }

    fn received_request(&self) -> Option<crate::acl::ReceivedRequest<'_>> {
        let t = self.txn?;
        let version = |v: crate::l7_http::head::Version| &v.as_str().as_bytes()[5..];
        Some(crate::acl::ReceivedRequest {
            method: t.req.method.of(t.req_bytes()),
            uri: t.uri_bytes(),
            version: version(t.req_version()),
            res_version: t.res.as_ref().filter(|_| self.response).map(|r| version(r.version)),
        })
    }

    fn req_version(&self) -> Option<&[u8]> {
        match self.txn {
            Some(t) => Some(&t.req_version().as_str().as_bytes()[5..]),
            None => self.raw_request(|r| r.version.map(|v| if v == 0 { &b"1.0"[..] } else { &b"1.1"[..] })),
        }
    }

    fn for_each_req_header(&self, f: HeaderVisitor<'_>) {
        let Some(t) = self.txn else {
            self.raw_request(|r| {
                r.headers.iter().try_for_each(|h| f(h.name.as_bytes(), h.value)).break_value()
            });
            return;
        };
        // Earlier rules' edits are seen, as HAProxy's in-place edits are.
        crate::l7_http::rewrite::visit_edited(t.req_bytes(), &t.req.headers, &t.req_edits, f);
    }

    fn res_status(&self) -> Option<u16> {
        let t = self.txn.filter(|_| self.response)?;
        t.status_override.as_ref().map(|(c, _)| *c).or_else(|| t.res.as_ref().map(|r| r.status))
    }

    fn for_each_res_header(&self, f: HeaderVisitor<'_>) {
        let Some((t, res)) = self.txn.filter(|_| self.response).and_then(|t| Some((t, t.res.as_ref()?)))
        else {
            return;
        };
        crate::l7_http::rewrite::visit_edited(t.res_bytes(), &res.headers, &t.res_edits, f);
    }

    fn frontend_name(&self) -> &str {
        &self.cfg.proxies[self.frontend].name
    }

    fn backend_name(&self) -> Option<&str> {
        self.backend.map(|b| self.cfg.proxies[b].name.as_str())
    }

    fn custom(&self, name: &str, args: &[ArgValue]) -> Option<Sample<'_>> {
        let own_table = self.tables.get(self.rule_proxy).map(|_| self.rule_proxy);
        stick_fetch(name, args, self, Some(self.src.ip()), own_table, self.tables, self.now_ms)
    }

    fn vars(&self, scope: Scope) -> Option<&Vars> {
        match scope {
            Scope::Sess => self.sess_vars,
            Scope::Txn | Scope::Req | Scope::Res => Some(self.txn.map_or(self.tcp_vars, |t| &t.vars)),
            Scope::Proc => None,
        }
    }

    fn proxy_query(&self, q: ProxyQuery<'_>) -> Option<i64> {
        super::sample_state::proxy_query(self, q)
    }

    fn is_http(&self) -> Option<bool> {
        Some(self.txn.is_some())
    }

    fn first_request(&self) -> Option<bool> {
        self.txn.map(|t| t.first_req)
    }

    fn server_name(&self) -> Option<&str> {
        let (be, s) = (self.backend?, self.server?);
        self.lazy
            .server_name
            .get_or_init(|| {
                let locked = self.backends.lock();
                locked.get(be)?.servers.get(s).filter(|s| !s.hidden).map(|s| s.name.clone())
            })
            .as_deref()
    }

    fn table_value(&self, table: &str, what: &str, key: Sample<'_>) -> Option<i64> {
        super::sample_state::table_value(self.tables, table, what, key, self.now_ms)
    }

    fn auth_check(&self, userlist: &str, groups: Option<&[Box<str>]>) -> Option<bool> {
        let list = self.cfg.userlists.iter().find(|l| l.name == userlist)?;
        let mut ok = false;
        self.for_each_req_header(&mut |n, v| {
            if n.eq_ignore_ascii_case(b"authorization") {
                ok = crate::l7_http::auth::check(list, v, groups);
                return std::ops::ControlFlow::Break(());
            }
            std::ops::ControlFlow::Continue(())
        });
        Some(ok)
    }

    fn unique_id(&self) -> Option<&[u8]> {
        let t = self.txn?;
        if let Some(id) = t.unique_id.get() {
            return Some(id);
        }
        let fmt = self.unique_id_fmt?;
        if t.unique_id_busy.replace(true) {
            return None;
        }
        let id = fmt.render(self).into_bytes().into_boxed_slice();
        t.unique_id_busy.set(false);
        Some(t.unique_id.get_or_init(|| id))
    }

    fn capture_slot(&self, response: bool, idx: usize) -> Option<&[u8]> {
        self.txn?.captured.side(response)?.get(idx)?.as_deref()
    }

    fn cache_served(&self) -> Option<&str> {
        self.txn.and_then(|t| t.from_cache.as_deref())
    }

    fn nbsrv(&self, backend: &str) -> Option<u32> {
        let index = self.cfg.proxies.iter().position(|p| p.cap.backend && p.name == backend)?;
        let backends = self.backends.lock();
        let state = backends.get(index)?;
        Some(state.servers.iter().filter(|s| s.usable()).count() as u32)
    }
}

impl LogSource for StreamSample<'_> {
    fn log_facts(&self) -> Option<&LogFacts> {
        Some(&self.facts)
    }

    fn conn_counts(&self) -> [u32; 4] {
        *self.lazy.conn_counts.get_or_init(|| {
            super::log_facts::conn_counts(&self.backends.lock(), self.frontend, self.backend, self.server)
        })
    }

    fn request_line(&self) -> Option<[&[u8]; 3]> {
        let t = self.txn?;
        let buf = t.req_bytes();
        Some([t.req.method.of(buf), t.uri_bytes(), t.req_version().as_str().as_bytes()])
    }

    fn captures(&self, response: bool) -> Option<&[Option<Box<[u8]>>]> {
        self.txn?.captured.side(response)
    }

    fn captured_cookie(&self, response: bool) -> Option<&[u8]> {
        let c = &self.txn?.captured;
        if response { c.cookie_res.as_deref() } else { c.cookie_req.as_deref() }
    }
}
