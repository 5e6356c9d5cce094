//! `get var NAME` and `set var NAME [expr|fmt] VALUE` (experimental mode):
//! the process-wide (`proc.`) variables on the runtime API, with HAProxy
//! 2.6's answers. Values are evaluated as `global`'s `set-var` lines are:
//! there is no stream, so only samples that need none give a value.

use super::modes::SessionMode;
use crate::acl::{Sample, SampleExpr, Scope, VarName, VarTarget, VarValue, assign_var, proc_vars};
use crate::cfg::AccessLevel;
use crate::l7_http::logformat::{LogFormat, NoStream};

/// Runs `words` if it is `set var` (reply appended to `out`), which
/// depends on the conversation's experimental mode; false otherwise.
pub(super) fn run(words: &[&str], mode: &SessionMode, out: &mut Vec<u8>) -> bool {
    match words {
        ["set", "var", rest @ ..] => set(rest, mode, out),
        _ => return false,
    }
    true
}

/// `get var NAME` (a command of `commands.rs`, operator and up):
/// `NAME: type=T value=<V>`.
pub(super) fn get(words: &[&str], _: AccessLevel, _: &mut dyn super::commands::CliData, out: &mut Vec<u8>) {
    get_text(words, out)
}

fn get_text(words: &[&str], out: &mut Vec<u8>) {
    let Some(text) = words.get(2) else {
        return super::severity::err(out, b"Missing process-wide variable identifier.\n\n");
    };
    let value =
        VarName::parse(text).ok().filter(|v| v.scope == Scope::Proc).and_then(|v| proc_vars().value(&v));
    let Some(value) = value else {
        return super::severity::err(out, b"Variable not found.\n\n");
    };
    out.extend_from_slice(format!("{text}: type={} value=<", value.type_name()).as_bytes());
    match &value {
        VarValue::Str(b) | VarValue::Bin(b) => out.extend_from_slice(b),
        VarValue::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        VarValue::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
        VarValue::Ip(a) => out.extend_from_slice(a.to_string().as_bytes()),
    }
    out.extend_from_slice(b">\n");
}

/// `set var NAME [expr|fmt] VALUE` (experimental mode, operator and up):
/// one word after the name is an expression; with two, the first says
/// which it is and only the second is read, as in HAProxy.
fn set(rest: &[&str], mode: &SessionMode, out: &mut Vec<u8>) {
    if !mode.experimental {
        return super::severity::err(out, b"This command is restricted to experimental mode only.\n\n");
    }
    if mode.level < AccessLevel::Operator {
        return super::severity::err(out, b"Permission denied\n\n");
    }
    let Some(name) = rest.first() else {
        return super::severity::err(out, b"Missing process-wide variable identifier.\n\n");
    };
    let (fmt, value) = match (rest.get(1), rest.get(2)) {
        (None, _) => return super::severity::err(out, b"Missing either 'expr', 'fmt' or expression.\n\n"),
        (Some(v), None) => (false, *v),
        (Some(&"expr"), Some(v)) => (false, *v),
        (Some(&"fmt"), Some(v)) => (true, *v),
        (Some(other), Some(_)) => {
            let msg = format!("'set var': arg type must be either 'expr' or 'fmt' but got '{other}'.\n");
            return super::severity::err(out, msg.as_bytes());
        }
    };
    let target = match VarTarget::parse(&[name]) {
        Ok(t) if t.name.scope == Scope::Proc => t,
        Ok(_) => {
            let msg =
                format!("'set var': cannot set variable '{name}', only scope 'proc' is permitted here.\n");
            return super::severity::err(out, msg.as_bytes());
        }
        Err(e) => return super::severity::err(out, format!("{e}\n").as_bytes()),
    };
    if fmt {
        match LogFormat::parse(value) {
            Ok(f) => assign_var(&NoStream, &target, Sample::Str(f.render(&NoStream).as_bytes())),
            Err(e) => return super::severity::err(out, format!("{e}\n").as_bytes()),
        }
    } else {
        match SampleExpr::parse(value) {
            Ok(e) => {
                let _ = e.with_value(&NoStream, |s| assign_var(&NoStream, &target, s));
            }
            Err(e) => return super::severity::err(out, format!("{e}\n").as_bytes()),
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(line: &[&str], level: AccessLevel, experimental: bool) -> String {
        let mode = SessionMode { level, expert: false, experimental };
        let mut out = Vec::new();
        if line[0] == "get" {
            get_text(line, &mut out);
        } else {
            assert!(run(line, &mode, &mut out));
        }
        String::from_utf8(crate::cli::severity::plain(&out)).unwrap()
    }

    /// The answers HAProxy 2.6.12 gave to the same command lines.
    #[test]
    fn get_and_set_answer_as_haproxy() {
        use AccessLevel::*;
        assert_eq!(
            ask(&["set", "var", "proc.cli_t1", "int(3)"], Admin, false),
            "This command is restricted to experimental mode only.\n\n"
        );
        assert_eq!(ask(&["set", "var", "proc.cli_t1", "int(3)"], Admin, true), "\n");
        assert_eq!(
            ask(&["get", "var", "proc.cli_t1"], Operator, false),
            "proc.cli_t1: type=sint value=<3>\n"
        );
        assert_eq!(ask(&["set", "var", "proc.cli_t2", "expr", "str(a),upper"], Admin, true), "\n");
        assert_eq!(ask(&["get", "var", "proc.cli_t2"], Admin, false), "proc.cli_t2: type=str value=<A>\n");
        assert_eq!(
            ask(&["set", "var", "proc.cli_t3", "fmt", "%[var(proc.cli_t2)]-x", "ignored"], Admin, true),
            "\n"
        );
        assert_eq!(ask(&["get", "var", "proc.cli_t3"], Admin, false), "proc.cli_t3: type=str value=<A-x>\n");
        assert_eq!(ask(&["get", "var", "proc.nope"], Admin, false), "Variable not found.\n\n");
        assert_eq!(ask(&["get", "var", "txn.x"], Admin, false), "Variable not found.\n\n");
        assert_eq!(ask(&["get", "var"], Admin, false), "Missing process-wide variable identifier.\n\n");
        assert_eq!(ask(&["set", "var"], Admin, true), "Missing process-wide variable identifier.\n\n");
        assert_eq!(
            ask(&["set", "var", "proc.x"], Admin, true),
            "Missing either 'expr', 'fmt' or expression.\n\n"
        );
        assert_eq!(
            ask(&["set", "var", "txn.z", "int(1)"], Admin, true),
            "'set var': cannot set variable 'txn.z', only scope 'proc' is permitted here.\n"
        );
        assert_eq!(
            ask(&["set", "var", "proc.x", "int(1)", "int(2)"], Admin, true),
            "'set var': arg type must be either 'expr' or 'fmt' but got 'int(1)'.\n"
        );
        let bad = ask(&["set", "var", "proc.x", "nosuch"], Admin, true);
        assert!(bad.starts_with("unknown fetch method 'nosuch'"), "{bad}");
    }
}
