//! One ACL expression, `FETCH [flags] [operator] PATTERN...`: its parsing
//! (flags `-i -n -m -f --`, integer operators, pattern files) and its
//! evaluation against a [`SampleSource`].

use std::ops::ControlFlow;

use super::error::AclErrorKind;
use super::fetch::{Fetch, SmpType};
use super::fetch_ext::ExtFetch;
use super::keyword::{parse_fetch, parse_i64};
use super::pattern::{self, Matcher, Pattern};
use super::source::SampleSource;

/// A compiled expression: true when any sample of `fetch` matches any
/// pattern. Owned by its [`Acl`](super::cond::Acl); immutable.
#[derive(Clone, Debug)]
pub(crate) struct Expr {
    chain: super::value::Chain,
    matcher: Matcher,
    icase: bool,            // `-i`
    patterns: Vec<Pattern>, // from the line and from `-f` files
}

/// Integer operators (`eq ge gt le lt ne`), which apply to the following
/// plain numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Expr {
    /// Parses the words of one expression (what follows the ACL name, or
    /// what is between `{` and `}`).
    pub(crate) fn parse<S: AsRef<str>>(words: &[S]) -> Result<Expr, AclErrorKind> {
        let Some(first) = words.first().map(AsRef::as_ref) else {
            return Err(AclErrorKind::MissingFetch { expr: String::new() });
        };
        let mut parsed = parse_fetch(first)?;
        let mut icase = false;
        let mut explicit: Option<Matcher> = None;
        let mut files: Vec<&str> = Vec::new();
        let mut i = 1;
        while let Some(word) = words.get(i).map(AsRef::as_ref).filter(|w| w.starts_with('-')) {
            i += 1;
            match word {
                "-i" => icase = true,
                "-n" => {} // no DNS: patterns are never resolved anyway
                "--" => break,
                "-f" => {
                    files.push(words.get(i).map_or("", AsRef::as_ref));
                    i += 1;
                }
                "-m" => {
                    let name = words.get(i).map_or("", AsRef::as_ref);
                    i += 1;
                    let m = Matcher::from_name(name)
                        .ok_or_else(|| AclErrorKind::UnknownMatch { name: name.to_owned() })?;
                    explicit = Some(m);
                }
                _ => return Err(AclErrorKind::BadOption { word: word.to_owned() }),
            }
        }
        let matcher = explicit.or(parsed.implied).unwrap_or(match parsed.out {
            SmpType::Bool => Matcher::Bool,
            SmpType::Int => Matcher::Int,
            SmpType::Ip => Matcher::Ip,
            SmpType::Str => Matcher::Str,
            SmpType::Bin => Matcher::Bin,
        });
        // `http_auth_group(list) G1 G2`: the patterns are group names.
        if let Fetch::Ext(ExtFetch::HttpAuthGroup { groups, .. }) = &mut parsed.chain.fetch {
            groups.extend(words.iter().skip(i).map(|w| Box::<str>::from(w.as_ref())));
            return Ok(Expr { chain: parsed.chain, matcher: Matcher::Bool, icase, patterns: Vec::new() });
        }
        let mut patterns = Vec::new();
        let mut op = Op::Eq;
        for word in words.iter().skip(i).map(AsRef::as_ref) {
            if matcher.takes_ints() {
                if let Some(o) = operator(word) {
                    op = o;
                    continue;
                }
                if op != Op::Eq && !word.contains([':', '-']) {
                    let v =
                        parse_i64(word).ok_or_else(|| AclErrorKind::BadOperand { text: word.to_owned() })?;
                    let range = |min, max| Pattern::Range { min, max };
                    match op {
                        Op::Eq => patterns.push(range(Some(v), Some(v))),
                        Op::Ge => patterns.push(range(Some(v), None)),
                        Op::Le => patterns.push(range(None, Some(v))),
                        Op::Gt => patterns.push(range(v.checked_add(1), None)),
                        Op::Lt => patterns.push(range(None, v.checked_sub(1))),
                        Op::Ne => {
                            patterns.extend(v.checked_sub(1).map(|m| range(None, Some(m))));
                            patterns.extend(v.checked_add(1).map(|m| range(Some(m), None)));
                        }
                    }
                    continue;
                }
            }
            patterns.extend(pattern::parse(matcher, icase, word)?);
        }
        for path in files {
            load_file(path, matcher, icase, &mut patterns)?;
        }
        Ok(Expr { chain: parsed.chain, matcher, icase, patterns })
    }

    /// True when any sample matches any pattern (`found`/`bool`: see
    /// [`Matcher`]). No allocation.
    pub(crate) fn eval(&self, src: &dyn SampleSource) -> bool {
        if self.patterns.is_empty() && !matches!(self.matcher, Matcher::Found | Matcher::Bool) {
            return false; // HAProxy warns: such an ACL never matches
        }
        let mut hit = false;
        let _ = self.chain.each(src, &mut |s| {
            if pattern::matches(self.matcher, self.icase, &self.patterns, s) {
                hit = true;
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        hit
    }
}

fn operator(word: &str) -> Option<Op> {
    Some(match word {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "lt" => Op::Lt,
        "le" => Op::Le,
        _ => return None,
    })
}

/// `-f FILE`: one pattern per line; leading blanks skipped, empty lines and
/// `#` comments ignored, trailing blanks kept (as HAProxy does).
fn load_file(path: &str, m: Matcher, icase: bool, out: &mut Vec<Pattern>) -> Result<(), AclErrorKind> {
    let bytes = std::fs::read(path).map_err(|_| AclErrorKind::PatternFile { path: path.to_owned() })?;
    let text = String::from_utf8_lossy(&bytes);
    for (n, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches(['\r', '\n']).trim_start_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = pattern::parse(m, icase, line).map_err(|inner| AclErrorKind::InFile {
            inner: Box::new(inner),
            line: n + 1,
            path: path.to_owned(),
        })?;
        out.extend(parsed);
    }
    Ok(())
}
