//! Internal services: requests strata answers itself instead of
//! forwarding them (design §4). The stream (`l6_stream::service`) decides
//! that a service answers and lends the request; the runtime's
//! `ServiceHost` gathers the numbers and calls these modules:
//!
//! - [`stats_page`]: `stats uri` — the HTML page, `;csv`, `;json`, the
//!   admin form, auth and realm ([`stats_html`] writes the page,
//!   [`stats_modules`] its `show-modules` columns, [`stats_admin`] applies the form, [`top_entries`] the stick-table
//!   section).
//! - [`prometheus`]: `use-service prometheus-exporter`, HAProxy 2.6's
//!   metrics ([`prom_metrics`]) and strata's own.
//! - [`static_files`]: `use-service strata.static root DIR`.
//! - [`reply`]: building response heads.

pub mod http_date;
pub mod prom_metrics;
pub mod prometheus;
pub mod reply;
pub mod static_files;
pub mod stats_admin;
pub mod stats_html;
pub mod stats_modules;
pub mod stats_page;
pub mod top_entries;

use crate::cfg::Config;
use crate::cli::ProcessInfo;
use crate::cli::stat::StatLine;
use crate::stick::Registry;

/// The process's numbers a page or a scrape prints, gathered by the
/// runtime for one request.
pub struct ServiceData<'a> {
    pub lines: &'a [StatLine],
    pub info: &'a ProcessInfo,
    pub cfg: &'a Config,
    pub tables: &'a Registry,
    pub now_ms: u64,
    pub audit: Option<Audit>, // the last `debug counters check` result, if one ran
}

/// The result of the runtime's periodic counters audit
/// (`debug counters check`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    pub consistent: bool,
    pub entries: u64,
    pub trackers: u64,
}
