//! `http-check send-state`: the value of the `X-Haproxy-Server-State`
//! header an HTTP check request carries, as HAProxy 2.6's
//! `httpchk_build_status_header` writes it, from what the worker knows of
//! the server when the run starts. Built only for backends with the
//! option; the check run inserts it after the configured headers.

use crate::backend::{BackendState, SrvAdmin};

/// The check's health counter and its bounds (HAProxy's `check.health`,
/// `rise`, `fall`).
#[derive(Clone, Copy, Debug)]
pub struct CheckHealth {
    pub value: u32, // 0..=rise+fall-1
    pub rise: u32,
    pub fall: u32,
}

/// The header value for server `si` of `be`, on node `node`, e.g.
/// `UP 2/3; address=10.0.0.1; port=80; name=be/s1; node=lb1;
/// weight=1/2; scur=0/0; qcur=0`. None if the server is gone.
pub fn header(be: &BackendState, si: usize, h: CheckHealth, node: &str, now_ms: u64) -> Option<String> {
    let s = be.servers.get(si)?;
    let stopping = s.nolb || s.admin == SrvAdmin::Drain; // HAProxy's SRV_ST_STOPPING
    let mut out = if !s.check_enabled {
        "no check".to_owned()
    } else if s.up {
        let word = if stopping { "NOLB" } else { "UP" };
        if h.value + 1 >= h.rise + h.fall {
            word.to_owned()
        } else {
            format!("{word} {}/{}", (h.value + 1).saturating_sub(h.rise), h.fall)
        }
    } else if h.value > 0 {
        format!("DOWN {}/{}", h.value, h.rise)
    } else {
        "DOWN".to_owned()
    };
    let addr = s.addr.map_or_else(|| "-".to_owned(), |a| a.to_string());
    out.push_str(&format!(
        "; address={addr}; port={}; name={}/{}; node={node}; weight={}/{}; scur={}/{}; qcur={}",
        s.port.unwrap_or(0),
        be.name,
        s.name,
        s.weight,
        be.total_weight(),
        s.cur_conns,
        be.cur_conns,
        s.queue.waiting
    ));
    if let Some(ratio) = s.throttle(now_ms) {
        out.push_str(&format!("; throttle={ratio}%"));
    }
    Some(out)
}
