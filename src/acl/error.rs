//! [`AclError`]: everything that can be wrong in an `acl` line or a rule
//! condition, worded as HAProxy 2.6 words it (`haproxy -c`).

use std::fmt;

use crate::cfg::Loc;

/// A refused `acl` declaration or condition. Created by the ACL parser,
/// handed to the configuration loader, which prints it after
/// `parsing [file:line] : ` (see [`AclError::loc`]).
///
/// `Display` gives:
/// - for an `acl` line, the whole HAProxy sentence:
///   `error detected while parsing ACL 'x' : unknown fetch method 'foo' in ACL expression 'foo'.`
/// - for a condition, only the detail (`no such ACL : 'y'`), because the
///   rule kind is the caller's: HAProxy prints
///   `error detected while parsing switching rule : no such ACL : 'y'.`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclError {
    pub loc: Loc,                // where the acl line or the rule was written
    pub acl: Option<String>,     // Some(name) for an `acl` line, None for a condition
    pub kind: Box<AclErrorKind>, // what is wrong (boxed: keeps `Result`s small)
}

/// What is wrong, one variant per HAProxy message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclErrorKind {
    /// `character '!' is not permitted in acl name 'x!'` (empty name: `missing acl name`)
    BadName { name: String, bad: Option<char> },
    /// `missing fetch method in ACL expression '(host)'`
    MissingFetch { expr: String },
    /// `unknown fetch method 'foo' in ACL expression 'foo'`
    UnknownFetch { name: String, expr: String },
    /// Bad fetch arguments or suffix. `acl_kw`: HAProxy words it
    /// `ACL keyword 'hdr' : ...` instead of `fetch method 'req.hdr' : ... in ACL expression '...'`.
    FetchArg { kw: String, expr: String, acl_kw: bool, detail: String },
    /// `unknown matching method 'foo' when parsing ACL expression`
    UnknownMatch { name: String },
    /// `'-z' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'`
    BadOption { word: String },
    /// `'abc' is not a number`
    NotANumber { text: String },
    /// `'5:3' is not a valid number range`
    BadRange { text: String },
    /// `'abc' is neither a number nor a supported operator`
    BadOperand { text: String },
    /// `'300.1.1.1' is not a valid IPv4 or IPv6 address`
    BadAddress { text: String },
    /// `'abc' is not a valid hexadecimal binary string` (`-m bin`)
    BadHex { text: String },
    /// `regex '(' is invalid (error=unclosed group)`
    BadRegex { regex: String, detail: String },
    /// `failed to open pattern file <path>`
    PatternFile { path: String },
    /// A pattern error inside a `-f` file: `<inner> at line 2 of file 'path'`
    InFile { inner: Box<AclErrorKind>, line: usize, path: String },
    /// `no such ACL : 'y'`
    NoSuchAcl { name: String },
    /// `missing closing '}' in condition`
    MissingBrace,
}

impl AclError {
    /// Where the offending line was written.
    pub fn loc(&self) -> &Loc {
        &self.loc
    }
}

impl fmt::Display for AclError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.acl, &*self.kind) {
            // HAProxy reports a bad name before parsing the ACL itself.
            (_, AclErrorKind::BadName { .. }) => write!(f, "{}", self.kind),
            (Some(name), kind) => write!(f, "error detected while parsing ACL '{name}' : {kind}."),
            (None, kind) => write!(f, "{kind}"),
        }
    }
}

impl fmt::Display for AclErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AclErrorKind::*;
        match self {
            BadName { name, bad: Some(c) } => {
                write!(f, "character '{c}' is not permitted in acl name '{name}'")
            }
            BadName { bad: None, .. } => write!(f, "missing acl name"),
            MissingFetch { expr } => write!(f, "missing fetch method in ACL expression '{expr}'"),
            UnknownFetch { name, expr } => {
                write!(f, "unknown fetch method '{name}' in ACL expression '{expr}'")
            }
            FetchArg { kw, acl_kw: true, detail, .. } => write!(f, "ACL keyword '{kw}' : {detail}"),
            FetchArg { kw, expr, acl_kw: false, detail } => {
                write!(f, "fetch method '{kw}' : {detail} in ACL expression '{expr}'")
            }
            UnknownMatch { name } => {
                write!(f, "unknown matching method '{name}' when parsing ACL expression")
            }
            BadOption { word } => write!(
                f,
                "'{word}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
            ),
            NotANumber { text } => write!(f, "'{text}' is not a number"),
            BadRange { text } => write!(f, "'{text}' is not a valid number range"),
            BadOperand { text } => write!(f, "'{text}' is neither a number nor a supported operator"),
            BadAddress { text } => write!(f, "'{text}' is not a valid IPv4 or IPv6 address"),
            BadHex { text } => write!(f, "'{text}' is not a valid hexadecimal binary string"),
            BadRegex { regex, detail } => write!(f, "regex '{regex}' is invalid (error={detail})"),
            PatternFile { path } => write!(f, "failed to open pattern file <{path}>"),
            InFile { inner, line, path } => write!(f, "{inner} at line {line} of file '{path}'"),
            NoSuchAcl { name } => write!(f, "no such ACL : '{name}'"),
            MissingBrace => write!(f, "missing closing '}}' in condition"),
        }
    }
}

impl std::error::Error for AclError {}
