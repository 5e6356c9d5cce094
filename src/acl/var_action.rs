//! The variable actions every rule set shares: `set-var(name[,cond...])
//! EXPR` and `unset-var(name)` (`tcp-request connection|session|content`,
//! `http-request`, `http-response`; `global set-var` too).

use super::args::split_args;
use super::sample_expr::SampleExpr;
use super::source::SampleSource;
use super::value::{assign_var, remove_var};
use super::vars::{VarName, VarTarget};

/// A compiled variable action. Owned by its rule; immutable.
#[derive(Clone, Debug)]
pub enum VarAction {
    Set(VarTarget, SampleExpr),
    Unset(VarName),
}

/// Parses `set-var(...) EXPR` or `unset-var(...)` at the start of `words`;
/// None when the first word is neither. Returns the action and the number
/// of words it used.
pub fn parse_var_action(words: &[String]) -> Option<Result<(VarAction, usize), String>> {
    let first = words.first()?;
    let (kw, inner) = if let Some(r) = first.strip_prefix("set-var(") {
        ("set-var", r)
    } else if let Some(r) = first.strip_prefix("unset-var(") {
        ("unset-var", r)
    } else {
        return None;
    };
    Some((|| {
        let (args, rest) = split_args(inner).map_err(|e| format!("'{kw}': {e}"))?;
        if !rest.is_empty() {
            return Err(format!("'{kw}': unexpected '{rest}' after the variable name"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if kw == "unset-var" {
            if args.len() != 1 {
                return Err("'unset-var' expects exactly one variable name".into());
            }
            return Ok((VarAction::Unset(VarName::parse(args[0])?), 1));
        }
        let target = VarTarget::parse(&args)?;
        let expr = words.get(1).ok_or("'set-var' expects a sample expression")?;
        let expr = SampleExpr::parse(expr)
            .map_err(|e| format!("failed to parse sample expression <{expr}> : {e}"))?;
        Ok((VarAction::Set(target, expr), 2))
    })())
}

impl VarAction {
    /// Runs the action against `src` (whose stores hold the variables).
    pub fn run(&self, src: &dyn SampleSource) {
        match self {
            VarAction::Set(target, expr) => {
                expr.with_value(src, |s| assign_var(src, target, s));
            }
            VarAction::Unset(name) => remove_var(src, name),
        }
    }
}
