//! The HTML stats page in HAProxy 2.6's layout: the general process
//! information, the status legend and display options, one table per
//! proxy (frontend, servers, backend) with HAProxy's column groups and
//! row classes (its status colours), the admin form when allowed — and,
//! beyond HAProxy, every stick table with its busiest entries.

use super::ServiceData;
use super::reply::html_escape;
use super::stats_modules;
use super::stats_page::Opts;
use super::top_entries::{EntryRow, top};
use crate::cfg::Proxy;
use crate::cli::info::HAPROXY_INTERFACE;
use crate::cli::stat::{Kind, StatLine};
use std::fmt::Write;

/// The style sheet: HAProxy's class names and status colours.
const STYLE: &str = "body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white;}
th,td { font-size: 10px;}
h1 { font-size: x-large; margin-bottom: 0.5em;}
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin-top: 0em; margin-bottom: 0em;}
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin-top: 0em; margin-bottom: 0em;}
li { margin-top: 0.25em; margin-right: 2em;}
.hr {margin-top: 0.25em; border-color: black; border-bottom-style: solid;}
.titre {background: #20D0D0;color: #000000; font-weight: bold; text-align: center;}
.frontend {background: #e8e8d0;}
.backend {background: #e8e8d0;}
.active_down {background: #ff9090;}
.active_going_up {background: #ffd020;}
.active_going_down {background: #ffffa0;}
.active_up {background: #c0ffc0;}
.active_nolb {background: #20a0ff;}
.active_draining {background: #20a0FF;}
.active_no_check {background: #e0e0e0;}
.backup_down {background: #ff9090;}
.backup_going_up {background: #ff80ff;}
.backup_going_down {background: #c060ff;}
.backup_up {background: #b0d0ff;}
.backup_nolb {background: #90b0e0;}
.backup_draining {background: #cc9900;}
.backup_no_check {background: #e0e0e0;}
.maintain {background: #c07820;}
a.px:link, a.px:visited {color: #ffff40; text-decoration: none;}
a.lfsb:link, a.lfsb:visited {color: #000000; text-decoration: none;}
table.tbl { border-collapse: collapse; border-style: none;}
table.tbl td { text-align: right; border-width: 1px; border-style: solid; padding: 2px 3px; border-color: gray; white-space: nowrap;}
table.tbl td.ac { text-align: center;}
table.tbl td.al { text-align: left;}
table.tbl th { border-width: 1px; border-style: solid; border-color: gray;}
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; padding: 2px 3px; white-space: nowrap;}
table.tbl th.empty { border-style: none; empty-cells: hide; background: white;}
table.lgd { border-collapse: collapse; border-width: 1px; border-style: none none none solid; border-color: black;}
table.lgd td { border-width: 1px; border-style: solid; border-color: gray; padding: 2px;}
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap;}
";

/// HAProxy's `human_time`: `7s`, `5m6s`, `3h4m`, `1d2h`.
fn human_time(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{}m", s / 3600, s / 60 % 60),
        s => format!("{}d{}h", s / 86400, s / 3600 % 24),
    }
}

/// The row class of a server line: HAProxy's status colours.
fn server_class(l: &StatLine) -> &'static str {
    let status = l.get("status");
    let backup = l.get("bck") == "1";
    let pick = |active: &'static str, backup_class: &'static str| if backup { backup_class } else { active };
    if status.starts_with("MAINT") {
        "maintain"
    } else if status == "no check" {
        pick("active_no_check", "backup_no_check")
    } else if status.starts_with("DRAIN") {
        pick("active_draining", "backup_draining")
    } else if status.starts_with("NOLB") {
        pick("active_nolb", "backup_nolb")
    } else if status.starts_with("UP ") {
        pick("active_going_down", "backup_going_down")
    } else if status.starts_with("DOWN ") {
        pick("active_going_up", "backup_going_up")
    } else if status.starts_with("UP") {
        pick("active_up", "backup_up")
    } else {
        pick("active_down", "backup_down")
    }
}

/// `<td>` cells for the given fields of `l` (an empty field: an empty cell).
fn cells(s: &mut String, l: &StatLine, fields: &[&str]) {
    for f in fields {
        let v = l.get(f);
        let _ = write!(s, "<td>{}</td>", html_escape(v));
    }
}

fn yes_no(v: &str) -> &'static str {
    if v == "1" { "Y" } else { "-" }
}

/// One frontend, server or backend row.
fn row(s: &mut String, px: &str, l: &StatLine, admin: bool, modules: bool) {
    let (class, label) = match l.kind {
        Kind::Frontend => ("frontend", "Frontend".to_owned()),
        Kind::Backend => ("backend", "Backend".to_owned()),
        Kind::Server => (server_class(l), l.get("svname").to_owned()),
        Kind::Socket => ("socket", l.get("svname").to_owned()),
    };
    let name = html_escape(&label);
    let _ = write!(s, "<tr class=\"{class}\">");
    if admin {
        if l.kind == Kind::Server {
            let _ = write!(
                s,
                "<td><input class='{}-checkbox' type=\"checkbox\" name=\"s\" value=\"{name}\"></td>",
                html_escape(px)
            );
        } else {
            s.push_str("<td></td>");
        }
    }
    let pxe = html_escape(px);
    let _ = write!(
        s,
        "<td class=ac><a name=\"{pxe}/{name}\"></a><a class=lfsb href=\"#{pxe}/{name}\">{name}</a></td>"
    );
    match l.kind {
        Kind::Frontend | Kind::Socket => {
            s.push_str("<td colspan=3></td>");
            if l.kind == Kind::Socket {
                s.push_str("<td colspan=3></td>"); // a listener has no session rate
                cells(s, l, &["scur", "smax", "slim", "stot"]);
            } else {
                cells(s, l, &["rate", "rate_max", "rate_lim", "scur", "smax", "slim", "stot"]);
            }
            s.push_str("<td></td><td></td>");
            cells(s, l, &["bin", "bout", "dreq", "dresp", "ereq"]);
            s.push_str("<td></td><td></td><td></td><td></td>");
            let _ = write!(s, "<td class=ac>{}</td>", html_escape(l.get("status")));
            s.push_str("<td></td><td></td><td></td><td></td><td></td><td></td><td></td><td></td>");
        }
        Kind::Server | Kind::Backend => {
            let qlimit =
                if l.kind == Kind::Server && l.get("qlimit").is_empty() { "-" } else { l.get("qlimit") };
            let _ = write!(s, "<td>{}</td><td>{}</td><td>{}</td>", l.get("qcur"), l.get("qmax"), qlimit);
            cells(s, l, &["rate", "rate_max"]);
            s.push_str("<td></td>");
            let slim = if l.kind == Kind::Server && l.get("slim").is_empty() { "-" } else { l.get("slim") };
            let _ = write!(s, "<td>{}</td><td>{}</td><td>{}</td>", l.get("scur"), l.get("smax"), slim);
            cells(s, l, &["stot", "lbtot"]);
            let last = l.get("lastsess").parse::<i64>().ok().filter(|&v| v >= 0);
            let _ = write!(s, "<td>{}</td>", last.map_or_else(|| "?".to_owned(), |v| human_time(v as u64)));
            cells(s, l, &["bin", "bout", "dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis"]);
            let since = l.get("lastchg").parse::<u64>().map(human_time).unwrap_or_default();
            let _ = write!(s, "<td class=ac>{since} {}</td>", html_escape(l.get("status")));
            let chk = l.get("check_status");
            let _ = write!(s, "<td class=ac>{}</td>", html_escape(chk));
            let _ = write!(s, "<td class=ac>{}/{}</td>", l.get("weight"), l.get("uweight"));
            if l.kind == Kind::Server {
                let _ = write!(
                    s,
                    "<td class=ac>{}</td><td class=ac>{}</td>",
                    yes_no(l.get("act")),
                    yes_no(l.get("bck"))
                );
            } else {
                cells(s, l, &["act", "bck"]);
            }
            let down = l.get("downtime").parse::<u64>().map(human_time).unwrap_or_default();
            let _ = write!(
                s,
                "<td>{}</td><td>{}</td><td>{down}</td><td class=ac>-</td>",
                l.get("chkfail"),
                l.get("chkdown")
            );
        }
    }
    if modules {
        stats_modules::cells(s, l);
    }
    s.push_str("</tr>\n");
}

/// The two title rows of a proxy table.
fn titles(s: &mut String, px: &str, admin: bool, modules: bool) {
    s.push_str("<tr class=\"titre\">");
    if admin {
        let p = html_escape(px);
        let _ = write!(
            s,
            "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('{p}-checkbox')) document.getElementsByClassName('{p}-checkbox').item(c).checked = this.checked\"></th>"
        );
    }
    s.push_str("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th>");
    if modules {
        stats_modules::group_title(s);
    }
    s.push_str("</tr>\n");
    s.push_str("<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>");
    if modules {
        stats_modules::names(s);
    }
    s.push_str("</tr>\n");
}

/// The admin form's action list (HAProxy's state actions, then strata's weight).
const ACTIONS: &str = "<option value=\"\"></option><option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option><option value=\"weight\">Set weight to (strata)</option>";

/// The message HAProxy shows after an admin action (`;st=`).
fn status_message(st: &str) -> Option<(&'static str, &'static str)> {
    Some(match st {
        "DONE" => ("active_up", "Action processed successfully."),
        "PART" => ("active_going_down", "Action partially processed."),
        "NONE" => ("active_going_down", "Nothing has changed."),
        "DENY" => ("active_down", "Action denied."),
        "EXCD" => ("active_down", "Action not processed : the buffer couldn't store all the data."),
        "ERRP" => ("active_down", "Action not processed because of invalid parameters."),
        _ => return None,
    })
}

/// The whole page for proxy `own` (whose `stats` settings apply).
pub fn page(own: &Proxy, lines: &[StatLine], admin: bool, opts: &Opts, data: &ServiceData<'_>) -> String {
    let st = &own.stats;
    let info = data.info;
    let uri = html_escape(st.uri());
    let mut s = String::with_capacity(16_384 + lines.len() * 1024);
    s.push_str("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n");
    s.push_str(
        "<html><head><title>Statistics Report for HAProxy</title>\n<link rel=\"icon\" href=\"data:,\">\n",
    );
    s.push_str("<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n<style type=\"text/css\"><!--\n");
    s.push_str(STYLE);
    s.push_str("-->\n</style></head>\n<body>");
    if st.hide_version {
        s.push_str("<h1>strata</h1>\n");
    } else {
        let _ = writeln!(
            s,
            "<h1>strata version {} (HAProxy {HAPROXY_INTERFACE} interface), released 2026/11/22</h1>",
            env!("CARGO_PKG_VERSION")
        );
    }
    let _ = write!(s, "<h2>Statistics Report for pid {}", info.pid);
    if let Some(node) = &st.show_node {
        let name = if node.is_empty() { info.node.as_str() } else { node.as_str() };
        let _ = write!(s, " on {}", html_escape(name));
    }
    s.push_str("</h2>\n");
    if let Some(desc) = &st.show_desc {
        let text = if desc.is_empty() { info.description.clone().unwrap_or_default() } else { desc.clone() };
        let _ = writeln!(s, "<h2>{}</h2>", html_escape(&text));
    }
    s.push_str("<hr width=\"100%\" class=\"hr\">\n<h3>&gt; General process information</h3>\n");
    let up = info.uptime_us / 1_000_000;
    let _ = write!(
        s,
        "<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n<p><b>pid = </b> {} (process #1, nbproc = 1, nbthread = {})<br>\n<b>uptime = </b> {}d {}h{:02}m{:02}s<br>\n<b>system limits:</b> memmax = unlimited; ulimit-n = {}<br>\n<b>maxsock = </b> {}; <b>maxconn = </b> {}; <b>maxpipes = </b> 0<br>\ncurrent conns = {}; current pipes = 0/0; conn rate = {}/sec; bit rate = {:.3} kbps<br>\nRunning tasks: 0/{}; idle = {} %<br>\n</td><td align=\"center\" nowrap>\n",
        info.pid,
        info.nbthread,
        up / 86400,
        up / 3600 % 24,
        up / 60 % 60,
        up % 60,
        info.ulimit_n,
        info.ulimit_n,
        info.maxconn,
        info.curr_conns,
        info.conn_rate,
        info.bytes_out_rate as f64 * 8.0 / 1000.0,
        info.tasks,
        info.idle_pct
    );
    legend(&mut s);
    let _ = write!(
        s,
        "</td><td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\"><li><form method=\"GET\">Scope : <input value=\"{}\" name=\"scope\" size=\"8\" maxlength=\"20\" tabindex=\"1\"/></form>\n<li><a href=\"{uri}{}\">{}</a><br>\n",
        html_escape(opts.scope.as_deref().unwrap_or_default()),
        if opts.up { "" } else { ";up" },
        if opts.up { "Show all servers" } else { "Hide 'DOWN' servers" }
    );
    if st.refresh.is_some() && !opts.norefresh {
        let _ = writeln!(s, "<li><a href=\"{uri};norefresh\">Disable refresh</a><br>");
    }
    let _ = write!(
        s,
        "<li><a href=\"{uri}\">Refresh now</a><br>\n<li><a href=\"{uri};csv;norefresh\">CSV export</a><br>\n<li><a href=\"{uri};json;norefresh\">JSON export</a> (<a href=\"{uri};json-schema\">schema</a>)<br>\n</ul></td></tr></table>\n"
    );
    if let Some((class, text)) = opts.st.as_deref().and_then(status_message) {
        let _ = writeln!(
            s,
            "<p><div class={class}><a class=lfsb href=\"{uri}\" title=\"Remove this message\">[X]</a> {text}</div>"
        );
    }
    s.push_str("<p>\n");
    proxies(&mut s, lines, admin, st.show_modules, data);
    stick_tables(&mut s, own, opts, data);
    s.push_str("</body></html>\n");
    s
}

fn legend(s: &mut String) {
    s.push_str("<table class=\"lgd\"><tr>\n<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td><td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td><td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td><td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td><td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\nNote: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.");
}

/// One table per proxy, in `show stat` order.
fn proxies(s: &mut String, lines: &[StatLine], admin: bool, modules: bool, data: &ServiceData<'_>) {
    let mut i = 0;
    while i < lines.len() {
        let px = lines[i].get("pxname").to_owned();
        let end = lines[i..].iter().position(|l| l.get("pxname") != px).map_or(lines.len(), |n| i + n);
        let group = &lines[i..end];
        let is_backend = group.iter().any(|l| l.kind == Kind::Backend);
        let with_form = admin && is_backend && group.iter().any(|l| l.kind == Kind::Server);
        let p = html_escape(&px);
        if with_form {
            s.push_str("<form method=\"post\">");
        }
        // the proxy's `description`, as HAProxy heads its table: as written
        // (HAProxy does not escape it, so an operator's markup is kept)
        let desc =
            data.cfg.proxies.iter().find(|x| x.name == px).and_then(|x| x.knobs.description.as_deref());
        let (class, text) = desc.map_or(("empty", ""), |d| ("desc", d));
        let _ = write!(
            s,
            "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{p}\"></a><a class=px href=\"#{p}\">{p}</a></th><th class=\"{class}\" width=\"90%\">{text}</th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n"
        );
        titles(s, &px, admin, modules);
        for l in group {
            row(s, &px, l, admin, modules);
        }
        s.push_str("</table>");
        if with_form {
            let iid = data.cfg.proxy(&px).map_or(0, |p| p.id);
            let _ = write!(
                s,
                "Choose the action to perform on the checked servers : <select name=action>{ACTIONS}</select> weight: <input name=\"w\" size=\"4\"><input type=\"hidden\" name=\"b\" value=\"#{iid}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>"
            );
        }
        s.push_str("<p>\n");
        i = end;
    }
}

fn entry_rows(s: &mut String, title: &str, rows: &[EntryRow]) {
    let dash = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let _ = write!(
        s,
        "<tr class=\"titre\"><th colspan=7>{title}</th></tr>\n<tr class=\"titre\"><th>Key</th><th>conn_cur</th><th>conn_rate</th><th>http_req_rate</th><th>http_req_cnt</th><th>use</th><th>exp</th></tr>\n"
    );
    if rows.is_empty() {
        s.push_str("<tr class=\"frontend\"><td class=al colspan=7>no entry</td></tr>\n");
    }
    for r in rows {
        let _ = writeln!(
            s,
            "<tr class=\"frontend\"><td class=al>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&r.key),
            dash(r.conn_cur),
            dash(r.conn_rate),
            dash(r.http_req_rate),
            dash(r.http_req_cnt),
            r.refs,
            human_time(r.expire_ms / 1000)
        );
    }
}

/// strata's section: each stick table, its size and use, and its ten
/// busiest entries by `conn_cur` and by `http_req_rate` (lists for data
/// a table does not store are left out).
fn stick_tables(s: &mut String, own: &Proxy, opts: &Opts, data: &ServiceData<'_>) {
    let tables: Vec<_> = data
        .tables
        .tables()
        .filter(|t| super::stats_page::in_scope(&own.stats, &own.name, t.name(), opts))
        .collect();
    if tables.is_empty() {
        return;
    }
    s.push_str("<h3>&gt; Stick tables</h3>\n");
    for t in tables {
        let top = top(t, 10, data.now_ms);
        let name = html_escape(t.name());
        let _ = write!(
            s,
            "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"table-{name}\"></a><a class=px href=\"#table-{name}\">table {name}</a></th><th class=\"empty\" width=\"90%\">type {}, size {}, used {}, trackers {}</th></tr>\n</table>\n<table class=\"tbl\" width=\"50%\" id=\"sticktable-{name}\">\n",
            t.key_type().name(),
            t.size(),
            top.entries,
            top.trackers
        );
        if !top.by_conn_cur.is_empty() {
            entry_rows(s, "Top 10 by conn_cur", &top.by_conn_cur);
        }
        if !top.by_req_rate.is_empty() {
            entry_rows(s, "Top 10 by http_req_rate", &top.by_req_rate);
        }
        if top.by_conn_cur.is_empty() && top.by_req_rate.is_empty() {
            s.push_str(
                "<tr class=\"frontend\"><td class=al>stores neither conn_cur nor http_req_rate</td></tr>\n",
            );
        }
        s.push_str("</table><p>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_times_as_haproxy() {
        assert_eq!(human_time(7), "7s");
        assert_eq!(human_time(683), "11m23s");
        assert_eq!(human_time(3 * 3600 + 4 * 60), "3h4m");
        assert_eq!(human_time(86400 + 7200), "1d2h");
    }
}
