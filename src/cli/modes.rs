//! The commands that change a runtime API conversation itself rather than
//! the process, as HAProxy 2.6 runs them: `user` and `operator` lower the
//! session's level (and leave expert mode), `expert-mode` /
//! `experimental-mode [on|off]` (admin only) switch the modes, and what
//! expert mode unlocks: `debug dev loop [ms]` (the thread serving the
//! command spins that long, so the watchdog can be seen at work) and `debug
//! dev delay [ms]` (it sleeps). Used by [`super::conversation`] only.

use crate::cfg::AccessLevel;
use std::time::{Duration, Instant};

/// A conversation's level and modes.
#[derive(Clone, Copy, Debug)]
pub struct SessionMode {
    pub level: AccessLevel,
    pub expert: bool,
    pub experimental: bool,
}

/// `help` lines of the commands this module runs: (usage, description,
/// listed only in expert mode), sorted by usage.
pub(super) const HELP: &[(&str, &str, bool)] = &[
    ("debug dev delay  [ms]", "sleep this long", true),
    ("debug dev loop   [ms]", "loop this long", true),
    ("operator", "lower the level of the current CLI session to operator", false),
    (
        "set severity-output [none|number|string]",
        "set presence of severity level in feedback information",
        false,
    ),
    ("user", "lower the level of the current CLI session to user", false),
];

/// Runs `words` if it is one of this module's commands (reply appended to
/// `out`); `false` if it is not.
pub(super) fn run(words: &[&str], mode: &mut SessionMode, out: &mut Vec<u8>) -> bool {
    match words {
        ["user", ..] => lower(mode, AccessLevel::User, out),
        ["operator", ..] => lower(mode, AccessLevel::Operator, out),
        ["expert-mode", rest @ ..] => switch(mode, "expert-mode", rest, |m| &mut m.expert, out),
        ["experimental-mode", rest @ ..] => {
            switch(mode, "experimental-mode", rest, |m| &mut m.experimental, out)
        }
        ["debug", "dev", what @ ("loop" | "delay"), rest @ ..] => {
            if !mode.expert {
                super::severity::err(out, b"This command is restricted to expert mode only.\n\n");
                return true;
            }
            // HAProxy reads the number with atoi(): none or garbage is 0
            let ms: u64 = rest.first().and_then(|v| v.parse().ok()).unwrap_or(0);
            let until = Instant::now() + Duration::from_millis(ms);
            if *what == "delay" {
                std::thread::sleep(Duration::from_millis(ms));
            } else {
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
            }
            out.push(b'\n');
        }
        _ => return false,
    }
    true
}

/// `user` / `operator`: a session may only go down; going down leaves the
/// expert and experimental modes.
fn lower(mode: &mut SessionMode, to: AccessLevel, out: &mut Vec<u8>) {
    if to > mode.level {
        super::severity::err(out, b"Permission denied\n\n");
        return;
    }
    *mode = SessionMode { level: to, expert: false, experimental: false };
    out.push(b'\n');
}

/// `expert-mode [on|off]`: admin only; without a word, prints the state;
/// any word but `on` turns the mode off, as HAProxy does.
fn switch(
    mode: &mut SessionMode,
    name: &str,
    rest: &[&str],
    flag: fn(&mut SessionMode) -> &mut bool,
    out: &mut Vec<u8>,
) {
    if mode.level < AccessLevel::Admin {
        super::severity::err(out, b"Permission denied\n\n");
        return;
    }
    match rest.first() {
        None => {
            let state = if *flag(mode) { "ON" } else { "OFF" };
            super::severity::info(out, format!("{name} is {state}\n\n").as_bytes());
        }
        Some(w) => {
            *flag(mode) = *w == "on";
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_all(cmds: &[&[&str]], level: AccessLevel) -> String {
        let mut mode = SessionMode { level, expert: false, experimental: false };
        let mut out = Vec::new();
        for c in cmds {
            assert!(run(c, &mut mode, &mut out), "{c:?} not run here");
        }
        String::from_utf8(crate::cli::severity::plain(&out)).unwrap()
    }

    /// The answers HAProxy 2.6.12 gave to the same command lines.
    #[test]
    fn modes_answer_as_haproxy() {
        use AccessLevel::*;
        assert_eq!(run_all(&[&["expert-mode"]], Admin), "expert-mode is OFF\n\n");
        assert_eq!(run_all(&[&["expert-mode", "on"], &["expert-mode"]], Admin), "\nexpert-mode is ON\n\n");
        assert_eq!(run_all(&[&["experimental-mode"]], Admin), "experimental-mode is OFF\n\n");
        assert_eq!(run_all(&[&["expert-mode", "foo"], &["expert-mode"]], Admin), "\nexpert-mode is OFF\n\n");
        assert_eq!(
            run_all(&[&["debug", "dev", "loop", "10"]], Admin),
            "This command is restricted to expert mode only.\n\n"
        );
        assert_eq!(run_all(&[&["expert-mode", "on"], &["debug", "dev", "loop"]], Admin), "\n\n");
        assert_eq!(run_all(&[&["expert-mode", "on"], &["debug", "dev", "delay", "abc"]], Admin), "\n\n");
        assert_eq!(
            run_all(&[&["expert-mode", "on"], &["operator"], &["debug", "dev", "loop", "1"]], Admin),
            "\n\nThis command is restricted to expert mode only.\n\n"
        );
        assert_eq!(run_all(&[&["user"], &["expert-mode", "on"]], Admin), "\nPermission denied\n\n");
        assert_eq!(run_all(&[&["expert-mode", "on"]], Operator), "Permission denied\n\n");
        assert_eq!(run_all(&[&["operator"]], User), "Permission denied\n\n");
    }

    #[test]
    fn debug_dev_loop_spins_for_the_time_given() {
        let t = Instant::now();
        run_all(&[&["expert-mode", "on"], &["debug", "dev", "loop", "30"]], AccessLevel::Admin);
        assert!(t.elapsed() >= Duration::from_millis(30));
    }
}
