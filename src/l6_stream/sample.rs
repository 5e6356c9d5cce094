//! What rules see of a stream: the [`SampleSource`] the ACL engine reads.

use crate::acl::{HeaderVisitor, SampleSource};
use crate::backend::Backends;
use crate::cfg::Config;
use crate::l7_http::txn::Txn;
use std::net::SocketAddr;
use std::ops::ControlFlow;

/// A read-only view of one stream for condition evaluation. Built on the
/// stack for a rule pass and dropped right after.
pub struct StreamSample<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub txn: Option<&'a Txn>,
    pub frontend: usize,
    pub backend: Option<usize>,
    pub cfg: &'a Config,
    pub backends: &'a Backends,
    pub response: bool, // response rules: status and response headers visible
}

impl SampleSource for StreamSample<'_> {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }

    fn dst(&self) -> Option<SocketAddr> {
        Some(self.dst)
    }

    fn method(&self) -> Option<&[u8]> {
        self.txn.map(Txn::method_bytes)
    }

    fn uri(&self) -> Option<&[u8]> {
        self.txn.map(Txn::uri_bytes)
    }

    fn req_version(&self) -> Option<&[u8]> {
        self.txn.map(|t| &t.req_version().as_str().as_bytes()[5..])
    }

    fn for_each_req_header(&self, f: HeaderVisitor<'_>) {
        let Some(t) = self.txn else { return };
        let buf = t.req_bytes();
        for h in &t.req.headers {
            if f(h.name.of(buf), h.value.of(buf)) == ControlFlow::Break(()) {
                return;
            }
        }
    }

    fn res_status(&self) -> Option<u16> {
        if self.response { self.txn.and_then(|t| t.res.as_ref()).map(|r| r.status) } else { None }
    }

    fn for_each_res_header(&self, f: HeaderVisitor<'_>) {
        let Some((t, res)) = self.txn.filter(|_| self.response).and_then(|t| Some((t, t.res.as_ref()?)))
        else {
            return;
        };
        let buf = t.res_bytes();
        for h in &res.headers {
            if f(h.name.of(buf), h.value.of(buf)) == ControlFlow::Break(()) {
                return;
            }
        }
    }

    fn frontend_name(&self) -> &str {
        &self.cfg.proxies[self.frontend].name
    }

    fn backend_name(&self) -> Option<&str> {
        self.backend.map(|b| self.cfg.proxies[b].name.as_str())
    }

    fn nbsrv(&self, backend: &str) -> Option<u32> {
        let index = self.cfg.proxies.iter().position(|p| p.cap.backend && p.name == backend)?;
        let state = self.backends.get(index)?;
        Some(state.servers.iter().filter(|s| s.usable()).count() as u32)
    }
}
