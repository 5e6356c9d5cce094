//! The real-world configurations of `../shared/realcfg/` (30 files every
//! HAProxy 2.6 accepts), checked with `strata -c` through the corpus's
//! own `run.sh`: the only refusals allowed are Lua's and SPOE's, out of
//! scope (issue 17). Any other alert fails the test, naming the file and
//! the line.
//!
//! Skipped, with a message, when `../shared` is absent (a checkout without
//! the acceptance material).

mod support;

use std::path::PathBuf;
use std::process::Command;

/// The only refusals allowed (issue 17): Lua and SPOE are out of scope.
const ALLOWED: &[(&str, &str)] =
    &[("strata has no Lua engine", "out of scope (Lua)"), ("strata has no SPOE", "out of scope (SPOE)")];

/// `../shared/realcfg` from the project root (or from a worktree one level deeper).
fn corpus() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared/realcfg"), root.join("../../shared/realcfg")]
        .into_iter()
        .find(|p| p.join("run.sh").is_file())
}

#[test]
fn real_configs_refuse_only_what_open_work_owns() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: ../shared/realcfg is absent (no acceptance material in this checkout)");
        return;
    };
    let tmp = std::env::temp_dir().join(format!("strata-realcfg-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let out = Command::new("bash")
        .arg(dir.join("run.sh"))
        .arg(support::binary())
        .env("TMPDIR", &tmp)
        .output()
        .expect("run run.sh");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let last = text.lines().last().unwrap_or_default().to_string();
    eprintln!("{last}");
    assert!(!text.contains("PANIC") && !text.contains("TIMEOUT"), "{text}");
    let work = std::fs::read_dir(&tmp).expect("run.sh dir").flatten().map(|e| e.path()).find(|p| p.is_dir());
    let work = work.expect("run.sh's work dir");
    let mut unexpected = Vec::new();
    let mut used = vec![0usize; ALLOWED.len()];
    let mut outs: Vec<PathBuf> = std::fs::read_dir(&work)
        .expect("outs")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "out"))
        .collect();
    outs.sort();
    for path in outs {
        let body = std::fs::read_to_string(&path).unwrap_or_default();
        for line in body.lines().filter(|l| l.starts_with("[ALERT]")) {
            if line.contains("Error(s) found in configuration file") || line.contains("Fatal errors found") {
                continue;
            }
            match ALLOWED.iter().position(|(pat, _)| line.contains(pat)) {
                Some(i) => used[i] += 1,
                None => unexpected.push(line.to_string()),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    for ((pat, owner), n) in ALLOWED.iter().zip(&used) {
        eprintln!("{n:4} refusals left: {pat:?} ({owner})");
    }
    assert!(unexpected.is_empty(), "refusals nobody owns:\n{}", unexpected.join("\n"));
}
