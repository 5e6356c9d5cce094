//! The HTTP stats page (`stats uri`): what a request asks for (`;csv`,
//! `;json`, `;json-schema`, `;up`, `;no-maint`, `;norefresh`, `;st=`,
//! `?scope=`), `stats auth`/`stats realm` (401), `stats scope`, and the
//! CSV/JSON bodies, which are `show stat`'s. The HTML is
//! [`super::stats_html`], the admin form [`super::stats_admin`].

use super::reply::{base64_decode, reply, url_decode};
use super::{ServiceData, stats_html};
use crate::cfg::{Proxy, StatsAction, StatsPage};
use crate::cli::stat::{self, Kind, StatLine};
use crate::l6_stream::service::ServiceReply;
use crate::l7_http::head::find;
use crate::l7_http::txn::{MethodKind, Txn};

/// What one stats request asks for, from the URI after the `stats uri`
/// prefix (HAProxy looks for each `;word` anywhere in it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Opts {
    pub csv: bool,
    pub json: bool,
    pub json_schema: bool,
    pub up: bool,       // `;up`: hide servers that are not up
    pub no_maint: bool, // `;no-maint`
    pub norefresh: bool,
    pub scope: Option<String>, // `?scope=NAME`: proxies whose name contains NAME (any case)
    pub st: Option<String>,    // `;st=DONE|PART|NONE|DENY|EXCD|ERRP`: the admin form's outcome
}

impl Opts {
    /// Reads the options of `uri` for a page whose prefix is `prefix`.
    pub fn parse(uri: &[u8], prefix: &str) -> Opts {
        let rest = String::from_utf8_lossy(uri.get(prefix.len()..).unwrap_or_default()).into_owned();
        let (path, query) = rest.split_once('?').unwrap_or((rest.as_str(), ""));
        let has = |w: &str| path.split(';').any(|p| p == w);
        let scope = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("scope="))
            .map(|v| String::from_utf8_lossy(&url_decode(v.as_bytes())).chars().take(20).collect::<String>());
        let st = path.split(';').find_map(|p| p.strip_prefix("st=")).map(|v| v.chars().take(4).collect());
        Opts {
            csv: has("csv"),
            json: has("json"),
            json_schema: has("json-schema"),
            up: has("up"),
            no_maint: has("no-maint"),
            norefresh: has("norefresh"),
            scope: scope.filter(|s| !s.is_empty()),
            st,
        }
    }
}

/// What `stats http-request` (its first matching rule, `rule`) and
/// `stats auth` say: HAProxy's 403 or 401, or None when the request may
/// pass. A proxy has one or the other (HAProxy refuses both).
pub fn refuse(page: &StatsPage, rule: Option<&StatsAction>, txn: &Txn) -> Option<ServiceReply> {
    match rule {
        Some(StatsAction::Allow) => None,
        Some(StatsAction::Deny) => {
            let bytes = crate::l7_http::errors::BuiltinStatus::Forbidden.bytes().to_vec();
            Some(ServiceReply { status: 403, bytes, file: None })
        }
        Some(StatsAction::Auth(realm)) => Some(unauthorized(realm.as_deref().unwrap_or(page.realm()))),
        None => refuse_auth(page, txn),
    }
}

/// HAProxy's 401 when `stats auth` is set and the request carries no
/// matching `Authorization: Basic` account; None when it may pass.
pub fn refuse_auth(page: &StatsPage, txn: &Txn) -> Option<ServiceReply> {
    if page.auth.is_empty() {
        return None;
    }
    let buf = txn.req_bytes();
    let ok = find(buf, &txn.req.headers, "authorization").any(|v| {
        let v = v.trim_ascii();
        let Some(b64) = v.strip_prefix(b"Basic ").or_else(|| v.strip_prefix(b"basic ")) else { return false };
        let Some(account) = base64_decode(b64.trim_ascii()) else { return false };
        page.auth.iter().any(|(u, p)| account == format!("{u}:{p}").as_bytes())
    });
    if ok {
        return None;
    }
    Some(unauthorized(page.realm()))
}

/// HAProxy's 401 asking for credentials for `realm`.
fn unauthorized(realm: &str) -> ServiceReply {
    let body = b"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
    // HAProxy's bytes: content-length first, then the others.
    let mut bytes = format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"{}\"\r\n\r\n",
        body.len(),
        realm
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    ServiceReply { status: 401, bytes, file: None }
}

/// Whether the proxy `px` appears on the page of `page` asked with `opts`.
pub fn in_scope(page: &StatsPage, own: &str, px: &str, opts: &Opts) -> bool {
    let configured = page.scope.is_empty() || page.scope.iter().any(|s| s == px || (s == "." && px == own));
    let asked = opts.scope.as_ref().is_none_or(|s| px.to_ascii_lowercase().contains(&s.to_ascii_lowercase()));
    configured && asked
}

/// The lines of `data` the page shows: in scope, `;up`/`;no-maint`
/// applied, and (without `stats show-legends`) no server address, cookie
/// or algorithm, as HAProxy hides them on the HTTP page.
pub fn visible_lines(px: &Proxy, data: &ServiceData<'_>, opts: &Opts) -> Vec<StatLine> {
    data.lines
        .iter()
        .filter(|l| in_scope(&px.stats, &px.name, l.get("pxname"), opts))
        .filter(|l| {
            let status = l.get("status");
            l.kind != Kind::Server
                || (!opts.up || status.starts_with("UP") || status == "no check")
                    && (!opts.no_maint || !status.starts_with("MAINT"))
        })
        .map(|l| {
            let mut l = l.clone();
            if !px.stats.show_legends {
                for f in ["addr", "cookie", "algo"] {
                    if !l.get(f).is_empty() {
                        l.clear(f);
                    }
                }
            }
            l
        })
        .collect()
}

/// Answers a GET/HEAD on the page of proxy `px` (after auth passed).
pub fn render(px: &Proxy, txn: &Txn, admin: bool, data: &ServiceData<'_>) -> ServiceReply {
    let opts = Opts::parse(txn.uri_bytes(), px.stats.uri());
    let head_only = txn.method == MethodKind::Head;
    let mut extra = Vec::new();
    if let (Some(every), false) = (px.stats.refresh, opts.norefresh) {
        extra.push(format!("refresh: {}", every.as_secs().max(1)));
    }
    let lines = visible_lines(px, data, &opts);
    if opts.json_schema {
        let mut out = Vec::new();
        crate::cli::process_cmds::show_schema_into(&mut out);
        return reply(200, "application/json", &extra, &out, head_only);
    }
    if opts.csv || opts.json {
        let mut out = Vec::new();
        let words: &[&str] = if opts.json { &["json"] } else { &[] };
        stat::render(&lines, words, &mut out);
        let ctype = if opts.json { "application/json" } else { "text/plain" };
        return reply(200, ctype, &extra, &out, head_only);
    }
    let html = stats_html::page(px, &lines, admin, &opts, data);
    reply(200, "text/html", &extra, html.as_bytes(), head_only)
}
