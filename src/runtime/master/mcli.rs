//! The master CLI (`-S`), as HAProxy 2.6's: a proxy in front of the
//! workers' runtime APIs. Each command (lines or `;`-separated) goes to
//! the master itself unless a prefix names a worker: `@1` the current
//! one, `@!PID` any by pid, `@master`/`@0`/`@` the master; a prefix alone
//! makes that the session's default target. The master answers `help`,
//! `show proc`, `show version`, `show cli level|sockets`, `reload`,
//! `operator`, `user`, `prompt` and `quit`. A command sent to a worker
//! is relayed to its socket at the session's level (`procs::WorkerProc::sock`);
//! without `prompt` the connection closes after the worker's answer.
//!
//! One thread per listener and per connection: the master carries no
//! traffic, and a blocking session cannot stall the supervisor.

use super::procs::Procs;
use crate::cfg::AccessLevel;
use crate::cli::commands::TRAILER;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

/// The master's commands as `help` lists them (words, usage, description).
const COMMANDS: &[(&[&str], &str, &str)] = &[
    (&["@!<pid>"], "@!<pid>", "send a command to the <pid> process"),
    (&["@<relative pid>"], "@<relative pid>", "send a command to the <relative pid> process"),
    (&["@master"], "@master", "send a command to the master process"),
    (&["operator"], "operator", "lower the level of the current CLI session to operator"),
    (&["reload"], "reload", "reload haproxy"),
    (&["show", "cli", "level"], "show cli level", "display the level of the current CLI session"),
    (&["show", "cli", "sockets"], "show cli sockets", "dump list of cli sockets"),
    (&["show", "proc"], "show proc", "show processes status"),
    (&["show", "version"], "show version", "show version of the current process"),
    (&["user"], "user", "lower the level of the current CLI session to user"),
];

/// The longest command line kept while waiting for its end.
const MAX_LINE: usize = 64 * 1024;

fn help_lines(out: &mut String, which: impl Iterator<Item = usize>) {
    for i in which {
        let (_, usage, desc) = COMMANDS[i];
        out.push_str(&format!("  {usage:<40}: {desc}\n"));
    }
    out.push_str(TRAILER);
    out.push('\n');
}

/// What a command asks of the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
    Reload, // close, then reload
}

/// One master CLI connection.
struct Session {
    level: AccessLevel,
    prompt: bool,
    target: i32, // default target: 0 the master, else a worker's pid
}

/// Splits one command into words at blanks; a backslash keeps the next
/// character in the word (and is kept, as HAProxy forwards it).
fn words(cmd: &str) -> Vec<&str> {
    let b = cmd.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        if start < b.len() {
            out.push(&cmd[start..i.min(b.len())]);
        }
    }
    out
}

/// Takes the next complete command (ended by `;` or a newline, a
/// backslash escaping either) out of `buf`.
fn take_command(buf: &mut Vec<u8>) -> Option<String> {
    let mut i = 0;
    while i < buf.len() {
        match buf[i] {
            b'\\' => i += 2,
            b';' | b'\n' => {
                let cmd = String::from_utf8_lossy(&buf[..i]).trim_end_matches('\r').to_string();
                buf.drain(..=i);
                return Some(cmd);
            }
            _ => i += 1,
        }
    }
    None
}

impl Session {
    fn prompt_text(&self, procs: &Procs) -> String {
        match self.target {
            0 if procs.failed_reloads > 0 => "master[ReloadFailed]> ".into(),
            0 => "master> ".into(),
            pid => format!("{pid}> "),
        }
    }

    /// Runs one command, appending the answer to `out`.
    fn run(&mut self, cmd: &str, procs: &Mutex<Procs>, out: &mut String) -> Flow {
        let w = words(cmd);
        let mut rest: &[&str] = &w;
        let mut target = self.target;
        if let Some(prefix) = w.first().filter(|p| p.starts_with('@')) {
            let found = procs.lock().map(|p| p.target(prefix)).unwrap_or(None);
            let Some(t) = found else {
                out.push_str(&format!("Can't find the target PID matching the prefix '{prefix}'\n"));
                return Flow::Close;
            };
            if w.len() == 1 {
                self.target = t;
                return self.then_prompt(procs, out);
            }
            target = t;
            rest = &w[1..];
        }
        match rest {
            [] => return self.then_prompt(procs, out),
            ["prompt", ..] => {
                self.prompt = !self.prompt;
                return self.then_prompt(procs, out);
            }
            ["quit", ..] => return Flow::Close,
            [lvl @ ("operator" | "user"), ..] => {
                let want = if *lvl == "operator" { AccessLevel::Operator } else { AccessLevel::User };
                if self.level < want {
                    out.push_str("Permission denied!\n");
                    return Flow::Close;
                }
                self.level = want;
                return self.then_prompt(procs, out);
            }
            _ => {}
        }
        if target == 0 {
            if self.master_command(rest, procs, out) == Flow::Reload {
                return Flow::Reload;
            }
            return self.then_prompt(procs, out);
        }
        // the raw text after the prefix, escapes and all
        let raw =
            if rest.len() < w.len() { cmd.trim_start()[w[0].len()..].trim_start() } else { cmd.trim_start() };
        let sock = procs
            .lock()
            .ok()
            .and_then(|p| p.workers.iter().find(|x| x.pid == target).map(|x| x.sock(self.level)));
        match sock.map(|s| relay(&s, raw)) {
            Some(Ok(answer)) => out.push_str(&answer),
            _ => {
                out.push_str("Can't connect to the target CLI!\n");
                return Flow::Close;
            }
        }
        if self.prompt { self.then_prompt(procs, out) } else { Flow::Close }
    }

    fn then_prompt(&self, procs: &Mutex<Procs>, out: &mut String) -> Flow {
        if self.prompt
            && let Ok(p) = procs.lock()
        {
            out.push_str(&self.prompt_text(&p));
        }
        Flow::Continue
    }

    fn master_command(&self, words: &[&str], procs: &Mutex<Procs>, out: &mut String) -> Flow {
        let Ok(p) = procs.lock() else { return Flow::Close };
        match words {
            ["help", ..] => {
                out.push_str("The following commands are valid at this level:\n");
                help_lines(out, 0..COMMANDS.len());
            }
            ["show", "proc", ..] => out.push_str(&p.show_proc(crate::core::features::VERSION)),
            ["show", "version", ..] => out.push_str(&format!("{}\n\n", crate::core::features::VERSION)),
            ["show", "cli", "level", ..] => out.push_str(match self.level {
                AccessLevel::Admin => "admin\n\n",
                AccessLevel::Operator => "operator\n\n",
                AccessLevel::User => "user\n\n",
            }),
            ["show", "cli", "sockets", ..] => {
                out.push_str("# socket lvl processes\n");
                for (addr, level) in &p.cli_sockets {
                    out.push_str(&format!("{addr} {} all\n", level_name(*level)));
                }
                out.push('\n');
            }
            ["reload", ..] => return Flow::Reload,
            _ => {
                let all: Vec<&[&str]> = COMMANDS.iter().map(|c| c.0).collect();
                let (empty, listed) = crate::cli::suggest::suggest(&all, words);
                out.push_str(if empty {
                    "Unknown command. Please enter one of the following commands only:\n"
                } else {
                    "Unknown command, but maybe one of the following ones is a better match:\n"
                });
                help_lines(out, listed.into_iter());
            }
        }
        Flow::Continue
    }
}

pub fn level_name(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::Admin => "admin",
        AccessLevel::Operator => "operator",
        AccessLevel::User => "user",
    }
}

/// Sends one command to a worker's runtime API and reads its whole answer.
fn relay(sock: &std::path::Path, cmd: &str) -> io::Result<String> {
    let mut s = UnixStream::connect(sock)?;
    s.write_all(cmd.as_bytes())?;
    s.write_all(b"\n")?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Serves one connection until it closes or a command closes it.
pub fn serve<S: Read + Write>(mut s: S, level: AccessLevel, procs: &Arc<Mutex<Procs>>) {
    let mut sess = Session { level, prompt: false, target: 0 };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(cmd) = take_command(&mut buf) {
            let mut out = String::new();
            let flow = sess.run(&cmd, procs, &mut out);
            if s.write_all(out.as_bytes()).is_err() {
                return;
            }
            match flow {
                Flow::Continue => {}
                Flow::Close => return,
                Flow::Reload => {
                    drop(s);
                    // SAFETY: kill(2) with plain integers; the supervisor
                    // thread reloads on SIGUSR2 as for an operator's signal.
                    unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
                    return;
                }
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > MAX_LINE {
            let _ = s.write_all(b"Command line too long.\n");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_end_at_semicolons_and_newlines() {
        let mut b = b"@1 show info; show proc\nhelp\\;x\npartial".to_vec();
        assert_eq!(take_command(&mut b).as_deref(), Some("@1 show info"));
        assert_eq!(take_command(&mut b).as_deref(), Some(" show proc"));
        assert_eq!(take_command(&mut b).as_deref(), Some("help\\;x"));
        assert_eq!(take_command(&mut b), None);
        assert_eq!(b, b"partial");
        assert_eq!(words("  @1  set var\\ x  1 "), ["@1", "set", "var\\ x", "1"]);
    }

    #[test]
    fn unknown_commands_get_haproxys_suggestions() {
        let procs = Mutex::new(Procs::new(Vec::new()));
        let mut s = Session { level: AccessLevel::Admin, prompt: false, target: 0 };
        let mut out = String::new();
        assert_eq!(s.run("bogus", &procs, &mut out), Flow::Continue);
        let names: Vec<&str> =
            out.lines().skip(1).map(|l| l.split(':').next().unwrap_or("").trim()).collect();
        assert_eq!(
            names,
            ["@!<pid>", "@master", "operator", "reload", "user", "help [<command>]", "prompt", "quit", ""]
        );
        out.clear();
        assert_eq!(s.run("@2 show info", &procs, &mut out), Flow::Close);
        assert_eq!(out, "Can't find the target PID matching the prefix '@2'\n");
        out.clear();
        s.run("prompt", &procs, &mut out);
        assert_eq!(out, "master> ");
        out.clear();
        s.run("user", &procs, &mut out);
        s.run("operator", &procs, &mut out);
        assert_eq!(out, "master> Permission denied!\n");
    }
}
