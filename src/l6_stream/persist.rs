//! Persistence of a client to its server: the server a request's
//! persistence cookie (`cookie NAME ...`), a `use-server` rule or a
//! `stick match|on` rule names
//! is used instead of load balancing while it can take the request (up
//! and not in maintenance; down too with `option persist`; anything with
//! `force-persist`), unless `ignore-persist` says otherwise; the chosen
//! server is remembered by `stick on|store-request|store-response` rules
//! and by the cookie set in the response (insert, rewrite, prefix).

use super::stream::{Stream, StreamCtx};
use crate::backend::ServerState;
use crate::cfg::{CookieMode, StickKind};
use crate::l4_conn::track::with_key;
use crate::l7_http::head::find;
use crate::l7_http::persist::{self, ServerCookie};
use crate::l7_http::rewrite::HeaderEdit;
use crate::stick::{DataType, Update};

/// What persistence decided for a stream. Owned by the stream.
#[derive(Debug, Default)]
pub struct PersistState {
    pub(super) server: Option<usize>, // the server a cookie or stick rule named, when it may be used
    direct: bool,    // the request's cookie named the server that answers (HAProxy's SF_DIRECT)
    ignore: bool,    // `ignore-persist` matched
    first_date: u32, // the cookie's first-seen date (`maxlife`)
    last_date: u32,  // its last-seen date (`maxidle`)
}

fn unix_now(ctx: &StreamCtx<'_>) -> u32 {
    ctx.wall.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as u32)
}

/// HAProxy's test: not in maintenance and up (or `option persist`), or forced.
fn may_persist(s: &ServerState, persist: bool, force: bool) -> bool {
    force || (s.admin == crate::backend::SrvAdmin::Ready && !s.resolution_maint && (s.up || persist))
}

impl Stream {
    /// Once the backend is known and its request rules ran: the server
    /// persistence names, and the request's `Cookie` header as the server
    /// must see it.
    pub(super) fn persistence(&mut self, ctx: &StreamCtx<'_>) {
        let Some(be) = self.backend else { return };
        let px = &ctx.cfg.proxies[be];
        let rules = &ctx.rules[be];
        if px.cookie.is_none() && rules.sticks.is_empty() && rules.use_servers.is_empty() {
            return;
        }
        let sample = self.sample(ctx, false, be);
        let front = &ctx.rules[self.frontend];
        // The first matching force-persist / ignore-persist rule decides
        // (the frontend's, then the backend's).
        let mut decided = None;
        let lists = [(self.frontend != be).then_some(&front.persist_rules), Some(&rules.persist_rules)];
        for (force, c) in lists.into_iter().flatten().flatten() {
            if c.eval(&sample) {
                decided = Some(*force);
                break;
            }
        }
        let force = decided == Some(true);
        let ignore = decided == Some(false);
        let mut st = PersistState { ignore, ..PersistState::default() };
        if ctx.backends.lock().get(be).is_none() {
            return;
        }
        // The backends are locked for each look-up alone: the rules'
        // samples below may read them too.
        let ok = |i: usize| {
            let locked = ctx.backends.lock();
            locked
                .get(be)
                .and_then(|b| b.servers.get(i))
                .is_some_and(|s| may_persist(s, px.options.persist, force))
        };
        if let (Some(c), Some(t)) = (px.cookie.as_ref(), sample.txn)
            && !ignore
        {
            let values = find(t.req_bytes(), &t.req.headers, "cookie");
            if let Some(rc) = persist::from_request(c, values, unix_now(ctx)) {
                let named = px
                    .servers
                    .iter()
                    .position(|s| s.cookie.as_deref().map(str::as_bytes) == Some(&rc.server[..]));
                if let Some(i) = named.filter(|&i| ok(i)) {
                    st.server = Some(i);
                    st.direct = true;
                    st.first_date = rc.first;
                    st.last_date = rc.last;
                }
            }
        }
        // `use-server` rules, after the cookie and before the stick rules
        // (HAProxy's analysers in that order; ignore-persist does not
        // concern them): the first whose condition holds and whose server
        // may take the stream.
        if st.server.is_none() {
            st.server = rules.use_servers.iter().find(|(i, c)| c.eval(&sample) && ok(*i)).map(|(i, _)| *i);
        }
        if st.server.is_none() && !ignore {
            for r in rules.sticks.iter().filter(|r| matches!(r.kind, StickKind::On | StickKind::Match)) {
                if !r.cond.as_ref().is_none_or(|c| c.eval(&sample)) {
                    continue;
                }
                let Some(table) = ctx.tables.get(r.table) else { continue };
                // HAProxy's order: the server's name (`server_key`), then its id
                let found = r
                    .pattern
                    .with_value(&sample, |s| {
                        with_key(s, table.key_type(), |k| {
                            (
                                table.get_server_key(k, ctx.now_ms),
                                table.get(k, DataType::ServerId, ctx.now_ms),
                            )
                        })
                    })
                    .flatten();
                let Some((name, id)) = found else { continue };
                let name = name.and_then(crate::stick::dict::lookup);
                let found = {
                    let locked = ctx.backends.lock();
                    let servers = locked.get(be).map_or(&[][..], |b| &b.servers[..]);
                    let by_name = name.and_then(|n| servers.iter().position(|s| *s.name == *n));
                    by_name.or_else(|| id.and_then(|id| servers.iter().position(|s| u64::from(s.id) == id)))
                };
                if let Some(i) = found.filter(|&i| ok(i)) {
                    st.server = Some(i);
                    break;
                }
            }
        }
        // The Cookie header the server gets.
        if let (Some(c), Some(h)) = (px.cookie.as_ref(), self.http.as_mut()) {
            let t = &mut h.txn;
            let buf = t.req_bytes();
            let mut rewritten = Vec::new();
            let mut changed = false;
            for v in find(buf, &t.req.headers, "cookie") {
                match persist::request_value(c, v) {
                    Some(n) => {
                        changed = true;
                        if !n.is_empty() {
                            rewritten.push(String::from_utf8_lossy(&n).into_owned());
                        }
                    }
                    None => rewritten.push(String::from_utf8_lossy(v).into_owned()),
                }
            }
            if changed {
                t.req_edits.push(HeaderEdit::Del("cookie".into()));
                for v in rewritten {
                    t.req_edits.push(HeaderEdit::Add("cookie".into(), v));
                }
            }
        }
        self.persist = Some(Box::new(st));
    }

    /// The server persistence chose, if it still may take the stream.
    pub(super) fn persistent_server(&self) -> Option<usize> {
        self.persist.as_ref().and_then(|p| p.server)
    }

    /// A server was assigned: `stick on` and `stick store-request` rules
    /// remember it.
    pub(super) fn stick_store_request(&self, ctx: &StreamCtx<'_>, srv: usize) {
        self.stick_store(ctx, srv, false);
    }

    fn stick_store(&self, ctx: &StreamCtx<'_>, srv: usize, response: bool) {
        let Some(be) = self.backend else { return };
        let rules = &ctx.rules[be];
        if rules.sticks.is_empty() || self.persist.as_ref().is_some_and(|p| p.ignore) {
            return;
        }
        let Some((id, name)) = ctx
            .backends
            .lock()
            .get(be)
            .and_then(|b| b.servers.get(srv))
            .map(|s| (s.id as i32, s.name.clone()))
        else {
            return;
        };
        let key = crate::stick::dict::intern(&name);
        let sample = self.sample(ctx, response, be);
        let kinds: &[StickKind] =
            if response { &[StickKind::StoreResponse] } else { &[StickKind::On, StickKind::StoreRequest] };
        for r in rules.sticks.iter().filter(|r| kinds.contains(&r.kind)) {
            if !r.cond.as_ref().is_none_or(|c| c.eval(&sample)) {
                continue;
            }
            let Some(table) = ctx.tables.get(r.table) else { continue };
            r.pattern.with_value(&sample, |s| {
                with_key(s, table.key_type(), |k| {
                    table.update(k, Update::SetServerId(id), ctx.now_ms);
                    if let Some(key) = key {
                        table.update(k, Update::SetServerKey(key), ctx.now_ms);
                    }
                })
            });
        }
    }

    /// The response head is final: `stick store-response` rules, then the
    /// persistence cookie (inserted, or the server's rewritten or prefixed).
    pub(super) fn persist_response(&mut self, ctx: &StreamCtx<'_>) {
        let (Some(be), Some(srv)) = (self.backend, self.server) else { return };
        self.stick_store(ctx, srv, true);
        let Some(c) = ctx.cfg.proxies[be].cookie.as_ref() else { return };
        let server_cookie = ctx.cfg.proxies[be].servers.get(srv).and_then(|s| s.cookie.as_deref());
        let now = unix_now(ctx);
        let (direct, ignore, first, last) = match self.persist.as_deref() {
            Some(p) => (p.direct && p.server == Some(srv), p.ignore, p.first_date, p.last_date),
            None => (false, false, 0, 0),
        };
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.txn;
        let (Some(res), Some(rb)) = (t.res.as_ref(), t.res_buf.as_ref()) else { return };
        let src = rb.data();
        // The server's own Set-Cookie lines.
        let mut kept: Vec<String> = Vec::new();
        let mut touched = false;
        let mut server_set = false;
        for v in find(src, &res.headers, "set-cookie") {
            match persist::server_set_cookie(c, v, server_cookie) {
                ServerCookie::Keep => {
                    server_set |= v
                        .split(|&b| b == b';')
                        .next()
                        .and_then(|p| p.split(|&b| b == b'=').next())
                        .is_some_and(|n| n.trim_ascii() == c.name.as_bytes());
                    kept.push(String::from_utf8_lossy(v).into_owned())
                }
                ServerCookie::Drop => touched = true,
                ServerCookie::Replace(n) => {
                    touched = true;
                    kept.push(n);
                }
            }
        }
        if touched {
            t.res_edits.push(HeaderEdit::Del("set-cookie".into()));
            for v in kept {
                t.res_edits.push(HeaderEdit::Add("set-cookie".into(), v));
            }
        }
        if c.mode != CookieMode::Insert || (c.preserve && server_set) || ignore {
            return;
        }
        let dated = c.maxidle > 0 || c.maxlife > 0;
        let refresh = (dated && (last == 0 || last < now))
            || (c.maxlife > 0 && first == 0)
            || (c.maxlife == 0 && first > 0);
        if (direct && !refresh) || (c.postonly && t.method_bytes() != b"POST") {
            return;
        }
        t.res_edits
            .push(HeaderEdit::Add("set-cookie".into(), persist::insert_value(c, server_cookie, now, first)));
        if c.nocache && cacheable(src, &res.headers) {
            t.res_edits.push(HeaderEdit::Add("cache-control".into(), "private".into()));
        }
    }
}

/// A response others could cache (the case `nocache` marks private):
/// explicit freshness or `public`, and nothing forbidding it.
fn cacheable(src: &[u8], headers: &[crate::l7_http::head::HeaderSpan]) -> bool {
    let cc: Vec<&[u8]> = find(src, headers, "cache-control").flat_map(crate::l7_http::head::tokens).collect();
    let has = |p: &[u8]| cc.iter().any(|t| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p));
    if has(b"private") || has(b"no-cache") || has(b"no-store") {
        return false;
    }
    has(b"public") || has(b"max-age") || has(b"s-maxage") || find(src, headers, "expires").next().is_some()
}
