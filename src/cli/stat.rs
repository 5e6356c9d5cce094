//! `show stat`: HAProxy 2.6's CSV, one line per frontend, server and
//! backend, with the 128 fields in HAProxy's order. A line starts from the
//! template of its kind (which fields HAProxy leaves empty, which print 0
//! when strata has no notion of them), then the runtime sets the values it
//! has.

use super::fields::{STAT_FIELDS, StatField};
use super::format::{OutFmt, Style, json_tags_value};
use std::fmt::Write;

/// The kind of a line (`type` field: 0, 2, 1, 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Frontend,
    Server,
    Backend,
    Socket, // a listener (`option socket-stats`)
}

pub const FIELDS: [&str; 128] = [
    "pxname",
    "svname",
    "qcur",
    "qmax",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "qlimit",
    "pid",
    "iid",
    "sid",
    "throttle",
    "lbtot",
    "tracked",
    "type",
    "rate",
    "rate_lim",
    "rate_max",
    "check_status",
    "check_code",
    "check_duration",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "hanafail",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "lastsess",
    "last_chk",
    "last_agt",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "agent_status",
    "agent_code",
    "agent_duration",
    "check_desc",
    "agent_desc",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "addr",
    "cookie",
    "mode",
    "algo",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "intercepted",
    "dcon",
    "dses",
    "wrew",
    "connect",
    "reuse",
    "cache_lookups",
    "cache_hits",
    "srv_icur",
    "src_ilim",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
    "eint",
    "idle_conn_cur",
    "safe_conn_cur",
    "used_conn_cur",
    "need_conn_est",
    "uweight",
    "agg_server_status",
    "agg_server_check_status",
    "agg_check_status",
    "-",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
    "h2_headers_rcvd",
    "h2_data_rcvd",
    "h2_settings_rcvd",
    "h2_rst_stream_rcvd",
    "h2_goaway_rcvd",
    "h2_detected_conn_protocol_errors",
    "h2_detected_strm_protocol_errors",
    "h2_rst_stream_resp",
    "h2_goaway_resp",
    "h2_open_connections",
    "h2_backend_open_streams",
    "h2_total_connections",
    "h2_backend_total_streams",
    "h1_open_connections",
    "h1_open_streams",
    "h1_total_connections",
    "h1_total_streams",
    "h1_bytes_in",
    "h1_bytes_out",
    "h1_spliced_bytes_in",
    "h1_spliced_bytes_out",
];
/// Field values of a line of each kind before the runtime fills it: `""`
/// means HAProxy prints nothing there, `0` a number strata has no notion of
/// (compression, caches, SSL, HTTP/2...) or that the runtime overwrites.
const FRONTEND_TEMPLATE: &str = "0,FRONTEND,,,0,0,0,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,0,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0";
const SERVER_TEMPLATE: &str = "0,0,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,0,0,0,,,0,,,1,0,0,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,0,,,0,0,0,0,,,,,,,,,,,,0,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,0,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,";
const SOCKET_TEMPLATE: &str = "0,0,,,0,0,0,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,0,0,,,,3,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,http,,,,,,0,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,";
const BACKEND_TEMPLATE: &str = "0,BACKEND,0,0,0,0,0,0,0,0,0,0,,0,0,0,0,UP,0,0,0,,0,0,0,,1,0,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,0,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0";

/// Fields HAProxy fills only in `mode http`.
const HTTP_ONLY: [&str; 10] = [
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "intercepted",
    "cache_lookups",
    "cache_hits",
    "req_tot",
];

/// One `show stat` line being built. Owned by whoever builds it.
#[derive(Clone, Debug)]
pub struct StatLine {
    pub kind: Kind,
    pub iid: u32, // proxy id (HAProxy's uuid)
    pub sid: u32, // server id, 0 for frontend and backend lines
    vals: Vec<String>,
}

impl StatLine {
    /// A line of `kind` for proxy `px` (and server `sv`), `http` telling the
    /// proxy's mode.
    pub fn new(kind: Kind, px: &str, sv: &str, iid: u32, sid: u32, http: bool) -> StatLine {
        let template = match kind {
            Kind::Frontend => FRONTEND_TEMPLATE,
            Kind::Server => SERVER_TEMPLATE,
            Kind::Backend => BACKEND_TEMPLATE,
            Kind::Socket => SOCKET_TEMPLATE,
        };
        let mut line = StatLine { kind, iid, sid, vals: template.split(',').map(str::to_owned).collect() };
        debug_assert_eq!(line.vals.len(), FIELDS.len());
        line.set("pxname", px);
        line.set("svname", sv);
        line.set("iid", iid);
        if matches!(kind, Kind::Server | Kind::Socket) {
            line.set("sid", sid);
        }
        if !http {
            line.set("mode", "tcp");
            for f in HTTP_ONLY {
                if kind == Kind::Frontend && f == "req_tot" {
                    continue; // a TCP frontend still prints req_tot
                }
                line.clear(f);
            }
        }
        line
    }

    /// Sets field `name` (one of [`FIELDS`]).
    pub fn set(&mut self, name: &str, v: impl std::fmt::Display) {
        if let Some(i) = FIELDS.iter().position(|f| *f == name) {
            self.vals[i] = v.to_string();
        } else {
            debug_assert!(false, "unknown stat field {name}");
        }
    }

    /// Leaves field `name` empty.
    pub fn clear(&mut self, name: &str) {
        self.set(name, "");
    }

    /// The field's current text.
    pub fn get(&self, name: &str) -> &str {
        FIELDS.iter().position(|f| *f == name).map_or("", |i| self.vals[i].as_str())
    }

    /// The kind's letter in typed output and its JSON `objType`, and its
    /// column in [`StatField::tags`].
    fn kind_names(&self) -> (char, &'static str, usize) {
        match self.kind {
            Kind::Frontend => ('F', "Frontend", 0),
            Kind::Backend => ('B', "Backend", 1),
            Kind::Server => ('S', "Server", 2),
            Kind::Socket => ('L', "Listener", 3),
        }
    }

    /// The fields HAProxy prints in typed and JSON output: those with a
    /// value, with their metadata and tags for this line's kind.
    fn typed_fields(&self) -> impl Iterator<Item = (&'static StatField, &'static str, &'static str, &str)> {
        let col = self.kind_names().2;
        // The CSV's `-` column separates the general fields from the modules'; it has no position.
        let values = self.vals.iter().enumerate().filter(|(i, _)| FIELDS[*i] != "-").map(|(_, v)| v);
        STAT_FIELDS.iter().zip(values).filter(|(_, v)| !v.is_empty()).map(move |(f, v)| {
            let tags = Some(f.tags[col])
                .filter(|t| !t.is_empty())
                .or_else(|| f.tags.iter().copied().find(|t| !t.is_empty()))
                .unwrap_or("MGP:u64");
            let (t, ty) = tags.split_once(':').unwrap_or((tags, "u64"));
            (f, t, ty, v.as_str())
        })
    }

    fn render_typed(&self, s: &mut String, desc: bool) {
        let (letter, _, _) = self.kind_names();
        for (f, tags, ty, v) in self.typed_fields() {
            let _ = write!(s, "{letter}.{}.{}.{}.{}.1:{tags}:{ty}:{v}", self.iid, self.sid, f.pos, f.name);
            if desc {
                let _ = write!(s, ":\"{}\"", f.desc);
            }
            s.push('\n');
        }
    }

    fn render_json(&self, s: &mut String) {
        let (_, obj, _) = self.kind_names();
        s.push('[');
        for (i, (f, tags, ty, v)) in self.typed_fields().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "{{\"objType\":\"{obj}\",\"proxyId\":{},\"id\":{},\"field\":{{\"pos\":{},\"name\":\"{}\"}},\"processNum\":1,",
                self.iid, self.sid, f.pos, f.name
            );
            json_tags_value(s, tags, ty, v);
            s.push('}');
        }
        s.push(']');
    }

    fn render(&self, out: &mut Vec<u8>) {
        for v in &self.vals {
            // HAProxy escapes nothing in CSV; commas never occur in strata's values.
            out.extend_from_slice(v.as_bytes());
            out.push(b',');
        }
        out.push(b'\n');
    }
}

/// `show stat [{<iid>|<proxy>} <type> <sid>] [typed|json] [desc] [up|no-maint]`:
/// the lines the filter keeps (`-1` = all; type is a mask: 1 frontends,
/// 2 backends, 4 servers) in the format asked for. Words HAProxy does not
/// know are ignored, as it does.
pub fn render(lines: &[StatLine], args: &[&str], out: &mut Vec<u8>) {
    let fmt = OutFmt::parse(args);
    let kept: Vec<&StatLine> = lines.iter().filter(|l| keep(l, args, fmt)).collect();
    match fmt.style {
        Style::Plain => {
            out.extend_from_slice(b"# ");
            out.extend_from_slice(FIELDS.join(",").as_bytes());
            out.extend_from_slice(b",\n");
            for l in kept {
                l.render(out);
            }
            out.push(b'\n');
        }
        Style::Typed => {
            let mut s = String::with_capacity(kept.len() * 4096);
            for l in kept {
                l.render_typed(&mut s, fmt.desc);
            }
            s.push('\n');
            out.extend_from_slice(s.as_bytes());
        }
        Style::Json => {
            let mut s = String::with_capacity(kept.len() * 16384);
            s.push('[');
            for (i, l) in kept.into_iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                l.render_json(&mut s);
            }
            s.push_str("]\n\n");
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// Whether `l` passes the `<iid> <type> <sid>` filter and `up`/`no-maint`.
fn keep(l: &StatLine, args: &[&str], fmt: OutFmt) -> bool {
    // Like HAProxy, a filter needs all three; the first may be a proxy name.
    let nums: Vec<i64> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (px, mask, sid) = match (args.first(), nums.as_slice()) {
        (Some(first), [t, s, ..]) if !is_format_word(first) => (Some(*first), *t, *s),
        _ => (None, -1, -1),
    };
    let bit = match l.kind {
        Kind::Frontend => 1,
        Kind::Backend => 2,
        Kind::Server => 4,
        Kind::Socket => 8,
    };
    let keep_px = match px {
        None | Some("-1") => true,
        Some(p) => p.parse::<i64>().map_or(l.get("pxname") == p, |iid| i64::from(l.iid) == iid),
    };
    let keep_type = mask == -1 || mask & bit != 0;
    let keep_sv = !matches!(l.kind, Kind::Server | Kind::Socket) || sid == -1 || i64::from(l.sid) == sid;
    let status = l.get("status");
    let keep_state = l.kind != Kind::Server
        || (!fmt.up || status.starts_with("UP") || status == "no check")
            && (!fmt.no_maint || !status.starts_with("MAINT"));
    keep_px && keep_type && keep_sv && keep_state
}

fn is_format_word(w: &str) -> bool {
    matches!(w, "typed" | "json" | "desc" | "up" | "no-maint")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_every_field() {
        for kind in [Kind::Frontend, Kind::Server, Kind::Backend, Kind::Socket] {
            let l = StatLine::new(kind, "p", "s", 2, 1, true);
            assert_eq!(l.vals.len(), FIELDS.len(), "{kind:?}");
        }
    }

    #[test]
    fn tcp_lines_leave_http_fields_empty() {
        let l = StatLine::new(Kind::Backend, "bt", "BACKEND", 3, 0, false);
        assert_eq!(l.get("hrsp_2xx"), "");
        assert_eq!(l.get("mode"), "tcp");
        let f = StatLine::new(Kind::Frontend, "ft", "FRONTEND", 2, 0, false);
        assert_eq!(f.get("req_tot"), "0");
    }

    #[test]
    fn filter_by_type_mask() {
        let lines = [
            StatLine::new(Kind::Frontend, "f", "FRONTEND", 2, 0, true),
            StatLine::new(Kind::Server, "b", "s1", 3, 1, true),
            StatLine::new(Kind::Backend, "b", "BACKEND", 3, 0, true),
        ];
        let mut out = Vec::new();
        render(&lines, &["-1", "4", "-1"], &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().filter(|l| !l.is_empty()).count(), 2, "{text}"); // header + the server
        assert!(text.lines().nth(1).unwrap().starts_with("b,s1,"));
    }
}
