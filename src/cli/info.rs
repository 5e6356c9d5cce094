//! `show info [typed|json|desc|float]`: HAProxy 2.6's fields, in its order
//! and formats, with strata's real values; fields strata has no notion of
//! (SSL, pipes, compression, peers...) print 0.
//!
//! `Name` is `HAProxy` and `Version` begins with the HAProxy version whose
//! interface strata follows (`2.6.12-strata-0.1.0`): tools check these
//! lines as browsers check `Mozilla/5.0`. `Build info` names strata.

use super::fields::INFO_FIELDS;
use super::format::{OutFmt, Style, json_str, json_tags_value};
use std::fmt::Write;

/// The HAProxy version whose runtime API and stats formats strata follows.
pub const HAPROXY_INTERFACE: &str = "2.6.12";

/// `Version:` of `show info`: the interface version, then strata's.
pub fn version() -> String {
    format!("{HAPROXY_INTERFACE}-strata-{}", env!("CARGO_PKG_VERSION"))
}

/// The process facts `show info` prints. Filled by the runtime.
#[derive(Clone, Debug, Default)]
pub struct ProcessInfo {
    pub pid: u32,
    pub nbthread: u32,
    pub uptime_us: u64,     // since the worker started, in microseconds
    pub start_time_us: u64, // Unix time of the start, in microseconds
    pub ulimit_n: u64,
    pub maxconn: u32,
    pub rate_limits: crate::cfg::process::RateLimits, // ConnRateLimit, SessRateLimit, SslRateLimit
    pub curr_conns: u32,                              // client connections now (runtime API ones excluded)
    pub cum_conns: u64,                               // connections accepted, runtime API ones included
    pub cum_req: u64,                                 // streams started, runtime API ones included
    pub conn_rate: u64,
    pub max_conn_rate: u64,
    pub sess_rate: u64,
    pub max_sess_rate: u64,
    pub tasks: u64,
    pub idle_pct: u32,
    pub node: String,
    pub description: Option<String>,
    pub stopping: bool,
    pub jobs: u64,
    pub listeners: u64,
    pub total_bytes_out: u64,
    pub bytes_out_rate: u64,
    pub pool_bytes: u64,                              // bytes held by the buffer pool
    pub tls: crate::l4_conn::tls::stats::TlsCounters, // `CurrSslConns`, `SslFrontendKeyRate`...
    pub memmax_bytes: u64,                            // the `-m` cap (0: none)
    pub pool_failed: u64,                             // connections refused under the `-m` cap
    pub h2: crate::l7_http::h2::counters::H2Counters, // HTTP/2 mitigations fired (strata's lines after HAProxy's)
    pub thread_accepted: Vec<u64>, // connections each worker thread accepted (`show activity`)
    pub thread_loops: Vec<u64>,    // event-loop turns of each worker thread
}

impl ProcessInfo {
    /// The value of each field of [`INFO_FIELDS`], by position; `None`
    /// for a field HAProxy leaves out (no `description` configured).
    fn value(&self, name: &str, float: bool) -> Option<String> {
        let up = self.uptime_us / 1_000_000;
        let mb = self.pool_bytes / (1024 * 1024);
        let secs = |us: u64| {
            if float {
                // HAProxy prints the shortest form of the microsecond value (`0.17122`).
                let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
                text.trim_end_matches('0').trim_end_matches('.').to_owned()
            } else {
                (us / 1_000_000).to_string()
            }
        };
        Some(match name {
            "Name" => "HAProxy".into(),
            "Version" => version(),
            "Release_date" => "2026/11/22".into(),
            "Nbthread" => self.nbthread.to_string(),
            "Nbproc" | "Process_num" => "1".into(),
            "Pid" => self.pid.to_string(),
            "Uptime" => format!("{}d {}h{:02}m{:02}s", up / 86400, up / 3600 % 24, up / 60 % 60, up % 60),
            "Uptime_sec" => secs(self.uptime_us),
            "PoolAlloc_MB" | "PoolUsed_MB" => mb.to_string(),
            "Memmax_MB" => (self.memmax_bytes >> 20).to_string(),
            "Memmax_bytes" => self.memmax_bytes.to_string(),
            "PoolFailed" => self.pool_failed.to_string(),
            "Ulimit-n" | "Maxsock" => self.ulimit_n.to_string(),
            "Maxconn" | "Hard_maxconn" => self.maxconn.to_string(),
            "CurrConns" => self.curr_conns.to_string(),
            "CumConns" => self.cum_conns.to_string(),
            "CumReq" => self.cum_req.to_string(),
            "ConnRate" => self.conn_rate.to_string(),
            "ConnRateLimit" => self.rate_limits.conn.to_string(),
            "SessRateLimit" => self.rate_limits.sess.to_string(),
            "SslRateLimit" => self.rate_limits.ssl.to_string(),
            "MaxConnRate" => self.max_conn_rate.to_string(),
            "SessRate" => self.sess_rate.to_string(),
            "MaxSessRate" => self.max_sess_rate.to_string(),
            "Tasks" => self.tasks.to_string(),
            "Idle_pct" => self.idle_pct.to_string(),
            "node" => self.node.clone(),
            "description" => self.description.clone()?,
            "Stopping" => u8::from(self.stopping).to_string(),
            "Jobs" => self.jobs.to_string(),
            "Listeners" => self.listeners.to_string(),
            "TotalBytesOut" => self.total_bytes_out.to_string(),
            "BytesOutRate" => self.bytes_out_rate.to_string(),
            "Build info" => {
                format!("strata {} (HAProxy {HAPROXY_INTERFACE} interface)", env!("CARGO_PKG_VERSION"))
            }
            "PoolAlloc_bytes" | "PoolUsed_bytes" => self.pool_bytes.to_string(),
            "CurrSslConns" => self.tls.curr_conns.to_string(),
            "CumSslConns" => self.tls.cum_conns.to_string(),
            "SslRate" => self.tls.rate.to_string(),
            "MaxSslRate" => self.tls.max_rate.to_string(),
            "SslFrontendKeyRate" => self.tls.fe_key_rate.to_string(),
            "SslFrontendMaxKeyRate" => self.tls.fe_max_key_rate.to_string(),
            "SslFrontendSessionReuse_pct" => self.tls.fe_reuse_pct.to_string(),
            "SslBackendKeyRate" => self.tls.be_key_rate.to_string(),
            "SslBackendMaxKeyRate" => self.tls.be_max_key_rate.to_string(),
            "SslCacheLookups" => self.tls.cache_lookups.to_string(),
            "SslCacheMisses" => self.tls.cache_misses.to_string(),
            "Start_time_sec" => secs(self.start_time_us),
            "CumRecvLogs" => crate::core::ring::received().to_string(),
            _ => "0".into(),
        })
    }

    /// The default reply (`Key: value` lines), ending with the empty line.
    pub fn render(&self) -> String {
        self.render_as(OutFmt::default())
    }

    /// The reply in format `fmt`.
    pub fn render_as(&self, fmt: OutFmt) -> String {
        let mut s = String::with_capacity(if fmt.style == Style::Json { 12_000 } else { 2_000 });
        if fmt.style == Style::Json {
            s.push('[');
        }
        let mut first = true;
        for f in &INFO_FIELDS {
            let Some(v) = self.value(f.name, fmt.float) else { continue };
            let ty =
                if fmt.float && matches!(f.name, "Uptime_sec" | "Start_time_sec") { "flt" } else { f.ty };
            match fmt.style {
                Style::Plain => {
                    let _ = write!(s, "{}: {v}", f.name);
                }
                Style::Typed => {
                    let _ = write!(s, "{}.{}.1:{}:{ty}:{v}", f.pos, f.name, f.tags);
                }
                Style::Json => {
                    if !first {
                        s.push(',');
                    }
                    let _ = write!(s, "{{\"field\":{{\"pos\":{},\"name\":", f.pos);
                    json_str(&mut s, f.name);
                    s.push_str("},\"processNum\":1,");
                    json_tags_value(&mut s, f.tags, ty, &v);
                    s.push('}');
                }
            }
            if fmt.style != Style::Json {
                if fmt.desc {
                    let _ = write!(s, ":\"{}\"", f.desc);
                }
                s.push('\n');
            }
            first = false;
        }
        if fmt.style == Style::Json {
            s.push_str("]\n");
        }
        if fmt.style == Style::Plain && !fmt.desc {
            // strata's own counters, after HAProxy's fields (tools reading
            // `Key: value` lines by name are unaffected).
            for kind in crate::l7_http::h2::counters::Abuse::ALL {
                let _ = writeln!(s, "{}: {}", kind.field(), self.h2.get(kind));
            }
        }
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key order of HAProxy 2.6.12's reply (CLI golden scenario).
    #[test]
    fn keys_in_haproxy_order() {
        let text = ProcessInfo { uptime_us: 3_661_000_000, node: "vm".into(), ..Default::default() }.render();
        let keys: Vec<&str> = text.lines().filter_map(|l| l.split_once(": ").map(|(k, _)| k)).collect();
        assert_eq!(keys.len(), 69 + 12, "HAProxy's 69, then strata's HTTP/2 counters");
        assert_eq!(keys[69], "H2RapidResets");
        assert_eq!(
            &keys[..8],
            ["Name", "Version", "Release_date", "Nbthread", "Nbproc", "Process_num", "Pid", "Uptime"]
        );
        assert_eq!(keys[68], "Tainted");
        assert!(text.starts_with("Name: HAProxy\nVersion: 2.6.12-strata-"));
        assert!(text.contains("Uptime: 0d 1h01m01s\n"));
        assert!(text.contains("\nTainted: 0\nH2RapidResets: 0\n"));
        assert!(text.ends_with("H2ProtocolErrors: 0\n\n"));
    }

    #[test]
    fn typed_float_and_desc() {
        let info = ProcessInfo { uptime_us: 1_048_924, description: Some("d".into()), ..Default::default() };
        let fmt = OutFmt::parse(&["typed", "float", "desc"]);
        let text = info.render_as(fmt);
        assert!(text.starts_with("0.Name.1:POS:str:HAProxy:\"Product name\"\n"), "{text}");
        assert!(text.contains("\n8.Uptime_sec.1:MDP:flt:1.048924:"), "{text}");
        assert!(text.contains("\n51.description.1:COS:str:d:"), "{text}");
    }
}
