//! The session's own rules: `tcp-request connection` (right after accept)
//! and `tcp-request session` (before the first stream). Trackers they
//! start belong to the session.

use crate::acl::{ArgValue, Sample, SampleSource};
use crate::cfg::Config;
use crate::l4_conn::track::{SLOTS, TrackSlots, stick_fetch};
use crate::stick::{Registry, Tracker};
use std::net::SocketAddr;

/// What connection and session rules see and track into: the addresses
/// and the session's own slots. Built on the stack for one rule pass.
pub struct SessionTarget<'a> {
    pub trackers: &'a mut [Option<Tracker>; SLOTS],
    pub vars: &'a crate::acl::Vars, // the session's `sess.` variables
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub frontend: usize,
    pub cfg: &'a Config,
    pub tables: &'a Registry,
    pub now_ms: u64,
    pub expect_proxy: bool, // a `tcp-request connection expect-proxy layer4` rule fired
    pub pp: Option<&'a crate::acl::pp_facts::ProxyTlvs>, // the TLVs of the PROXY v2 header, once read
}

impl TrackSlots for SessionTarget<'_> {
    fn used(&self, slot: usize) -> bool {
        self.trackers.get(slot).is_some_and(Option::is_some)
    }

    fn tracker(&self, slot: usize) -> Option<&Tracker> {
        self.trackers.get(slot).and_then(Option::as_ref)
    }

    fn install(&mut self, slot: usize, tracker: Tracker) {
        if let Some(s) = self.trackers.get_mut(slot) {
            *s = Some(tracker);
        }
    }

    fn expect_proxy(&mut self) {
        self.expect_proxy = true;
    }
}

impl crate::l4_conn::track::RuleTarget for SessionTarget<'_> {
    fn render(&self, fmt: &crate::l4_conn::track::VarFormat) -> Option<Vec<u8>> {
        crate::l6_stream::rules::render_var_format(fmt, self)
    }
}

/// No stream yet: log-format variables read as absent, samples work.
impl crate::l7_http::logformat::LogSource for SessionTarget<'_> {}

impl SampleSource for SessionTarget<'_> {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }

    fn dst(&self) -> Option<SocketAddr> {
        Some(self.dst)
    }

    fn frontend_name(&self) -> &str {
        &self.cfg.proxies[self.frontend].name
    }

    fn proxy_tlvs(&self) -> Option<&crate::acl::pp_facts::ProxyTlvs> {
        self.pp
    }

    fn vars(&self, scope: crate::acl::Scope) -> Option<&crate::acl::Vars> {
        (scope == crate::acl::Scope::Sess).then_some(self.vars)
    }

    fn custom(&self, name: &str, args: &[ArgValue]) -> Option<Sample<'_>> {
        let own = self.tables.get(self.frontend).map(|_| self.frontend);
        stick_fetch(name, args, self, Some(self.src.ip()), own, self.tables, self.now_ms)
    }
}
