//! The condition language of `.if`/`.elif` and of `-cc`, as HAProxy 2.6
//! parses and evaluates it (its `cfgcond.c`), messages included.
//!
//! ```text
//! expr := and ( '||' expr )?        and  := term ( '&&' and )?
//! term := '!'* ( NUMBER | '(' expr ')' | PREDICATE '(' args ')' )
//! ```
//!
//! A number is true when not zero (C `strtol` with base 0: `0x1f`, `010`,
//! `-1`). Predicates: `defined(VAR)`, `feature(NAME)`, `streq(A,B)`,
//! `strneq(A,B)`, `version_atleast(V)`, `version_before(V)`,
//! `openssl_version_atleast(V)`, `openssl_version_before(V)`,
//! `ssllib_name_startswith(S)`. Arguments follow HAProxy's argument
//! syntax: quotes and `\` escapes, split at unquoted `,` and `)`.
//!
//! The whole expression is parsed before anything is evaluated, so a
//! syntax error is reported even in a branch `||` would skip. The text is
//! one string: the `.if` line's words joined by single spaces, as HAProxy
//! re-merges them.

use crate::core::features;

/// Why a condition could not be evaluated: HAProxy's message and the byte
/// offset in the text of the character it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    pub msg: String,
    pub pos: usize, // byte offset into the condition text
}

/// What predicates consult: the environment and the SSL library. Tests
/// pass their own; [`ProcessEnv`] is the real process.
pub trait CondEnv {
    /// The value of environment variable `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// A lookup function is an environment (the parser passes its own, which
/// sees the `setenv` lines read so far).
impl<F: Fn(&str) -> Option<String>> CondEnv for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The running process's environment.
#[derive(Debug)]
pub struct ProcessEnv;

impl CondEnv for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
}

/// HAProxy's recursion bound (`MAX_CFG_RECURSION`).
const MAX_DEPTH: i32 = 1024;

/// Evaluates condition `text`: true, false, or HAProxy's error. An empty
/// condition is false.
pub fn eval(text: &str, env: &dyn CondEnv) -> Result<bool, CondError> {
    let p = Parser { s: text.as_bytes(), text };
    if text.is_empty() {
        return Ok(false);
    }
    match p.expr(0, MAX_DEPTH)? {
        Step::Got(expr, end) => {
            let rest = p.skip_blanks(end);
            if let Some(&c) = p.s.get(rest) {
                return Err(CondError {
                    msg: format!(
                        "unexpected character '{}' at the end of conditional expression '{text}'",
                        c as char
                    ),
                    pos: rest,
                });
            }
            expr.eval(env)
        }
        Step::Desync(pos) => {
            Err(CondError { msg: format!("unparsable conditional expression '{text}'"), pos })
        }
    }
}

/// The predicates HAProxy 2.6 knows, with their argument count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pred {
    Defined,
    Feature,
    StrEq,
    StrNeq,
    VersionAtLeast,
    VersionBefore,
    OsslVersionAtLeast,
    OsslVersionBefore,
    SslLibNameStartsWith,
}

const PREDICATES: [(&str, Pred, usize); 9] = [
    ("defined", Pred::Defined, 1),
    ("feature", Pred::Feature, 1),
    ("streq", Pred::StrEq, 2),
    ("strneq", Pred::StrNeq, 2),
    ("version_atleast", Pred::VersionAtLeast, 1),
    ("version_before", Pred::VersionBefore, 1),
    ("openssl_version_atleast", Pred::OsslVersionAtLeast, 1),
    ("openssl_version_before", Pred::OsslVersionBefore, 1),
    ("ssllib_name_startswith", Pred::SslLibNameStartsWith, 1),
];

/// A parsed term with its negation.
#[derive(Debug)]
struct Term {
    neg: bool,
    kind: TermKind,
}

#[derive(Debug)]
enum TermKind {
    Const(bool),
    Paren(Box<Expr>),
    Pred(Pred, &'static str, Vec<String>), // predicate, its name, its arguments
}

/// `a && b && ...` (`terms`), or-ed together in [`Expr`].
#[derive(Debug)]
struct And {
    terms: Vec<Term>,
}

/// `and || and || ...`.
#[derive(Debug)]
struct Expr {
    ands: Vec<And>,
}

impl Expr {
    /// OR: stops at the first true or error.
    fn eval(&self, env: &dyn CondEnv) -> Result<bool, CondError> {
        for and in &self.ands {
            if and.eval(env)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl And {
    /// AND: stops at the first false or error.
    fn eval(&self, env: &dyn CondEnv) -> Result<bool, CondError> {
        for t in &self.terms {
            if !t.eval(env)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Term {
    fn eval(&self, env: &dyn CondEnv) -> Result<bool, CondError> {
        let v = match &self.kind {
            TermKind::Const(v) => *v,
            TermKind::Paren(e) => e.eval(env)?,
            TermKind::Pred(p, name, args) => eval_pred(*p, name, args, env)?,
        };
        Ok(v != self.neg)
    }
}

fn eval_pred(p: Pred, name: &str, args: &[String], env: &dyn CondEnv) -> Result<bool, CondError> {
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    Ok(match p {
        Pred::Defined => env.var(arg(0)).is_some(),
        Pred::Feature => features::has(arg(0)),
        Pred::StrEq => arg(0) == arg(1),
        Pred::StrNeq => arg(0) != arg(1),
        // An unparsable version compares as newer (HAProxy returns -3, which "<= 0" takes).
        Pred::VersionAtLeast => compare_version(arg(0)).is_none_or(|o| o.is_le()),
        Pred::VersionBefore => compare_version(arg(0)).is_some_and(|o| o.is_gt()),
        Pred::OsslVersionAtLeast | Pred::OsslVersionBefore => {
            return Err(CondError {
                msg: format!("predicate '{name}' cannot be evaluated: strata is built without OpenSSL"),
                pos: 0,
            });
        }
        // No SSL library: no name starts with anything (HAProxy's answer without OpenSSL).
        Pred::SslLibNameStartsWith => false,
    })
}

/// `version` against strata's HAProxy version: `Less` when `version` is
/// older. None when `version` does not parse.
fn compare_version(version: &str) -> Option<std::cmp::Ordering> {
    let mine = split_version(features::VERSION)?;
    let theirs = split_version(version)?;
    Some(theirs.cmp(&mine))
}

/// HAProxy's `split_version`: `a.b.c.d-tagN-commit` → 7 numbers; `dev` is
/// tag 1, `rc`/`pre` 2, a release 3; missing numbers are 0.
fn split_version(v: &str) -> Option<[u64; 7]> {
    let mut out = [0, 0, 0, 0, 3, 0, 0];
    if v.is_empty() {
        return None;
    }
    let b = v.as_bytes();
    let mut p = 0;
    // a.b.c.d: up to four dot-separated numbers
    let mut i = 0;
    loop {
        let (n, end) = strtol10(b, p);
        out[i] = n;
        match b.get(end) {
            None => return Some(out),
            Some(b'-') => {
                p = end + 1;
                break;
            }
            Some(b'.') if i < 3 => p = end + 1,
            _ => return None,
        }
        i += 1;
    }
    // tag: devN, rcN, preN (else straight to the commit number)
    let tag = [("dev", 1), ("rc", 2), ("pre", 2)].iter().find(|(t, _)| b[p..].starts_with(t.as_bytes()));
    if let Some((t, n)) = tag.filter(|_| !b.get(p).is_some_and(u8::is_ascii_digit)) {
        out[4] = *n;
        p += t.len();
        let (n, end) = strtol10(b, p);
        out[5] = n;
        match b.get(end) {
            None => return Some(out),
            Some(b'-') => p = end + 1,
            _ => return None,
        }
    }
    // commit: the number after the last '-' (or the rest), 0 if not a number
    let rest = &v[p..];
    let commit = match rest.rfind('-') {
        Some(i) if i + 1 == rest.len() => return None,
        Some(i) => &rest[i + 1..],
        None => rest,
    };
    out[6] = commit.parse().unwrap_or(0);
    Some(out)
}

/// C `strtol(s, &end, 10)` on unsigned digits: the value and where it stopped.
fn strtol10(b: &[u8], start: usize) -> (u64, usize) {
    let mut end = start;
    let mut n: u64 = 0;
    while let Some(d) = b.get(end).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(u64::from(d - b'0'));
        end += 1;
    }
    (n, end)
}

/// Recursive-descent parser over the condition text; positions are byte
/// offsets.
struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
}

/// A parse step: what was read and where it ended, or HAProxy's
/// "desynchronized" (nothing parsable at this offset), which the caller
/// turns into its own message.
enum Step<T> {
    Got(T, usize),
    Desync(usize),
}

type Parsed<T> = Result<Step<T>, CondError>;

impl Parser<'_> {
    fn skip_blanks(&self, mut i: usize) -> usize {
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    }

    fn at(&self, i: usize) -> &str {
        self.text.get(i..).unwrap_or("")
    }

    fn unparsable(&self, what: &str, at: usize) -> CondError {
        CondError { msg: format!("unparsable conditional {what} '{}'", self.at(at)), pos: at }
    }

    fn expr(&self, start: usize, depth: i32) -> Parsed<Expr> {
        if start >= self.s.len() {
            return Ok(Step::Desync(start));
        }
        if depth <= 0 {
            return Err(self.unparsable("expression", start));
        }
        let (first, end) = match self.and(start, depth - 1)? {
            Step::Got(a, end) => (a, end),
            Step::Desync(at) => return Err(self.unparsable("expression", at)),
        };
        let mut ands = vec![first];
        let op = self.skip_blanks(end);
        if !self.s[op..].starts_with(b"||") {
            return Ok(Step::Got(Expr { ands }, op));
        }
        match self.expr(self.skip_blanks(op + 2), depth - 1)? {
            Step::Got(rest, end) => {
                ands.extend(rest.ands);
                Ok(Step::Got(Expr { ands }, end))
            }
            // Nothing after `||`: desynchronized at the `||` itself.
            Step::Desync(_) => Ok(Step::Desync(op)),
        }
    }

    fn and(&self, start: usize, depth: i32) -> Parsed<And> {
        if start >= self.s.len() {
            return Ok(Step::Desync(start));
        }
        if depth <= 0 {
            return Err(self.unparsable("sub-expression", start));
        }
        let (first, end) = match self.term(start, depth - 1)? {
            Step::Got(t, end) => (t, end),
            Step::Desync(_) => return Err(self.unparsable("sub-expression", start)),
        };
        let mut terms = vec![first];
        let op = self.skip_blanks(end);
        if !self.s[op..].starts_with(b"&&") {
            return Ok(Step::Got(And { terms }, op));
        }
        match self.and(self.skip_blanks(op + 2), depth - 1)? {
            Step::Got(rest, end) => {
                terms.extend(rest.terms);
                Ok(Step::Got(And { terms }, end))
            }
            Step::Desync(_) => Ok(Step::Desync(op)),
        }
    }

    fn term(&self, start: usize, depth: i32) -> Parsed<Term> {
        let mut i = self.skip_blanks(start);
        if i >= self.s.len() {
            return Ok(Step::Desync(i));
        }
        if depth <= 0 {
            return Err(self.unparsable("expression", start));
        }
        let mut neg = false;
        while self.s.get(i) == Some(&b'!') {
            neg = !neg;
            i = self.skip_blanks(i + 1);
        }
        if let Some((v, end)) = strtol0(self.s, i) {
            return Ok(Step::Got(Term { neg, kind: TermKind::Const(v) }, end));
        }
        if self.s.get(i) == Some(&b'(') {
            let (e, end) = match self.expr(self.skip_blanks(i + 1), depth - 1)? {
                Step::Got(e, end) => (e, end),
                Step::Desync(_) => return Err(self.unparsable("expression", start)),
            };
            let close = self.skip_blanks(end);
            if self.s.get(close) != Some(&b')') {
                return Err(CondError {
                    msg: format!("expected ')' after conditional expression '{}'", self.at(start)),
                    pos: start,
                });
            }
            let after = self.skip_blanks(close + 1);
            return Ok(Step::Got(Term { neg, kind: TermKind::Paren(Box::new(e)) }, after));
        }
        let word_end =
            self.s[i..].iter().position(|&c| c == b' ' || c == b'(').map_or(self.s.len(), |n| i + n);
        let word = &self.text[i..word_end];
        let Some(&(name, pred, nargs)) = PREDICATES.iter().find(|(n, _, _)| *n == word) else {
            return Err(self.unparsable("expression", start));
        };
        match parse_args(self.s, word_end, nargs) {
            Ok((args, end)) => Ok(Step::Got(Term { neg, kind: TermKind::Pred(pred, name, args) }, end)),
            Err((msg, arg, at)) => Err(CondError {
                msg: format!("{msg} in argument {arg} of predicate '{name}' used in conditional expression"),
                pos: at,
            }),
        }
    }
}

/// C `strtol(s, &end, 0)` from `i`: None when no digit was read, else
/// (value != 0, end).
fn strtol0(s: &[u8], i: usize) -> Option<(bool, usize)> {
    let mut p = i;
    if matches!(s.get(p), Some(b'+' | b'-')) {
        p += 1;
    }
    let is_hex_prefix = s.get(p) == Some(&b'0')
        && matches!(s.get(p + 1), Some(b'x' | b'X'))
        && s.get(p + 2).is_some_and(u8::is_ascii_hexdigit);
    let (digits_start, radix) = if is_hex_prefix {
        (p + 2, 16)
    } else if s.get(p) == Some(&b'0') {
        (p, 8)
    } else {
        (p, 10)
    };
    let mut end = digits_start;
    let mut nonzero = false;
    while let Some(&c) = s.get(end) {
        match (c as char).to_digit(radix) {
            Some(d) => nonzero |= d != 0,
            None => break,
        }
        end += 1;
    }
    (end > digits_start).then_some((nonzero, end))
}

/// HAProxy's `make_arg_list` for string arguments: `(a,b)` with quotes and
/// `\` escapes. `Ok((args, end))` with `end` after the `)`; on error its
/// message, the argument number HAProxy reports and where it stopped.
fn parse_args(s: &[u8], mut i: usize, nargs: usize) -> Result<(Vec<String>, usize), (String, usize, usize)> {
    let mut args = Vec::new();
    let empty = s.get(i) != Some(&b'(');
    if empty {
        // HAProxy still reads one (empty) mandatory argument without parentheses.
        args.push(String::new());
    } else {
        i += 1;
        while args.len() < nargs {
            let mut out = Vec::new();
            let (mut squote, mut dquote) = (false, false);
            while let Some(&c) = s.get(i) {
                match c {
                    b'"' if !squote => dquote = !dquote,
                    b'\'' if !dquote => squote = !squote,
                    b'\\' if !squote => {
                        let Some(&next) = s.get(i + 1) else {
                            let msg = format!(
                                "failed to parse '\\' after '{}' as type 'string' at position {}",
                                String::from_utf8_lossy(&out),
                                args.len() + 1
                            );
                            return Err((msg, args.len(), i));
                        };
                        match next {
                            b'\\' | b' ' | b'"' | b'\'' => out.push(next),
                            b'r' => out.push(b'\r'),
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            _ => {
                                out.push(b'\\');
                                i += 1;
                                continue;
                            }
                        }
                        i += 1;
                    }
                    b',' | b')' if !squote && !dquote => break,
                    _ => out.push(c),
                }
                i += 1;
            }
            args.push(String::from_utf8_lossy(&out).into_owned());
            if args.len() >= nargs || !matches!(s.get(i), Some(b',')) {
                break;
            }
            i += 1; // the comma
        }
    }
    if args.len() < nargs {
        let msg = format!("missing arguments (got {}/{nargs}), type 'string' expected", args.len());
        return Err((msg, args.len(), i));
    }
    if empty {
        return Ok((args, i));
    }
    if s.get(i) == Some(&b')') {
        return Ok((args, i + 1));
    }
    let rest = String::from_utf8_lossy(s.get(i..).unwrap_or_default());
    let msg =
        if rest.is_empty() { "expected ')'".to_owned() } else { format!("expected ')' before '{rest}'") };
    let arg = if args.len() > 1 { args.len() - 1 } else { args.len() };
    Err((msg, arg, i))
}

#[cfg(test)]
mod tests;
