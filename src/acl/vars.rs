//! Variables (`set-var(txn.x)`, `var(txn.x)`): their names and scopes,
//! owned values, and the stores that hold them.
//!
//! - `proc.` variables live in one process-wide store ([`proc_vars`]).
//! - `sess.` variables live in the session (a [`Vars`] the session owns
//!   and lends to its streams for one call).
//! - `txn.`, `req.` and `res.` variables live in the stream's transaction
//!   (a [`Vars`] the stream owns); they end with it.
//!
//! A store is read by copying the value out (`get_into`), so no borrow
//! of it outlives one fetch, and a rule can set a variable from an
//! expression that read it (`set-var(txn.n) var(txn.n),add(1)`).

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::source::Sample;

/// Where a variable lives (HAProxy's five scopes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Proc,
    Sess,
    Txn,
    Req,
    Res,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Proc => "proc",
            Scope::Sess => "sess",
            Scope::Txn => "txn",
            Scope::Req => "req",
            Scope::Res => "res",
        }
    }
}

/// A variable name as written, `scope.name`; parsed once at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarName {
    pub scope: Scope,
    pub name: Arc<str>, // without the scope, e.g. `uri` for `txn.uri`
}

impl VarName {
    /// Parses `txn.foo` (HAProxy's `vars_hash_name`: a known scope, a dot,
    /// then a name of letters, digits, `.` and `_`).
    pub fn parse(text: &str) -> Result<VarName, String> {
        let (scope, name) = text.split_once('.').ok_or_else(|| bad_scope(text))?;
        let scope = match scope {
            "proc" => Scope::Proc,
            "sess" => Scope::Sess,
            "txn" => Scope::Txn,
            "req" => Scope::Req,
            "res" => Scope::Res,
            _ => return Err(bad_scope(text)),
        };
        if name.is_empty() {
            return Err(format!("missing variable name in '{text}'"));
        }
        if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '_')) {
            return Err(format!("illegal character '{c}' in variable name '{text}'"));
        }
        Ok(VarName { scope, name: name.into() })
    }
}

impl std::fmt::Display for VarName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.scope.name(), self.name)
    }
}

fn bad_scope(text: &str) -> String {
    format!(
        "invalid variable name '{text}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req' or 'res'"
    )
}

/// A variable's value, owned by its store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarValue {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str(Vec<u8>),
    Bin(Vec<u8>),
}

impl VarValue {
    /// The owned copy of a sample.
    pub fn of(s: Sample<'_>) -> VarValue {
        match s {
            Sample::Bool(b) => VarValue::Bool(b),
            Sample::Int(i) => VarValue::Int(i),
            Sample::Ip(a) => VarValue::Ip(a),
            Sample::Str(b) => VarValue::Str(b.to_vec()),
            Sample::Bin(b) => VarValue::Bin(b.to_vec()),
        }
    }

    /// The value as a sample borrowing it.
    pub fn sample(&self) -> Sample<'_> {
        match self {
            VarValue::Bool(b) => Sample::Bool(*b),
            VarValue::Int(i) => Sample::Int(*i),
            VarValue::Ip(a) => Sample::Ip(*a),
            VarValue::Str(b) => Sample::Str(b),
            VarValue::Bin(b) => Sample::Bin(b),
        }
    }

    /// HAProxy's type name in `get var` (`sint`, `str`...).
    pub fn type_name(&self) -> &'static str {
        match self {
            VarValue::Bool(_) => "bool",
            VarValue::Int(_) => "sint",
            VarValue::Ip(IpAddr::V4(_)) => "ipv4",
            VarValue::Ip(IpAddr::V6(_)) => "ipv6",
            VarValue::Str(_) => "str",
            VarValue::Bin(_) => "bin",
        }
    }
}

/// One value read out of a store: scalars copied, bytes written into the
/// caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Got {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str, // in the buffer
    Bin, // in the buffer
}

impl Got {
    /// The sample it stands for, bytes from `buf`.
    pub fn sample(self, buf: &[u8]) -> Sample<'_> {
        match self {
            Got::Bool(b) => Sample::Bool(b),
            Got::Int(i) => Sample::Int(i),
            Got::Ip(a) => Sample::Ip(a),
            Got::Str => Sample::Str(buf),
            Got::Bin => Sample::Bin(buf),
        }
    }
}

fn copy_out(v: &VarValue, buf: &mut Vec<u8>) -> Got {
    match v {
        VarValue::Bool(b) => Got::Bool(*b),
        VarValue::Int(i) => Got::Int(*i),
        VarValue::Ip(a) => Got::Ip(*a),
        VarValue::Str(b) => {
            buf.extend_from_slice(b);
            Got::Str
        }
        VarValue::Bin(b) => {
            buf.extend_from_slice(b);
            Got::Bin
        }
    }
}

type Entries = Vec<(Scope, Arc<str>, VarValue)>;

/// The variables of one owner (a session, or a stream's transaction for
/// `txn`/`req`/`res`). Interior mutability: rules set variables through
/// the shared view conditions read; never borrowed across a callback.
#[derive(Debug, Default)]
pub struct Vars {
    list: RefCell<Entries>, // few per owner: a list beats a map
}

impl Vars {
    pub fn new() -> Vars {
        Vars::default()
    }

    /// Copies variable `v`'s value into `buf`; None when not set.
    pub fn get_into(&self, v: &VarName, buf: &mut Vec<u8>) -> Option<Got> {
        let list = self.list.try_borrow().ok()?;
        list.iter().find(|(s, n, _)| *s == v.scope && **n == *v.name).map(|(_, _, val)| copy_out(val, buf))
    }

    /// Sets `v` to a copy of `s` (reusing the old value's storage).
    pub fn set(&self, v: &VarName, s: Sample<'_>) {
        let Ok(mut list) = self.list.try_borrow_mut() else { return };
        set_in(&mut list, v, s);
    }

    /// Removes `v`.
    pub fn unset(&self, v: &VarName) {
        if let Ok(mut list) = self.list.try_borrow_mut() {
            list.retain(|(s, n, _)| !(*s == v.scope && **n == *v.name));
        }
    }

    /// Removes every variable of `scope` (`req` ones when the request is done).
    pub fn clear_scope(&self, scope: Scope) {
        if let Ok(mut list) = self.list.try_borrow_mut() {
            list.retain(|(s, _, _)| *s != scope);
        }
    }
}

fn set_in(list: &mut Entries, v: &VarName, s: Sample<'_>) {
    match list.iter_mut().find(|(sc, n, _)| *sc == v.scope && **n == *v.name) {
        Some((_, _, old)) => match (old, s) {
            (VarValue::Str(b), Sample::Str(new)) | (VarValue::Bin(b), Sample::Bin(new)) => {
                b.clear();
                b.extend_from_slice(new);
            }
            (old, s) => *old = VarValue::of(s),
        },
        None => list.push((v.scope, Arc::clone(&v.name), VarValue::of(s))),
    }
}

/// The process-wide store of `proc.` variables (shared by every worker).
pub fn proc_vars() -> &'static ProcVars {
    static PROC: ProcVars = ProcVars { list: Mutex::new(Vec::new()) };
    &PROC
}

/// The `proc.` variables: one lock, taken for a copy in or out.
#[derive(Debug)]
pub struct ProcVars {
    list: Mutex<Entries>,
}

impl ProcVars {
    pub fn get_into(&self, v: &VarName, buf: &mut Vec<u8>) -> Option<Got> {
        let list = self.list.lock().ok()?;
        list.iter().find(|(_, n, _)| **n == *v.name).map(|(_, _, val)| copy_out(val, buf))
    }

    pub fn set(&self, v: &VarName, s: Sample<'_>) {
        if let Ok(mut list) = self.list.lock() {
            set_in(&mut list, v, s);
        }
    }

    pub fn unset(&self, v: &VarName) {
        if let Ok(mut list) = self.list.lock() {
            list.retain(|(_, n, _)| **n != *v.name);
        }
    }

    /// A copy of the value (the stats port's `get var`).
    pub fn value(&self, v: &VarName) -> Option<VarValue> {
        let list = self.list.lock().ok()?;
        list.iter().find(|(_, n, _)| **n == *v.name).map(|(_, _, val)| val.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_need_a_scope() {
        let v = VarName::parse("txn.my_var.x").unwrap();
        assert_eq!((v.scope, &*v.name), (Scope::Txn, "my_var.x"));
        assert!(VarName::parse("foo.bar").unwrap_err().contains("must be start by its scope"));
        assert!(VarName::parse("txn").is_err());
        assert!(VarName::parse("txn.a-b").is_err());
    }

    #[test]
    fn set_get_unset_by_scope() {
        let vars = Vars::new();
        let a = VarName::parse("txn.a").unwrap();
        let ra = VarName::parse("req.a").unwrap();
        vars.set(&a, Sample::Str(b"one"));
        vars.set(&ra, Sample::Int(5));
        let mut buf = Vec::new();
        assert_eq!(vars.get_into(&a, &mut buf), Some(Got::Str));
        assert_eq!(buf, b"one");
        vars.set(&a, Sample::Str(b"two"));
        buf.clear();
        vars.get_into(&a, &mut buf);
        assert_eq!(buf, b"two");
        assert_eq!(vars.get_into(&ra, &mut buf), Some(Got::Int(5)));
        vars.clear_scope(Scope::Req);
        assert_eq!(vars.get_into(&ra, &mut buf), None);
        vars.unset(&a);
        assert_eq!(vars.get_into(&a, &mut buf), None);
    }
}

/// A condition of `set-var(name,cond...)`: the variable is set only when
/// all hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCond {
    IfExists,
    IfNotExists,
    IfEmpty,
    IfNotEmpty,
    IfSet,
    IfNotSet,
    IfGt,
    IfLt,
}

/// The target of `set-var(name[,cond...])` (action or converter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarTarget {
    pub name: VarName,
    pub conds: Vec<SetCond>,
}

impl VarTarget {
    /// Parses the arguments: the name, then at most four conditions.
    pub fn parse(args: &[&str]) -> Result<VarTarget, String> {
        let name = VarName::parse(args.first().copied().unwrap_or_default())?;
        if args.len() > 5 {
            return Err("too many conditions (at most four)".into());
        }
        let conds = args[1..]
            .iter()
            .map(|c| {
                Ok(match *c {
                    "ifexists" => SetCond::IfExists,
                    "ifnotexists" => SetCond::IfNotExists,
                    "ifempty" => SetCond::IfEmpty,
                    "ifnotempty" => SetCond::IfNotEmpty,
                    "ifset" => SetCond::IfSet,
                    "ifnotset" => SetCond::IfNotSet,
                    "ifgt" => SetCond::IfGt,
                    "iflt" => SetCond::IfLt,
                    other => return Err(format!("unknown condition '{other}'")),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(VarTarget { name, conds })
    }

    /// Whether the conditions allow setting the variable to `new`, whose
    /// current value is `old` (None: not set).
    pub fn allows(&self, old: Option<Sample<'_>>, new: Sample<'_>) -> bool {
        let empty = matches!(new, Sample::Str(b) | Sample::Bin(b) if b.is_empty());
        self.conds.iter().all(|c| match c {
            SetCond::IfExists | SetCond::IfSet => {
                old.is_some() || self.name.scope == Scope::Proc && *c == SetCond::IfExists
            }
            SetCond::IfNotExists => old.is_none() && self.name.scope != Scope::Proc,
            SetCond::IfNotSet => old.is_none(),
            SetCond::IfEmpty => empty,
            SetCond::IfNotEmpty => !empty,
            SetCond::IfGt | SetCond::IfLt => match (old, new) {
                (Some(Sample::Int(o)), Sample::Int(n)) => {
                    if *c == SetCond::IfGt {
                        o > n
                    } else {
                        o < n
                    }
                }
                _ => true,
            },
        })
    }
}
