//! `nbthread`, `thread-groups` and `cpu-map` of the `global` section, with
//! HAProxy 2.6's limits and wording.

use crate::cfg::threads::CpuMap;

/// Most threads HAProxy 2.6 (and strata) runs.
pub(super) const MAX_THREADS: u64 = 64;

/// `nbthread N`: 1..=64.
pub(super) fn nbthread(arg: Option<&String>) -> Result<u32, String> {
    let v = arg.map_or("", String::as_str);
    let n = match v.parse::<u64>() {
        Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => return Err(format!("'nbthread' passed a missing or unparsable integer value in '{v}'")),
    };
    match n {
        1..=MAX_THREADS => Ok(n as u32),
        _ => Err(format!("'nbthread' value must be between 1 and 64 (was {n})")),
    }
}

/// `thread-groups N`: one group only (HAProxy 2.6 is built with one).
pub(super) fn thread_groups(arg: Option<&String>) -> Result<(), String> {
    let v = arg.map_or("", String::as_str);
    match v.parse::<u64>() {
        Ok(1) if v.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("'thread-groups' value must be between 1 and 1 (was {n})"))
        }
        _ => Err(format!("'thread-groups' passed a missing or unparsable integer value in '{v}'")),
    }
}

const CPU_MAP_USAGE: &str = "cpu-map expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or \
                             a range),  followed by a list of CPU ranges with numbers from 0 to 63.";

/// `cpu-map [auto:]<process>[/<threads>] <cpu-set>...`. The process set
/// must name process 1 (the only one) for the line to apply; without a
/// thread set every thread is named. Returns `None` for a line that names
/// no thread of process 1 (accepted, as HAProxy does, and without effect).
pub(super) fn cpu_map(words: &[String]) -> Result<Option<CpuMap>, String> {
    let (Some(first), Some(_)) = (words.get(1), words.get(2)) else { return Err(CPU_MAP_USAGE.into()) };
    let (auto, spec) = match first.strip_prefix("auto:") {
        Some(rest) => (true, rest),
        None => (false, first.as_str()),
    };
    let (procs, threads) = match spec.split_once('/') {
        Some((p, t)) => (set(p).ok_or(CPU_MAP_USAGE)?, Some(set(t).ok_or(CPU_MAP_USAGE)?)),
        None => (set(spec).ok_or(CPU_MAP_USAGE)?, None),
    };
    let mut cpus = Vec::new();
    for w in &words[2..] {
        let Some((lo, hi)) = range(w, u64::from(u16::MAX)) else {
            return Err(format!("cpu-map : '{w}' is not a CPU range."));
        };
        cpus.extend(lo as usize..=hi as usize);
    }
    cpus.sort_unstable();
    cpus.dedup();
    // Without a thread set, `auto:` spreads the process set (one process:
    // its threads are all named).
    let named = threads.unwrap_or(procs);
    if auto && named.count_ones() as usize != cpus.len() {
        return Err(
            "cpu-map : PROC/THREAD range and CPU sets must have the same size to be automatically bound"
                .into(),
        );
    }
    if procs & 1 == 0 && threads.is_some() {
        return Ok(None);
    }
    Ok(Some(CpuMap { threads: threads.unwrap_or(u64::MAX), cpus, auto: auto && threads.is_some() }))
}

/// A process or thread set: `all`, `odd`, `even`, `N` or `N-M` (1..=64),
/// as a bit mask (bit 0 = number 1).
fn set(s: &str) -> Option<u64> {
    match s {
        "all" => return Some(u64::MAX),
        "odd" => return Some(0x5555_5555_5555_5555),
        "even" => return Some(0xAAAA_AAAA_AAAA_AAAA),
        _ => {}
    }
    let (lo, hi) = range(s, MAX_THREADS)?;
    if lo == 0 {
        return None;
    }
    Some((lo..=hi).fold(0u64, |m, n| m | 1 << (n - 1)))
}

/// `N` or `N-M` with both at most `max` and `N <= M`.
fn range(s: &str, max: u64) -> Option<(u64, u64)> {
    let num = |v: &str| v.parse::<u64>().ok().filter(|n| *n <= max && v.bytes().all(|b| b.is_ascii_digit()));
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(s)?, num(s)?),
    };
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Result<Option<CpuMap>, String> {
        cpu_map(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn cpu_map_forms() {
        let m = line("cpu-map auto:1/1-4 0-3").unwrap().unwrap();
        assert_eq!((m.threads, m.auto), (0xF, true));
        assert_eq!((m.cpus_for(0), m.cpus_for(3), m.cpus_for(4)), (Some(vec![0]), Some(vec![3]), None));
        let m = line("cpu-map 1/all 0-1").unwrap().unwrap();
        assert_eq!(m.cpus_for(7), Some(vec![0, 1]));
        let m = line("cpu-map 1 2 5").unwrap().unwrap();
        assert_eq!(m.cpus_for(0), Some(vec![2, 5]));
        let m = line("cpu-map 1/odd 0").unwrap().unwrap();
        assert_eq!((m.cpus_for(0), m.cpus_for(1)), (Some(vec![0]), None));
        assert_eq!(line("cpu-map 2/1 0"), Ok(None));
        let maps = [line("cpu-map 1/all 0-1").unwrap().unwrap(), line("cpu-map 1/2 1").unwrap().unwrap()];
        assert_eq!(crate::cfg::threads::cpus_for(&maps, 1), Some(vec![1]));
        assert_eq!(crate::cfg::threads::cpus_for(&maps, 0), Some(vec![0, 1]));
    }

    #[test]
    fn cpu_map_errors_as_haproxy() {
        assert_eq!(
            line("cpu-map auto:1/1-2 0-2").unwrap_err(),
            "cpu-map : PROC/THREAD range and CPU sets must have the same size to be automatically bound"
        );
        assert_eq!(line("cpu-map 1/1 x").unwrap_err(), "cpu-map : 'x' is not a CPU range.");
        assert_eq!(line("cpu-map 1/1").unwrap_err(), CPU_MAP_USAGE);
        assert_eq!(line("cpu-map 1/0 1").unwrap_err(), CPU_MAP_USAGE);
    }

    #[test]
    fn thread_counts() {
        let a = |s: &str| Some(s.to_string());
        assert_eq!(nbthread(a("4").as_ref()), Ok(4));
        assert_eq!(nbthread(a("64").as_ref()), Ok(64));
        assert_eq!(
            nbthread(a("65").as_ref()).unwrap_err(),
            "'nbthread' value must be between 1 and 64 (was 65)"
        );
        assert_eq!(thread_groups(a("1").as_ref()), Ok(()));
        assert_eq!(
            thread_groups(a("2").as_ref()).unwrap_err(),
            "'thread-groups' value must be between 1 and 1 (was 2)"
        );
    }
}
