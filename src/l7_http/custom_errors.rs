//! The error pages each proxy configured (`errorfile`, `errorfiles`,
//! `http-error`), looked up when strata answers by itself: the backend's
//! page for the status if it has one, else the frontend's, else HAProxy's
//! built-in answer (`errors.rs`). As in HAProxy 2.6, the raw 400/408 of
//! the H1 mux keep the built-in text.
//!
//! Per worker thread: the worker installs the configuration's pages once
//! when it starts; pages are shared bytes, so a lookup copies nothing.

use crate::cfg::Config;
use crate::cfg::errorpages::ErrorPage;
use std::cell::RefCell;

thread_local! {
    static PAGES: RefCell<Vec<Vec<ErrorPage>>> = const { RefCell::new(Vec::new()) };
}

/// Installs the pages of every proxy of `cfg` for this thread.
pub fn install(cfg: &Config) {
    PAGES.with(|p| *p.borrow_mut() = cfg.proxies.iter().map(|px| px.knobs.error_pages.clone()).collect());
}

/// The page for `code` of a stream of `frontend` routed to `backend`.
pub fn find(backend: Option<usize>, frontend: usize, code: u16) -> Option<ErrorPage> {
    PAGES.with(|p| {
        let p = p.borrow();
        let of = |i: usize| p.get(i).and_then(|pages| pages.iter().find(|pg| pg.code == code)).cloned();
        backend.and_then(of).or_else(|| of(frontend))
    })
}
