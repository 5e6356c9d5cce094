//! The error pages each proxy configured (`errorfile`, `errorfiles`,
//! `http-error`), looked up when strata answers by itself: the backend's
//! page for the status if it has one, else the frontend's, else HAProxy's
//! built-in answer (`errors.rs`). As in HAProxy 2.6, the raw 400/408 of
//! the H1 mux keep the built-in text. An `http-error` page with `hdr` or
//! `lf-string`/`lf-file` parts comes with its compiled reply, rendered for
//! each answer by the stream.
//!
//! Per worker thread: the worker installs the configuration's pages once
//! when it starts; pages are shared bytes, so a lookup copies nothing.

use super::reply::DynReply;
use crate::cfg::Config;
use crate::cfg::errorpages::ErrorPage;
use std::cell::RefCell;
use std::rc::Rc;

/// A configured page, with its reply when it has a format.
#[derive(Clone)]
pub struct Page {
    pub page: ErrorPage,
    pub dynamic: Option<Rc<DynReply>>, // render this for each answer (`page.bytes` is its literal fallback)
}

thread_local! {
    static PAGES: RefCell<Vec<Vec<Page>>> = const { RefCell::new(Vec::new()) };
}

/// Installs the pages of every proxy of `cfg` for this thread.
pub fn install(cfg: &Config) {
    let of = |p: &ErrorPage| Page {
        page: p.clone(),
        // The configuration's load checked the formats (`l6_stream::rules`).
        dynamic: p.format.as_ref().and_then(|f| DynReply::from_page(p.code, f).ok()).map(Rc::new),
    };
    let pages = cfg.proxies.iter().map(|px| px.knobs.error_pages.iter().map(of).collect()).collect();
    PAGES.with(|p| *p.borrow_mut() = pages);
}

/// The page for `code` of a stream of `frontend` routed to `backend`.
pub fn find(backend: Option<usize>, frontend: usize, code: u16) -> Option<Page> {
    PAGES.with(|p| {
        let p = p.borrow();
        let of = |i: usize| p.get(i).and_then(|pages| pages.iter().find(|pg| pg.page.code == code)).cloned();
        backend.and_then(of).or_else(|| of(frontend))
    })
}
