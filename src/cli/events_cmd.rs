//! `show events [<sink>] [-n]`: HAProxy 2.6's event sinks — the list
//! (`stdout`, `stderr`, then every ring: `buf0` and the `ring` sections),
//! or the events a ring holds, oldest first, one per line (`-n`: only
//! those written from now on, so none). The rings are `core::ring`'s.

use crate::cfg::AccessLevel;
use crate::core::ring::rings;

/// The fd sinks HAProxy lists before its rings.
const FD_SINKS: [(&str, &str); 2] =
    [("stdout", "standard output (fd#1)"), ("stderr", "standard output (fd#2)")];

pub fn show_events(words: &[&str], level: AccessLevel, _: &mut dyn super::CliData, out: &mut Vec<u8>) {
    let Some(name) = words.get(2) else {
        let mut text =
            String::from("Supported events sinks are listed below. Add -w(wait), -n(new). Any key to stop\n");
        for (n, desc) in FD_SINKS {
            text.push_str(&format!("    {n:<10} : type=fd, 0 dropped, {desc}\n"));
        }
        for r in rings().iter() {
            text.push_str(&format!(
                "    {:<10} : type=buffer, {} dropped, {}\n",
                r.name,
                r.dropped(),
                r.description
            ));
        }
        text.push('\n');
        return out.extend_from_slice(text.as_bytes());
    };
    if level < AccessLevel::Operator {
        return super::severity::err(out, b"Permission denied\n\n");
    }
    let ring = rings().find(name);
    if ring.is_none() && !FD_SINKS.iter().any(|(n, _)| n == name) {
        return super::severity::err(out, b"No such event sink\n");
    }
    let Some(ring) = ring else {
        return super::severity::err(out, b"Nothing to report for this sink\n");
    };
    let mut new_only = false;
    for opt in &words[3..] {
        match *opt {
            "-n" => new_only = true,
            "-w" | "-nw" | "-wn" => {
                return out.extend_from_slice(
                    b"'-w' (waiting for new events) is not supported by strata: read the ring again instead\n",
                );
            }
            _ => return super::severity::err(out, b"unknown option\n"),
        }
    }
    if !new_only {
        for e in ring.read_from(0).0 {
            out.extend_from_slice(&e);
            out.push(b'\n');
        }
    }
    out.push(b'\n');
}
