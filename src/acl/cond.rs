//! Named ACLs ([`AclSet`]) and rule conditions ([`Condition`]): the words
//! after `if`/`unless` compiled into an OR of AND-ed terms, as HAProxy's
//! `parse_acl_cond` does.

use std::sync::Arc;

use crate::cfg::{Cond, Loc};

use super::error::{AclError, AclErrorKind};
use super::expr::Expr;
use super::source::SampleSource;

/// One named (or anonymous) ACL: true when any of its expressions is.
/// Shared read-only by every condition that names it.
#[derive(Clone, Debug)]
pub(crate) struct Acl {
    exprs: Vec<Expr>, // one per `acl` line with this name, OR-ed
}

impl Acl {
    fn eval(&self, src: &dyn SampleSource) -> bool {
        self.exprs.iter().any(|e| e.eval(src))
    }

    /// HAProxy's three-valued ACL result: an expression that matched
    /// passes, one that did not but read bytes still to come misses.
    fn eval_partial(&self, src: &dyn SampleSource) -> Tri {
        let mut res = Tri::Fail;
        for e in &self.exprs {
            let _ = super::fetch_ssl::take_incomplete();
            if e.eval(src) {
                let _ = super::fetch_ssl::take_incomplete();
                return Tri::Pass;
            }
            if super::fetch_ssl::take_incomplete() {
                res = Tri::Miss;
            }
        }
        res
    }
}

/// A condition's result while bytes may still come (HAProxy's
/// `ACL_TEST_PASS`, `ACL_TEST_MISS`, `ACL_TEST_FAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tri {
    Pass,
    Miss, // not true yet; more bytes may make it so (or make it false)
    Fail,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::Pass => Tri::Fail,
            Tri::Fail => Tri::Pass,
            Tri::Miss => Tri::Miss,
        }
    }
}

/// The named ACLs of one proxy, filled by the configuration loader with
/// each `acl` line in order, read by [`compile`]. A name declared several
/// times ORs its expressions. A condition keeps the ACLs as they were when
/// it was compiled (HAProxy too refuses a name declared after its use).
#[derive(Clone, Debug, Default)]
pub struct AclSet {
    acls: Vec<(String, Arc<Acl>)>, // declaration order
}

/// HAProxy's predefined ACLs, used when the proxy declares no ACL of that name.
const PREDEFINED: &[(&str, &[&str])] = &[
    ("TRUE", &["always_true"]),
    ("FALSE", &["always_false"]),
    ("HTTP", &["req.proto_http"]),
    ("HTTP_1.0", &["req.ver", "1.0"]),
    ("HTTP_1.1", &["req.ver", "1.1"]),
    ("HTTP_URL_ABS", &["url_reg", "^[^/:]*://"]),
    ("HTTP_URL_SLASH", &["url_beg", "/"]),
    ("HTTP_URL_STAR", &["url", "*"]),
    ("LOCALHOST", &["src", "127.0.0.1/8", "::1"]),
    ("METH_CONNECT", &["method", "CONNECT"]),
    ("METH_DELETE", &["method", "DELETE"]),
    ("METH_GET", &["method", "GET", "HEAD"]),
    ("METH_HEAD", &["method", "HEAD"]),
    ("METH_OPTIONS", &["method", "OPTIONS"]),
    ("METH_POST", &["method", "POST"]),
    ("METH_PUT", &["method", "PUT"]),
    ("METH_TRACE", &["method", "TRACE"]),
    ("REQ_CONTENT", &["req.len", "gt", "0"]),
    ("WAIT_END", &["wait_end"]),
];

impl AclSet {
    /// An empty set.
    pub fn new() -> AclSet {
        AclSet::default()
    }

    /// Adds `acl NAME WORDS...` (`words`: what follows the name).
    pub fn add(&mut self, name: &str, words: &[String], loc: &Loc) -> Result<(), AclError> {
        let err = |kind| AclError { loc: loc.clone(), acl: Some(name.to_owned()), kind: Box::new(kind) };
        if name.is_empty() {
            return Err(err(AclErrorKind::BadName { name: String::new(), bad: None }));
        }
        if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "_-.:".contains(*c))) {
            return Err(err(AclErrorKind::BadName { name: name.to_owned(), bad: Some(bad) }));
        }
        let expr = Expr::parse(words).map_err(err)?;
        match self.acls.iter_mut().find(|(n, _)| n == name) {
            Some((_, acl)) => Arc::make_mut(acl).exprs.push(expr),
            None => self.acls.push((name.to_owned(), Arc::new(Acl { exprs: vec![expr] }))),
        }
        Ok(())
    }

    /// Whether an ACL called `name` was declared.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    fn find(&self, name: &str) -> Option<&Arc<Acl>> {
        self.acls.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
}

/// A compiled `if`/`unless` condition: true when any suite has all its
/// terms true (then inverted by `unless`). Owned by its rule; immutable and
/// shareable between worker threads.
#[derive(Clone, Debug)]
pub struct Condition {
    negate: bool,           // `unless`
    suites: Vec<Vec<Term>>, // OR of ANDs; none at all: never true
}

/// One ACL reference in a suite, possibly negated with `!`.
#[derive(Clone, Debug)]
struct Term {
    acl: Arc<Acl>,
    neg: bool,
}

/// Compiles the words of a condition against the proxy's named ACLs.
/// Syntax (HAProxy's): terms in a row are AND-ed, `||` or `or` separates
/// OR-ed suites (AND binds tighter), `!` (repeatable, may be glued to the
/// word) negates, `{ FETCH [flags] PATTERNS }` is an anonymous ACL, and an
/// undeclared upper-case name may be a predefined ACL (`TRUE`, `METH_GET`...).
pub fn compile(cond: &Cond, acls: &AclSet) -> Result<Condition, AclError> {
    let err = |kind| AclError { loc: cond.loc.clone(), acl: None, kind: Box::new(kind) };
    let mut suites: Vec<Vec<Term>> = Vec::new();
    let mut suite: Vec<Term> = Vec::new();
    let mut neg = false;
    let mut i = 0;
    while let Some(word) = cond.words.get(i) {
        i += 1;
        let mut word = word.as_str();
        while let Some(rest) = word.strip_prefix('!') {
            neg = !neg;
            word = rest;
        }
        if word.is_empty() {
            continue; // a lone `!` negates the next term
        }
        if word == "||" || word.eq_ignore_ascii_case("or") {
            if !suite.is_empty() {
                suites.push(std::mem::take(&mut suite));
            }
            neg = false;
            continue;
        }
        let acl = if word == "{" {
            let inner = &cond.words[i..];
            let Some(close) = inner.iter().position(|w| w == "}") else {
                return Err(err(AclErrorKind::MissingBrace));
            };
            i += close + 1;
            Arc::new(Acl { exprs: vec![Expr::parse(&inner[..close]).map_err(err)?] })
        } else if let Some(acl) = acls.find(word) {
            Arc::clone(acl)
        } else if let Some((_, words)) = PREDEFINED.iter().find(|(n, _)| *n == word) {
            Arc::new(Acl { exprs: vec![Expr::parse(words).map_err(err)?] })
        } else {
            return Err(err(AclErrorKind::NoSuchAcl { name: word.to_owned() }));
        };
        suite.push(Term { acl, neg });
        neg = false;
    }
    if !suite.is_empty() {
        suites.push(suite);
    }
    Ok(Condition { negate: cond.negate, suites })
}

impl Condition {
    /// Evaluates the condition for one stream. Called by the rule engines
    /// of the stream and HTTP layers; reads `src` only, allocates nothing.
    pub fn eval(&self, src: &dyn SampleSource) -> bool {
        let hit = self.suites.iter().any(|suite| suite.iter().all(|t| t.acl.eval(src) != t.neg));
        hit != self.negate
    }

    /// [`Condition::eval`] for rules that may wait for more bytes (`tcp-request
    /// content` with an inspect delay), as HAProxy's `acl_exec_cond`: a term
    /// that fails on bytes still to come misses, an AND-ed suite fails on
    /// its first failed term, a passed suite passes the condition; `!` and
    /// `unless` keep a miss a miss.
    pub fn eval_partial(&self, src: &dyn SampleSource) -> Tri {
        let mut cond = Tri::Fail;
        for suite in &self.suites {
            let mut res = Tri::Pass;
            for t in suite {
                let r = t.acl.eval_partial(src);
                match if t.neg { r.not() } else { r } {
                    Tri::Fail => {
                        res = Tri::Fail;
                        break;
                    }
                    Tri::Miss => res = Tri::Miss,
                    Tri::Pass => {}
                }
            }
            match res {
                Tri::Pass => {
                    cond = Tri::Pass;
                    break;
                }
                Tri::Miss => cond = Tri::Miss,
                Tri::Fail => {}
            }
        }
        if self.negate { cond.not() } else { cond }
    }
}
