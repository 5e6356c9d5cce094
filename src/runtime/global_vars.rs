//! `global`'s `set-var` / `set-var-fmt` lines: each `proc.` variable is
//! set once when the configuration loads, in the order written, from
//! samples that need no stream (`int()`, `str()`, `env()`, `var(proc.x)`
//! ...; a fetch that needs a connection or a request is absent, so the
//! variable is left unset, as in HAProxy).

use crate::acl::{SampleExpr, VarTarget, assign_var};
use crate::cfg::{Config, Diag, Diagnostics};
use crate::l7_http::logformat::{LogFormat, NoStream};

/// Sets the `proc.` variables of `global`; a bad line is an alert naming it.
pub(super) fn apply(cfg: &Config, diags: &mut Diagnostics) {
    for line in &cfg.global.set_vars {
        let kw = if line.fmt { "set-var-fmt" } else { "set-var" };
        let target = match VarTarget::parse(&[line.name.as_str()]) {
            Ok(t) if t.name.scope == crate::acl::Scope::Proc => t,
            Ok(_) => {
                diags.push(Diag::alert(
                    &line.loc,
                    format!("'{kw}': only 'proc.' variables may be set in 'global'."),
                ));
                continue;
            }
            Err(e) => {
                diags.push(Diag::alert(&line.loc, format!("'{kw}': {e}")));
                continue;
            }
        };
        if line.fmt {
            match LogFormat::parse(&line.value) {
                Ok(f) => {
                    let text = f.render(&NoStream);
                    assign_var(&NoStream, &target, crate::acl::Sample::Str(text.as_bytes()));
                }
                Err(e) => diags.push(Diag::alert(&line.loc, format!("'{kw}': {e}"))),
            }
        } else {
            match SampleExpr::parse(&line.value) {
                Ok(expr) => {
                    let _ = expr.with_value(&NoStream, |s| assign_var(&NoStream, &target, s));
                }
                Err(e) => diags.push(Diag::alert(&line.loc, format!("'{kw}': {e}"))),
            }
        }
    }
}
