//! Configuration: HAProxy's file format read into an immutable [`Config`].
//!
//! Pipeline: `lexer` (one line → words: blanks, `#`, `\`, quotes, `${ENV}`)
//! → `preproc` (`.if` blocks with `cond`'s conditions, `.notice`...)
//! → `parser` (sections and keywords, defaults inheritance)
//! → `resolve` (names → indices, cross-section checks) → [`Config`].
//! Every problem is collected in [`Diagnostics`]; loading never stops at the
//! first error, so an operator sees all of them in one run.

pub mod balance;
pub mod capture;
pub mod checks;
pub mod cond;
pub mod diag;
pub mod errorpages;
pub mod intercept;
pub mod knobs;
pub mod lexer;
pub mod listen;
pub mod local_peer;
pub mod model;
pub mod parser;
pub mod peers;
pub mod preproc;
pub mod process;
pub mod raw_bytes;
pub mod resolve;
pub mod resolve_logs;
pub mod resolve_modes;
pub mod resolvers;
pub mod server;
pub mod srv_select;
pub mod ssl;
pub mod switches;
pub mod syslog;
pub mod threads;
pub mod time;

pub use balance::*;
pub use checks::ProxyChecks;
pub use diag::{Diag, Diagnostics, Severity};
pub use model::*;
pub use server::*;

/// Reads, parses and resolves the given files, in order, as one
/// configuration (HAProxy's several `-f`). Returns the configuration only
/// when no alert was raised; warnings come back either way.
pub fn load(paths: &[String]) -> (Option<Config>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut texts = Vec::with_capacity(paths.len());
    for path in paths {
        match std::fs::read_to_string(path) {
            Ok(text) => texts.push((path.clone(), text)),
            Err(e) => {
                diags.push(Diag::alert_global(format!("Could not open configuration file {path} : {e}")))
            }
        }
    }
    let cfg = load_str(&texts, &mut diags);
    if diags.has_alerts() { (None, diags) } else { (Some(cfg), diags) }
}

/// Parses and resolves configuration texts given as (file name, contents).
/// Used by `load` and by tests that need no file.
pub fn load_str(texts: &[(String, String)], diags: &mut Diagnostics) -> Config {
    let mut cfg = parser::parse(texts, diags);
    // After an abort (`.alert`, a broken `.if`) or a file with errors,
    // HAProxy stops: no cross-section checks.
    let failed = diags.note_failed_files();
    if !diags.aborted && !failed {
        resolve::resolve(&mut cfg, diags);
    }
    cfg
}
