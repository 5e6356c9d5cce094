//! `show peers [dict|-] [section]`: HAProxy 2.6.12's layout, field by
//! field (`peers_dump_head` and `peers_dump_peer` in HAProxy's
//! `src/peers.c`). Sections and peers come in reverse declaration order, as
//! HAProxy links them; addresses are those of strata's own objects.

use super::hello;
use super::net::Peers;
use super::state::Section;
use crate::core::date::Civil;
use std::fmt::Write;

/// HAProxy's `human_time()` of a duration in ms: at most two units.
pub fn human_time(ms: u64) -> String {
    let t = ms / 1000;
    let (day, hour, min) = (86_400, 3_600, 60);
    let mut out = String::new();
    let mut cnt = 2;
    if t >= day {
        let _ = write!(out, "{}d", t / day);
        cnt -= 1;
    }
    if cnt > 0 && t % day / hour != 0 {
        let _ = write!(out, "{}h", t % day / hour);
        cnt -= 1;
    }
    if cnt > 0 && t % hour / min != 0 {
        let _ = write!(out, "{}m", t % hour / min);
        cnt -= 1;
    }
    if (cnt > 0 && !t.is_multiple_of(min)) || t == 0 {
        let _ = write!(out, "{}s", t % min);
    }
    out
}

/// A timer as `show peers` prints it: `<NEVER>`, `<PAST>` or the time left.
fn timer(t: Option<u64>, now: u64) -> String {
    match t {
        None => "<NEVER>".into(),
        Some(t) if t <= now => "<PAST>".into(),
        Some(t) => human_time(t - now),
    }
}

/// The reply to `show peers` with `args` (the words after `show peers`).
/// `Err` is the error text (HAProxy's `No such peers`).
pub fn show(peers: &Peers, args: &[&str], now: u64) -> Result<String, &'static str> {
    let mut args = args;
    let mut dict = false;
    match args.first() {
        Some(&"dict") => {
            dict = true;
            args = &args[1..];
        }
        Some(&"-") => args = &args[1..],
        _ => {}
    }
    let target = args.first().copied().filter(|a| !a.is_empty());
    let sections = peers.sections();
    if let Some(t) = target
        && !sections.iter().any(|s| s.name == t)
    {
        return Err("No such peers");
    }
    let mut out = String::new();
    let mut first = true;
    for s in sections.iter().rev().filter(|s| target.is_none_or(|t| t == s.name)) {
        if !first {
            out.push('\n');
        }
        first = false;
        head(&mut out, s, now);
        for p in (0..s.peers.len()).rev() {
            peer(&mut out, peers, s, p, now, dict);
        }
    }
    Ok(out)
}

fn head(out: &mut String, s: &Section, now: u64) {
    let c = Civil::from_system(s.last_change);
    let _ = writeln!(
        out,
        "{:p}: [{:02}/{}/{:04}:{:02}:{:02}:{:02}] id={} disabled=0 flags=0x{:x} resync_timeout={} task_calls={}",
        s,
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.min,
        c.sec,
        s.name,
        s.flags,
        timer(s.resync_timeout, now),
        s.task_calls
    );
}

fn peer(out: &mut String, peers: &Peers, s: &Section, p: usize, now: u64, dict: bool) {
    let pr = &s.peers[p];
    let addr = pr.addr.map_or_else(|| "0.0.0.0:0".to_owned(), |a| a.to_string());
    let info = pr.link.and_then(|l| peers.conn_info(l));
    let _ = writeln!(
        out,
        "  {:p}: id={}({},{}) addr={addr} last_status={} last_hdshk={}",
        pr,
        pr.name,
        if pr.local { "local" } else { "remote" },
        if pr.link.is_some() { "active" } else { "inactive" },
        hello::status_name(pr.statuscode),
        pr.last_hdshk.map_or_else(|| "<NEVER>".into(), |t| human_time(now.saturating_sub(t))),
    );
    let _ = writeln!(
        out,
        "        reconnect={} heartbeat={} confirm={} tx_hbt={} rx_hbt={} no_hbt={} new_conn={} proto_err={} coll={}",
        timer(pr.reconnect, now),
        timer(pr.heartbeat, now),
        pr.confirm,
        pr.tx_hbt,
        pr.rx_hbt,
        pr.no_hbt,
        pr.new_conn,
        pr.proto_err,
        pr.coll
    );
    let _ = write!(out, "        flags=0x{:x}", pr.flags);
    if let Some(ci) = &info {
        let _ = write!(
            out,
            " appctx:{:p} st0={} st1={} task_calls={} state={}",
            ci.addr,
            ci.phase as u8,
            ci.st1,
            ci.calls,
            if ci.connecting { "CON" } else { "EST" }
        );
        if let Some((src, addr)) = ci.xprt {
            let _ = write!(out, "\n        xprt=RAW src={src} addr={addr}");
        }
    }
    let table_line = |out: &mut String, what: &str, i: usize| {
        let sh = &s.tables[i];
        let _ = write!(
            out,
            "\n        {what}:{:p} id={} local_id={} remote_id={}",
            &pr.cursors[i],
            sh.table.name(),
            i + 1,
            pr.cursors[i].remote_id
        );
    };
    if let Some(i) = info.as_ref().and_then(|ci| ci.remote_table) {
        table_line(out, "remote_table", i);
    }
    if let Some(i) = info.as_ref().and_then(|ci| ci.last_local_table) {
        table_line(out, "last_local_table", i);
    }
    if !s.tables.is_empty() {
        out.push_str("\n        shared tables:");
        for i in (0..s.tables.len()).rev() {
            let c = &pr.cursors[i];
            let t = &s.tables[i].table;
            let remote_data = c.remote.as_ref().map_or(0, |d| d.data);
            let _ = write!(
                out,
                "\n          {:p} local_id={} remote_id={} flags=0x{:x} remote_data=0x{:x}",
                c,
                i + 1,
                c.remote_id,
                if c.taught { 3 } else { 0 },
                remote_data
            );
            let _ = write!(
                out,
                "\n              last_acked={} last_pushed={} last_get={} teaching_origin={} update={}",
                c.last_acked, c.last_pushed as u32, c.last_get, c.teaching_origin as u32, c.update as u32
            );
            let lu = t.local_update() as u32;
            let _ = write!(
                out,
                "\n              table:{:p} id={} update={lu} localupdate={lu} commitupdate={} refcnt=1",
                t.as_ref(),
                t.name(),
                t.commit_update() as u32
            );
            if dict {
                // a peer without connection has empty caches (HAProxy keeps them per peer)
                let empty = super::update::DictRx::default().all();
                out.push_str("\n        TX dictionary cache:");
                dict_lines(out, info.as_ref().map_or(&[][..], |ci| &ci.dict_tx));
                out.push_str("\n        RX dictionary cache:");
                dict_lines(out, info.as_ref().map_or(&empty[..], |ci| &ci.dict_rx));
            } else {
                out.push_str("\n        Dictionary cache not dumped (use \"show peers dict\")");
            }
        }
    }
    out.push('\n');
}

/// Four cache slots per line: `  ID -> value`.
fn dict_lines(out: &mut String, slots: &[(usize, Option<std::sync::Arc<str>>)]) {
    for (n, (i, v)) in slots.iter().enumerate() {
        if n % 4 == 0 {
            out.push_str("\n        ");
        }
        let _ = write!(out, "  {i:3} -> {}", v.as_deref().unwrap_or("-"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_human_time_as_haproxy() {
        assert_eq!(human_time(0), "0s");
        assert_eq!(human_time(999), "0s");
        assert_eq!(human_time(4_000), "4s");
        assert_eq!(human_time(61_000), "1m1s");
        assert_eq!(human_time(3_600_000), "1h");
        assert_eq!(human_time(3_661_000), "1h1m");
        assert_eq!(human_time(90_061_000), "1d1h");
    }
}
