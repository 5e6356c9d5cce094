//! Parser: configuration texts → [`Config`], section by section.
//!
//! Each line is split by the `lexer`, then its first word is either a
//! section header (`global`, `defaults`, `frontend`, `backend`, `listen`)
//! or a keyword of the section in progress. Every problem becomes an alert
//! at the line's `Loc` and parsing goes on, so one run reports them all.
//! Cross-section checks (names, duplicates, modes) are `resolve`'s.
//!
//! Files are read in order as one configuration, but a section never
//! continues into the next file (HAProxy's rule).

mod addr;
mod args;
mod balance;
mod bind;
mod bind_threads;
mod cache;
mod capture;
mod check_expect;
mod checks;
mod compression;
mod defaults_rules;
mod errors;
mod fcgi;
mod global;
mod global_known;
mod h2tune;
mod http_opts;
mod ids;
mod intercept;
mod known;
mod log;
mod logfmt;
mod option_flags;
mod options;
mod paths;
mod peers;
mod persist;
mod process;
mod proxy;
mod proxy_misc;
mod removed;
mod resolvers;
mod rule_order;
mod section;
mod server;
pub use server::dynamic as dynamic_server;
mod server_opts;
mod srv_select;
mod ssl_global;
mod ssl_opts;
pub use ssl_opts::crt_list_option;
mod stats;
mod stats_page;
mod stick;
mod syslog;
mod tcp_response;
mod threads;
mod tune;
mod userlist;

use super::diag::{Diag, Diagnostics};
use super::lexer;
use super::model::{Config, Loc};
use super::preproc::{Outcome, Preproc};
use section::Sections;

/// Parses configuration texts given as (file name, contents), in order.
/// Problems are pushed to `diags`; the returned configuration holds every
/// section that could be read and is only meaningful without alerts.
pub fn parse(texts: &[(String, String)], diags: &mut Diagnostics) -> Config {
    let mut s = Sections::default();
    paths::reset();
    'files: for (file, text) in texts {
        paths::enter_file(file);
        let mut pre = Preproc::default();
        let mut loc = Loc { file: file.clone(), line: 0 };
        for (n, raw) in text.lines().enumerate() {
            loc = Loc { file: file.clone(), line: n + 1 };
            let pseudo = |name: &str| match name {
                ".LINE" => Some(loc.line.to_string()),
                ".FILE" => Some(file.clone()),
                ".SECTION" => Some(s.name().to_owned()),
                _ => s.env_lookup(name),
            };
            let words = match lexer::split_line_with(raw, &pseudo) {
                Ok(w) => w,
                Err(e) => {
                    diags.push(Diag::alert(&loc, e.render(raw)));
                    continue;
                }
            };
            // HAProxy skips a line whose first word is empty (blank, comment, `""`).
            if words.first().is_none_or(|w| w.is_empty()) {
                continue;
            }
            // `.if defined(X)` sees the `setenv` lines above, as the lexer does.
            let outcome = pre.line(&words, &loc, &|name: &str| s.env_lookup(name), diags);
            match outcome {
                Outcome::Keep => {
                    s.line(&loc, &words, diags);
                    // A keyword may abort too (a duplicate `resolvers` name).
                    if diags.aborted {
                        break 'files;
                    }
                }
                Outcome::Consumed => {}
                Outcome::StopFile => break,
                Outcome::StopAll => {
                    pre.end_of_file(&loc, diags);
                    diags.aborted = true;
                    break 'files;
                }
                Outcome::Abort => {
                    diags.aborted = true;
                    break 'files;
                }
            }
        }
        if pre.end_of_file(&loc, diags) == Outcome::Abort {
            diags.aborted = true;
            break;
        }
        s.close();
    }
    let mut cfg = s.finish();
    ids::number(&mut cfg, diags);
    cfg
}

#[cfg(test)]
mod tests;
