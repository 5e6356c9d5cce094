//! `show info`: HAProxy 2.6's 69 `Key: value` lines, in its order, with
//! strata's real values; fields strata has no notion of (SSL, pipes,
//! compression, peers...) print 0.

use std::fmt::Write;

/// The process facts `show info` prints. Filled by the runtime.
#[derive(Clone, Debug, Default)]
pub struct ProcessInfo {
    pub pid: u32,
    pub nbthread: u32,
    pub uptime_sec: u64,
    pub start_time_sec: u64,
    pub ulimit_n: u64,
    pub maxconn: u32,
    pub curr_conns: u32, // client connections now (runtime API ones excluded)
    pub cum_conns: u64,  // connections accepted, runtime API ones included
    pub cum_req: u64,    // streams started, runtime API ones included
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
    pub pool_bytes: u64, // bytes held by the buffer pool
}

impl ProcessInfo {
    /// The reply, ending with the empty line.
    pub fn render(&self) -> String {
        let version = env!("CARGO_PKG_VERSION");
        let up = self.uptime_sec;
        let uptime = format!("{}d {}h{:02}m{:02}s", up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
        let mb = self.pool_bytes / (1024 * 1024);
        let mut s = String::with_capacity(1400);
        let fields: [(&str, String); 69] = [
            ("Name", "strata".into()),
            ("Version", version.into()),
            ("Release_date", "2026/11/22".into()),
            ("Nbthread", self.nbthread.to_string()),
            ("Nbproc", "1".into()),
            ("Process_num", "1".into()),
            ("Pid", self.pid.to_string()),
            ("Uptime", uptime),
            ("Uptime_sec", up.to_string()),
            ("Memmax_MB", "0".into()),
            ("PoolAlloc_MB", mb.to_string()),
            ("PoolUsed_MB", mb.to_string()),
            ("PoolFailed", "0".into()),
            ("Ulimit-n", self.ulimit_n.to_string()),
            ("Maxsock", self.ulimit_n.to_string()),
            ("Maxconn", self.maxconn.to_string()),
            ("Hard_maxconn", self.maxconn.to_string()),
            ("CurrConns", self.curr_conns.to_string()),
            ("CumConns", self.cum_conns.to_string()),
            ("CumReq", self.cum_req.to_string()),
            ("MaxSslConns", "0".into()),
            ("CurrSslConns", "0".into()),
            ("CumSslConns", "0".into()),
            ("Maxpipes", "0".into()),
            ("PipesUsed", "0".into()),
            ("PipesFree", "0".into()),
            ("ConnRate", self.conn_rate.to_string()),
            ("ConnRateLimit", "0".into()),
            ("MaxConnRate", self.max_conn_rate.to_string()),
            ("SessRate", self.sess_rate.to_string()),
            ("SessRateLimit", "0".into()),
            ("MaxSessRate", self.max_sess_rate.to_string()),
            ("SslRate", "0".into()),
            ("SslRateLimit", "0".into()),
            ("MaxSslRate", "0".into()),
            ("SslFrontendKeyRate", "0".into()),
            ("SslFrontendMaxKeyRate", "0".into()),
            ("SslFrontendSessionReuse_pct", "0".into()),
            ("SslBackendKeyRate", "0".into()),
            ("SslBackendMaxKeyRate", "0".into()),
            ("SslCacheLookups", "0".into()),
            ("SslCacheMisses", "0".into()),
            ("CompressBpsIn", "0".into()),
            ("CompressBpsOut", "0".into()),
            ("CompressBpsRateLim", "0".into()),
            ("Tasks", self.tasks.to_string()),
            ("Run_queue", "0".into()),
            ("Idle_pct", self.idle_pct.to_string()),
            ("node", self.node.clone()),
            ("Stopping", u8::from(self.stopping).to_string()),
            ("Jobs", self.jobs.to_string()),
            ("Unstoppable Jobs", "0".into()),
            ("Listeners", self.listeners.to_string()),
            ("ActivePeers", "0".into()),
            ("ConnectedPeers", "0".into()),
            ("DroppedLogs", "0".into()),
            ("BusyPolling", "0".into()),
            ("FailedResolutions", "0".into()),
            ("TotalBytesOut", self.total_bytes_out.to_string()),
            ("TotalSplicdedBytesOut", "0".into()),
            ("BytesOutRate", self.bytes_out_rate.to_string()),
            ("DebugCommandsIssued", "0".into()),
            ("CumRecvLogs", "0".into()),
            ("Build info", version.into()),
            ("Memmax_bytes", "0".into()),
            ("PoolAlloc_bytes", self.pool_bytes.to_string()),
            ("PoolUsed_bytes", self.pool_bytes.to_string()),
            ("Start_time_sec", self.start_time_sec.to_string()),
            ("Tainted", "0".into()),
        ];
        for (k, v) in fields {
            let _ = writeln!(s, "{k}: {v}");
            if k == "node"
                && let Some(d) = &self.description
            {
                let _ = writeln!(s, "description: {d}");
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
        let text = ProcessInfo { uptime_sec: 3661, node: "vm".into(), ..Default::default() }.render();
        let keys: Vec<&str> = text.lines().filter_map(|l| l.split_once(": ").map(|(k, _)| k)).collect();
        assert_eq!(keys.len(), 69);
        assert_eq!(
            &keys[..8],
            ["Name", "Version", "Release_date", "Nbthread", "Nbproc", "Process_num", "Pid", "Uptime"]
        );
        assert_eq!(keys[68], "Tainted");
        assert!(text.contains("Uptime: 0d 1h01m01s\n"));
        assert!(text.ends_with("Tainted: 0\n\n"));
    }
}
