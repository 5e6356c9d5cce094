//! `bind ... thread [GROUP/]SET` and `bind ... process P[/SET]` as HAProxy
//! 2.6 takes them: the worker threads that accept on the bind's sockets
//! (`BindOpts::thread`, obeyed by the runtime's listener set-up). strata
//! is one process with one thread group, so `process` only names process
//! 1 (warned as deprecated, HAProxy's text) and a group can only be 1.
//! Error texts are HAProxy's.

use crate::cfg::listen::{BindOpts, ThreadSet};

/// `thread V`: several on one line add up; they must agree on naming the
/// group or not (HAProxy refuses a mix).
pub(super) fn thread(b: &mut BindOpts, v: &str) -> Result<(), String> {
    let t = thread_set(v)?;
    if b.thread.is_some_and(|before| before.group != t.group) {
        return Err(format!("'{v}' multiple thread-groups are not supported"));
    }
    add(b, t);
    Ok(())
}

/// `process P[/SET]`: P is process 1 (`1`, `1-1`, `all`, `odd`, `even`),
/// SET the threads, as for `thread`.
pub(super) fn process(b: &mut BindOpts, v: &str) -> Result<(), String> {
    let (proc, threads) = match v.split_once('/') {
        Some((p, t)) => (p, Some(t)),
        None => (v, None),
    };
    if !matches!(proc, "1" | "1-1" | "all" | "odd" | "even") {
        return Err(format!("'{proc}' is not a valid number/range. It supports numbers from 1 to 1."));
    }
    if let Some(t) = threads {
        add(b, ThreadSet { mask: set_mask(t, t)?, group: false });
    }
    Ok(())
}

/// HAProxy's warning for `process V` (accepted, deprecated in 2.6).
pub(super) fn process_warning(v: &str) -> String {
    let mut w = format!("'process {v}' on 'bind' lines is deprecated and will be removed in 2.7.");
    if let Some((_, t)) = v.split_once('/') {
        w.push_str(&format!(" Please use 'thread {t}' instead."));
    }
    w
}

fn add(b: &mut BindOpts, t: ThreadSet) {
    let before = b.thread.unwrap_or_default();
    b.thread = Some(ThreadSet { mask: before.mask | t.mask, group: before.group || t.group });
}

/// A `thread` value: `[GROUP/]SET`, a set being `all`, `odd`, `even`, `N`
/// or `N-M` (either order) with threads 1 to 64; GROUP can only be 1.
fn thread_set(v: &str) -> Result<ThreadSet, String> {
    let (set, group) = match v.split_once('/') {
        Some((g, rest)) => match g.parse::<u32>() {
            Ok(1) => (rest, true),
            Ok(n) => return Err(format!("'{v}' thread-group number must be between 1 and 1 (was {n})")),
            Err(_) => return Err(format!("'{v}' is not a valid number/range.")),
        },
        None => (v, false),
    };
    Ok(ThreadSet { mask: set_mask(set, v)?, group })
}

/// The mask of SET (`v` is the whole value, for the error text).
fn set_mask(set: &str, v: &str) -> Result<u64, String> {
    match set {
        "all" => return Ok(u64::MAX),
        "odd" => return Ok(0x5555_5555_5555_5555), // threads 1, 3, 5...
        "even" => return Ok(0xAAAA_AAAA_AAAA_AAAA),
        _ => {}
    }
    let (a, b) = set.split_once('-').unwrap_or((set, set));
    match (a.parse::<u32>(), b.parse::<u32>()) {
        (Ok(a), Ok(b)) if (1..=64).contains(&a) && (1..=64).contains(&b) => {
            Ok((a.min(b)..=a.max(b)).fold(0u64, |m, t| m | 1 << (t - 1)))
        }
        (Ok(_), Ok(_)) => {
            Err(format!("'{v}' is not a valid number/range. It supports numbers from 1 to 64."))
        }
        _ => Err(format!("'{v}' is not a valid number/range.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_thread_sets_as_haproxy() {
        let set = |mask, group| Ok(ThreadSet { mask, group });
        for (ok, mask, group) in [
            ("1", 1, false),
            ("64", 1 << 63, false),
            ("1-4", 0xf, false),
            ("4-1", 0xf, false),
            ("1/1-2", 3, true),
            ("all", u64::MAX, false),
            ("odd", 0x5555_5555_5555_5555, false),
            ("even", 0xaaaa_aaaa_aaaa_aaaa, false),
            ("1/all", u64::MAX, true),
        ] {
            assert_eq!(thread_set(ok), set(mask, group), "{ok}");
        }
        for (bad, why) in [
            ("0", "'0' is not a valid number/range. It supports numbers from 1 to 64."),
            ("65", "'65' is not a valid number/range. It supports numbers from 1 to 64."),
            ("2,4", "'2,4' is not a valid number/range."),
            ("x", "'x' is not a valid number/range."),
            ("2/1", "'2/1' thread-group number must be between 1 and 1 (was 2)"),
        ] {
            assert_eq!(thread_set(bad).map(|_| ()), Err(why.to_string()), "{bad}");
        }
    }

    #[test]
    fn several_thread_options_add_up_and_process_names_threads() {
        let mut b = BindOpts::default();
        assert_eq!(thread(&mut b, "1"), Ok(()));
        assert_eq!(thread(&mut b, "3"), Ok(()));
        assert_eq!(b.thread, Some(ThreadSet { mask: 0b101, group: false }));
        assert_eq!(b.threads(2), 0b01);
        assert_eq!(b.threads(4), 0b101);
        assert_eq!(thread(&mut b, "1/2"), Err("'1/2' multiple thread-groups are not supported".to_string()));
        let mut p = BindOpts::default();
        assert_eq!(process(&mut p, "all"), Ok(()));
        assert_eq!(p.thread, None);
        assert_eq!(process(&mut p, "1/2"), Ok(()));
        assert_eq!(p.threads(2), 0b10);
        assert_eq!(
            process(&mut p, "2"),
            Err("'2' is not a valid number/range. It supports numbers from 1 to 1.".to_string())
        );
        assert_eq!(
            process_warning("1/2"),
            "'process 1/2' on 'bind' lines is deprecated and will be removed in 2.7. Please use 'thread 2' instead."
        );
    }
}
