//! Process-level commands of the stats port beyond `show info`:
//! `show schema json`, `show env`, `show activity`, `show pools`,
//! `show errors`, in HAProxy 2.6's layouts.

use super::commands::CliData;
use super::format::OutFmt;
use crate::cfg::AccessLevel;
use std::fmt::Write;

/// HAProxy 2.6's JSON schema of the `json` outputs, as it prints it.
const SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"oneOf\":[{\"title\":\"Info\",\"type\":\"array\",\"items\":{\"title\":\"InfoItem\",\"type\":\"object\",\"properties\":{\"field\":{\"$ref\":\"#/definitions/field\"},\"processNum\":{\"$ref\":\"#/definitions/processNum\"},\"tags\":{\"$ref\":\"#/definitions/tags\"},\"value\":{\"$ref\":\"#/definitions/typedValue\"}},\"required\":[\"field\",\"processNum\",\"tags\",\"value\"]}},{\"title\":\"Stat\",\"type\":\"array\",\"items\":{\"title\":\"InfoItem\",\"type\":\"object\",\"properties\":{\"objType\":{\"enum\":[\"Frontend\",\"Backend\",\"Listener\",\"Server\",\"Unknown\"]},\"proxyId\":{\"type\":\"integer\",\"minimum\":0},\"id\":{\"type\":\"integer\",\"minimum\":0},\"field\":{\"$ref\":\"#/definitions/field\"},\"processNum\":{\"$ref\":\"#/definitions/processNum\"},\"tags\":{\"$ref\":\"#/definitions/tags\"},\"typedValue\":{\"$ref\":\"#/definitions/typedValue\"}},\"required\":[\"objType\",\"proxyId\",\"id\",\"field\",\"processNum\",\"tags\",\"value\"]}},{\"title\":\"Error\",\"type\":\"object\",\"properties\":{\"errorStr\":{\"type\":\"string\"}},\"required\":[\"errorStr\"]}],\"definitions\":{\"field\":{\"type\":\"object\",\"pos\":{\"type\":\"integer\",\"minimum\":0},\"name\":{\"type\":\"string\"},\"required\":[\"pos\",\"name\"]},\"processNum\":{\"type\":\"integer\",\"minimum\":1},\"tags\":{\"type\":\"object\",\"origin\":{\"type\":\"string\",\"enum\":[\"Metric\",\"Status\",\"Key\",\"Config\",\"Product\",\"Unknown\"]},\"nature\":{\"type\":\"string\",\"enum\":[\"Gauge\",\"Limit\",\"Min\",\"Max\",\"Rate\",\"Counter\",\"Duration\",\"Age\",\"Time\",\"Name\",\"Output\",\"Avg\", \"Unknown\"]},\"scope\":{\"type\":\"string\",\"enum\":[\"Cluster\",\"Process\",\"Service\",\"System\",\"Unknown\"]},\"required\":[\"origin\",\"nature\",\"scope\"]},\"typedValue\":{\"type\":\"object\",\"oneOf\":[{\"$ref\":\"#/definitions/typedValue/definitions/s32Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/s64Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/u32Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/u64Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/strValue\"}],\"definitions\":{\"s32Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"s32\"]},\"value\":{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}},\"required\":[\"type\",\"value\"]},\"s64Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"s64\"]},\"value\":{\"type\":\"integer\",\"minimum\":-9007199254740991,\"maximum\":9007199254740991}},\"required\":[\"type\",\"value\"]},\"u32Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"u32\"]},\"value\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295}},\"required\":[\"type\",\"value\"]},\"u64Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"u64\"]},\"value\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9007199254740991}},\"required\":[\"type\",\"value\"]},\"strValue\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"str\"]},\"value\":{\"type\":\"string\"}},\"required\":[\"type\",\"value\"]},\"unknownValue\":{\"properties\":{\"type\":{\"type\":\"integer\",\"minimum\":0},\"value\":{\"type\":\"string\",\"enum\":[\"unknown\"]}},\"required\":[\"type\",\"value\"]}}}}}";

/// `show info [typed|json|desc|float]*` (other words are ignored).
pub fn show_info(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let fmt = OutFmt::parse(&words[2..]);
    out.extend_from_slice(data.process_info().render_as(fmt).as_bytes());
}

/// `show schema json`
pub fn show_schema(_: &[&str], _: AccessLevel, _: &mut dyn CliData, out: &mut Vec<u8>) {
    show_schema_into(out);
}

/// The schema document and its empty line (also the stats page's `;json-schema`).
pub fn show_schema_into(out: &mut Vec<u8>) {
    out.extend_from_slice(SCHEMA.as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// `show env [NAME]`: the process environment, `NAME=value` lines.
pub fn show_env(words: &[&str], _: AccessLevel, _: &mut dyn CliData, out: &mut Vec<u8>) {
    let mut vars = std::env::vars_os();
    if let Some(name) = words.get(2) {
        match vars.find(|(k, _)| k.to_str() == Some(name)) {
            Some((k, v)) => push_var(out, &k, &v),
            None => super::severity::err(out, b"Variable not found\n"),
        }
    } else {
        for (k, v) in vars {
            push_var(out, &k, &v);
        }
    }
    out.push(b'\n');
}

fn push_var(out: &mut Vec<u8>, k: &std::ffi::OsStr, v: &std::ffi::OsStr) {
    use std::os::unix::ffi::OsStrExt;
    out.extend_from_slice(k.as_bytes());
    out.push(b'=');
    out.extend_from_slice(v.as_bytes());
    out.push(b'\n');
}

/// `show activity`: HAProxy's per-thread counters for strata's one worker
/// (counters strata does not keep print 0).
pub fn show_activity(_: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let info = data.process_info();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut s = String::with_capacity(800);
    let n = info.thread_accepted.len().max(1);
    let _ = writeln!(s, "thread_id: 1 (1..{n})");
    let _ = writeln!(s, "date_now: {}.{:06}", now.as_secs(), now.subsec_micros());
    let rows: [(&str, u64); 24] = [
        ("ctxsw", 0),
        ("tasksw", 0),
        ("empty_rq", 0),
        ("long_rq", 0),
        ("loops", info.thread_loops.iter().sum()),
        ("wake_tasks", 0),
        ("wake_signal", 0),
        ("poll_io", 0),
        ("poll_exp", 0),
        ("poll_drop_fd", 0),
        ("poll_skip_fd", 0),
        ("conn_dead", 0),
        ("stream_calls", info.cum_req),
        ("pool_fail", 0),
        ("buf_wait", 0),
        ("cpust_ms_tot", 0),
        ("cpust_ms_1s", 0),
        ("cpust_ms_15s", 0),
        ("avg_loop_us", 0),
        ("accepted", info.cum_conns),
        ("accq_pushed", 0),
        ("accq_full", 0),
        ("accq_ring", 0),
        ("fd_takeover", 0),
    ];
    // One thread: HAProxy prints no per-thread `[ ... ]` list; with
    // several, the total then each thread's value.
    for (k, v) in rows {
        if n == 1 {
            let _ = writeln!(s, "{k}: {v}");
            continue;
        }
        let per: Vec<u64> = match k {
            "accepted" => info.thread_accepted.clone(),
            "loops" => info.thread_loops.clone(),
            _ => vec![0; n],
        };
        let total = if matches!(k, "accepted" | "loops") { per.iter().sum() } else { v };
        let list: Vec<String> = per.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "{k}: {total} [ {} ]", list.join(" "));
    }
    s.push('\n');
    out.extend_from_slice(s.as_bytes());
}

/// `show pools`: strata's one pool, the I/O buffers.
pub fn show_pools(_: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let bytes = data.process_info().pool_bytes;
    let size = data.config().global.tune_bufsize as u64;
    let n = bytes.checked_div(size).unwrap_or(0);
    let mut s = String::from("Dumping pools usage. Use SIGQUIT to flush them.\n");
    let _ = writeln!(
        s,
        "  - Pool buffer ({size} bytes) : {n} allocated ({bytes} bytes), {n} used (~0 by thread caches), needed_avg {n}, 0 failures, 1 users, @0x0 [SHARED]"
    );
    let _ = writeln!(s, "Total: 1 pools, {bytes} bytes allocated, {bytes} used (~0 by thread caches).");
    s.push('\n');
    out.extend_from_slice(s.as_bytes());
}
