//! Relative file names in the configuration (`errorfile`, ...) and
//! `default-path current|config|parent|origin <path>`, which chooses what
//! they are relative to. HAProxy changes its working directory for this;
//! strata keeps the base here instead, so loading a configuration has no
//! effect on the process (tests load configurations concurrently).
//!
//! The base is per thread and parse-scoped: `parser::parse` resets it
//! when it starts and tells it each file it reads.

use super::args::Res;
use crate::cfg::model::Loc;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// What relative paths are relative to.
#[derive(Clone, Debug, Default)]
enum Mode {
    #[default]
    Current, // the working directory
    Config,          // the directory of the file being read
    Parent,          // that directory's parent
    Origin(PathBuf), // a fixed directory
}

#[derive(Default)]
struct State {
    mode: Mode,
    file: PathBuf, // the configuration file being read
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Starts a new parse: relative paths are relative to the working directory.
pub(super) fn reset() {
    STATE.with(|s| *s.borrow_mut() = State::default());
}

/// The parser now reads `file`.
pub(super) fn enter_file(file: &str) {
    STATE.with(|s| s.borrow_mut().file = PathBuf::from(file));
}

/// `path` as strata must open it.
pub(super) fn resolve(path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    STATE.with(|s| {
        let s = s.borrow();
        let dir = s.file.parent().map(Path::to_path_buf).unwrap_or_default();
        match &s.mode {
            Mode::Current => p.to_path_buf(),
            Mode::Config => dir.join(p),
            Mode::Parent => dir.join("..").join(p),
            Mode::Origin(base) => base.join(p),
        }
    })
}

/// `default-path current|config|parent|origin <path>`.
pub(super) fn default_path(words: &[String], _loc: &Loc) -> Res {
    let mode = match words.get(1).map(String::as_str) {
        Some("current") => Mode::Current,
        Some("config") => Mode::Config,
        Some("parent") => Mode::Parent,
        Some("origin") => match words.get(2) {
            Some(p) if !p.is_empty() => Mode::Origin(PathBuf::from(p)),
            _ => return Err("'default-path' expects a directory after 'origin'.".into()),
        },
        None => {
            return Err(
                "'default-path' expects one of 'current', 'config', 'parent' or 'origin' with a path.".into(),
            );
        }
        Some(other) => {
            return Err(format!(
                "unsupported default-path mode '{other}' for 'default-path', supported modes include \
                 'current', 'config', 'parent', and 'origin'."
            ));
        }
    };
    let n = if matches!(mode, Mode::Origin(_)) { 3 } else { 2 };
    super::args::no_extra("default-path", words, n)?;
    STATE.with(|s| s.borrow_mut().mode = mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(l: &str) -> Vec<String> {
        l.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn modes() {
        reset();
        enter_file("/etc/haproxy/conf.d/a.cfg");
        assert_eq!(resolve("x.http"), PathBuf::from("x.http"));
        assert_eq!(resolve("/abs"), PathBuf::from("/abs"));
        assert_eq!(default_path(&w("default-path config"), &Loc::default()), Ok(()));
        assert_eq!(resolve("x.http"), PathBuf::from("/etc/haproxy/conf.d/x.http"));
        assert_eq!(default_path(&w("default-path parent"), &Loc::default()), Ok(()));
        assert_eq!(resolve("x.http"), PathBuf::from("/etc/haproxy/conf.d/../x.http"));
        assert_eq!(default_path(&w("default-path origin /srv"), &Loc::default()), Ok(()));
        assert_eq!(resolve("e/x.http"), PathBuf::from("/srv/e/x.http"));
        assert!(default_path(&w("default-path foo"), &Loc::default()).is_err());
        reset();
        assert_eq!(resolve("x"), PathBuf::from("x"));
    }
}
