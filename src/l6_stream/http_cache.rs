//! A stream and the cache: `http-request cache-use` looks the request up
//! (and remembers its key), a fresh entry is served in place of the
//! server's answer (through the response rules, with its `Age`, or as a
//! 304 to a matching conditional request); `http-response cache-store`
//! copies the response as it is forwarded and stores it when it ended
//! complete. An unsafe request that succeeded invalidates its key.

use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::core::buffer::Buffer;
use crate::l7_http::body::BodyState;
use crate::l7_http::cache::policy::{self, StoreAs};
use crate::l7_http::cache::vary;
use crate::l7_http::cache::{Cache, Entry, Primary, StoredHead};
use crate::l7_http::head::{Framing, HeaderSpan, Span, Version, find};
use crate::l7_http::parse::parse_response;
use crate::l7_http::rewrite::{ConnHeader, HeaderEdit, NextHead};
use crate::l7_http::txn::{MethodKind, Txn};
use smallvec::SmallVec;
use std::sync::Arc;

/// What the stream keeps about the cache for its request. Part of the
/// stream's HTTP part; created by `cache-use`.
#[derive(Debug)]
pub struct CacheState {
    cache: Arc<Cache>,
    key: Primary,
    may_store: bool,
    hit: Option<Arc<Entry>>,                      // a fresh entry found by cache-use
    pub(super) body: Option<(Arc<Entry>, usize)>, // a served entry's body, bytes sent so far
    fill: Option<Fill>,
}

/// A response being copied for `cache-store`.
#[derive(Debug)]
struct Fill {
    store: StoreAs,
    secondary: Vec<u8>,
    head: Vec<u8>,
    body: Vec<u8>,
    max: usize,
}

fn unix_now(ctx: &StreamCtx<'_>) -> i64 {
    ctx.wall.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The request's header lines as (name, value), on the stack for a usual
/// request.
fn req_headers(t: &Txn) -> SmallVec<[(&[u8], &[u8]); 32]> {
    let buf = t.req_bytes();
    t.req.headers.iter().map(|h| (h.name.of(buf), h.value.of(buf))).collect()
}

/// The response's header lines with the edits its rules made before
/// `cache-store` (a `set-header Expires` ahead of it counts, as in HAProxy,
/// whose rules edit the message in place).
fn edited<'a>(mut h: Vec<(&'a [u8], &'a [u8])>, edits: &'a [HeaderEdit]) -> Vec<(&'a [u8], &'a [u8])> {
    for e in edits {
        match e {
            HeaderEdit::Add(n, v) => h.push((n.as_bytes(), v.as_bytes())),
            HeaderEdit::Set(n, v) => {
                h.retain(|(x, _)| !x.eq_ignore_ascii_case(n.as_bytes()));
                h.push((n.as_bytes(), v.as_bytes()));
            }
            HeaderEdit::Del(_) | HeaderEdit::DelMatching(_) => h.retain(|(x, _)| !e.removes(x)),
            HeaderEdit::Replace(..) | HeaderEdit::ReplaceValue(..) => {}
        }
    }
    h
}

impl Stream {
    /// `http-request cache-use NAME`.
    pub(super) fn cache_use(&mut self, name: &str, ctx: &StreamCtx<'_>) {
        let Some(cache) = ctx.caches.find(name) else { return };
        let now = unix_now(ctx);
        let Some(h) = self.http.as_mut() else { return };
        if h.cache.is_some() {
            return; // the first cache-use decides
        }
        let t = &h.txn;
        let headers = req_headers(t);
        let rc = policy::request(t.req.version == Version::Http11, t.method_bytes(), &headers);
        let host = find(t.req_bytes(), &t.req.headers, "host").next().unwrap_or_default();
        let key = policy::primary_key(host, t.outgoing_uri());
        let hit = if rc.may_use {
            cache.lookup(&key, now as u64, |e| {
                if e.secondary.is_empty() {
                    return Vec::new(); // no Vary: the only variant (nothing allocated)
                }
                let lines: Vec<(&[u8], &[u8])> = policy::head_lines(e).collect();
                let names = vary::names(&lines).unwrap_or_default();
                vary::lookup_key(&names, &headers, &lines)
            })
        } else {
            None
        };
        h.cache = Some(Box::new(CacheState {
            cache: Arc::clone(cache),
            key,
            may_store: rc.may_store,
            hit,
            body: None,
            fill: None,
        }));
    }

    /// After the request rules: answers from the cache when `cache-use`
    /// found a fresh entry. True when it did.
    pub(super) fn serve_from_cache(&mut self, ctx: &StreamCtx<'_>) -> bool {
        let now = unix_now(ctx);
        let Some(h) = self.http.as_mut() else { return false };
        let Some(entry) = h.cache.as_mut().and_then(|c| c.hit.take()) else { return false };
        let t = &mut h.txn;
        let head_req = t.method == MethodKind::Head;
        let not_modified = policy::not_modified(&entry, &req_headers(t));
        // The stored head as it is (without its blank line), its `Age`,
        // the blank line: the rules see `Age` like any header, and the
        // head leaves as built when they change nothing.
        let stored = &entry.head[..entry.head.len().saturating_sub(2)];
        let mut buf = Buffer::take();
        if not_modified {
            buf.push(b"HTTP/1.1 304 Not Modified\r\n");
            for line in stored.split_inclusive(|&c| c == b'\n').skip(1) {
                let name = line.split(|&c| c == b':').next().unwrap_or_default();
                if !(name.eq_ignore_ascii_case(b"content-length")
                    || name.eq_ignore_ascii_case(b"transfer-encoding"))
                {
                    buf.push(line);
                }
            }
        } else {
            buf.push(stored);
        }
        let age = entry.age_at(now as u64);
        let mut age_line = None;
        if age > 0 {
            let at = buf.len() as u32;
            buf.push(b"age: ");
            let mut digits = [0u8; 20];
            let digits = decimal(age, &mut digits);
            buf.push(digits);
            buf.push(b"\r\n");
            let value = Span { start: at + 5, end: at + 5 + digits.len() as u32 };
            age_line = Some(HeaderSpan { name: Span { start: at, end: at + 3 }, value });
        }
        buf.push(b"\r\n");
        // The stored head, the Age line and the blank line, when all fit.
        let whole =
            stored.len() + age_line.map_or(0, |a| a.value.end as usize - a.name.start as usize + 2) + 2;
        let head = if head_req || not_modified {
            // Framed as bodiless, and a 304's lines differ: parsed.
            let Ok(Some(head)) = parse_response(buf.data(), true, false) else { return false };
            head
        } else if buf.len() == whole {
            // The head parsed when it was stored, and the Age line.
            entry.parsed.response(age_line.as_slice(), whole)
        } else {
            return false; // larger than a buffer
        };
        t.status = Some(head.status);
        t.res = Some(head);
        t.res_buf = Some(buf);
        t.from_cache = h.cache.as_ref().map(|c| Arc::clone(&c.cache.name));
        self.capture_response_headers(ctx);
        if let Some(stop) = self.run_response_rules((0, 0), None, ctx) {
            let _ = stop;
            return self.cache_answer_refused();
        }
        let Some(h) = self.http.as_mut() else { return false };
        let t = &mut h.txn;
        let (Some(res), Some(rb)) = (t.res.as_ref(), t.res_buf.as_ref()) else { return false };
        let src = rb.data();
        let conn = if t.client_close {
            ConnHeader::Close
        } else if t.req.version == Version::Http10 {
            ConnHeader::KeepAlive
        } else {
            ConnHeader::Default
        };
        let line_end = src.iter().position(|&c| c == b'\r').unwrap_or(0);
        let line: [&[u8]; 1] = [&src[..line_end]];
        let next =
            NextHead { first_line: &line, src, headers: &res.headers, edits: &t.res_edits, extra: &[], conn };
        let out = if next.unchanged() { t.res_buf.take() } else { next.write() };
        let Some(mut out) = out else { return false };
        let with_body = !head_req && !not_modified && !entry.body.is_empty();
        // The body goes out with the head, in one write, as far as it fits.
        let sent = if with_body { out.push(&entry.body) } else { 0 };
        h.res_out = Some(out);
        h.answered = true;
        t.res_body = BodyState::Done;
        t.server_close = true;
        if !t.req_body.is_done() {
            t.client_close = true; // the request body will not be read
        }
        if with_body
            && sent < entry.body.len()
            && let Some(c) = h.cache.as_mut()
        {
            c.body = Some((entry, sent));
        }
        self.term.set(TermCause::None, TermPhase::None);
        self.phase = Phase::Forwarding;
        true
    }

    /// A response rule refused a cached answer: nothing is sent.
    fn cache_answer_refused(&mut self) -> bool {
        if let Some(h) = self.http.as_mut() {
            h.txn.client_close = true;
        }
        self.abort(TermCause::ProxyRule, TermPhase::Headers);
        true
    }

    /// `http-response cache-store NAME`: starts copying a storable response.
    pub(super) fn cache_store(&mut self, name: &str, ctx: &StreamCtx<'_>) {
        let now = unix_now(ctx);
        let Some(h) = self.http.as_mut() else { return };
        let t = &h.txn;
        let Some(c) = h.cache.as_mut() else { return }; // no cache-use: no key
        if t.from_cache.is_some() || c.cache.def.name != name || !c.may_store || c.fill.is_some() {
            return;
        }
        if t.req.version != Version::Http11 || t.method_bytes() != b"GET" {
            return;
        }
        let (Some(res), Some(rb)) = (t.res.as_ref(), t.res_buf.as_ref()) else { return };
        let src = rb.data();
        let received = res.headers.iter().map(|x| (x.name.of(src), x.value.of(src))).collect();
        let headers = edited(received, &t.res_edits);
        let status = t.status_override.as_ref().map_or(res.status, |(s, _)| *s);
        let Some(store) = policy::response(status, &headers, c.cache.def.max_age, now) else { return };
        let has_vary = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"vary"));
        let secondary = if has_vary {
            if !c.cache.def.process_vary {
                return;
            }
            let Some(names) = vary::names(&headers) else { return };
            let Some(key) = vary::store_key(&names, &req_headers(t), &headers) else { return };
            key
        } else {
            Vec::new()
        };
        let max = c.cache.max_object_size();
        if let Framing::Length(n) = res.framing
            && n as usize + res.len > max
        {
            return;
        }
        c.fill = Some(Fill { store, secondary, head: Vec::new(), body: Vec::new(), max });
    }

    /// Once the response head is final: the head a stored copy will
    /// replay (its edits applied, without `Age` or hop-by-hop headers), or
    /// no copy at all (a compressed response, a head too large). An
    /// unsafe request that succeeded drops the stored copies of its key.
    pub(super) fn cache_head_done(&mut self) {
        let Some(h) = self.http.as_mut() else { return };
        let t = &h.txn;
        let Some(c) = h.cache.as_mut() else { return };
        let status = t.status.unwrap_or(0);
        let safe = matches!(t.method_bytes(), b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE");
        if !safe && (200..400).contains(&status) {
            c.cache.invalidate(&c.key);
        }
        if c.fill.is_none() {
            return;
        }
        if h.comp.is_some() {
            c.fill = None; // strata stores responses as the server sent them
            return;
        }
        let (Some(res), Some(rb)) = (t.res.as_ref(), t.res_buf.as_ref()) else { return };
        let src = rb.data();
        let line_end = src.iter().position(|&b| b == b'\r').unwrap_or(0);
        let line: [&[u8]; 1] = [&src[..line_end]];
        let mut edits = t.res_edits.clone();
        edits.push(HeaderEdit::Del("age".into()));
        let next = NextHead {
            first_line: &line,
            src,
            headers: &res.headers,
            edits: &edits,
            extra: &[],
            conn: ConnHeader::Default,
        };
        match next.write() {
            Some(out) if out.len() <= c.fill.as_ref().map_or(0, |f| f.max) => {
                if let Some(f) = c.fill.as_mut() {
                    f.head = out.data().to_vec();
                }
            }
            _ => c.fill = None,
        }
    }

    /// Body bytes about to be forwarded: copied for the cache.
    pub(super) fn cache_copy(h: &mut super::http::HttpPart, bytes: &[u8]) {
        let Some(c) = h.cache.as_mut() else { return };
        let Some(f) = c.fill.as_mut() else { return };
        if f.head.len() + f.body.len() + bytes.len() > f.max {
            c.fill = None; // larger than max-object-size: not stored
            return;
        }
        f.body.extend_from_slice(bytes);
    }

    /// The stream ends: a complete copy is stored.
    pub(super) fn cache_commit(&mut self, ctx: &StreamCtx<'_>) {
        let now = unix_now(ctx);
        let complete = !self.aborted
            && self.http.as_ref().is_some_and(|h| h.txn.res.is_some() && h.txn.res_body.is_done());
        let Some(h) = self.http.as_mut() else { return };
        let Some(c) = h.cache.as_mut() else { return };
        let Some(f) = c.fill.take() else { return };
        if !complete || f.head.is_empty() {
            return;
        }
        let Ok(Some(parsed)) = parse_response(&f.head, false, false) else { return };
        let parsed = StoredHead::of(&parsed);
        let etag = f.store.etag.clone();
        c.cache.store(Entry {
            primary: c.key,
            secondary: f.secondary.into(),
            head: f.head.into(),
            parsed,
            body: f.body.into(),
            stored_at: now as u64,
            age: f.store.age,
            expire: now as u64 + f.store.max_age,
            etag,
            last_modified: f.store.last_modified,
        });
    }
}

impl CacheState {
    /// A response is being copied.
    pub(super) fn filling(&self) -> bool {
        self.fill.is_some()
    }
}

/// `n` in decimal, written at the end of `out`.
fn decimal(mut n: u64, out: &mut [u8; 20]) -> &[u8] {
    let mut at = out.len();
    loop {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &out[at..];
        }
    }
}

/// Refills `res_out` with the next piece of a served entry's body.
pub(super) fn refill_cached_body(h: &mut super::http::HttpPart) {
    if h.res_out.is_some() {
        return;
    }
    let Some(c) = h.cache.as_mut() else { return };
    let Some((e, sent)) = c.body.as_mut() else { return };
    let mut out = Buffer::take();
    let n = out.push(&e.body[*sent..]);
    *sent += n;
    if *sent >= e.body.len() {
        c.body = None;
    }
    h.res_out = Some(out);
}
