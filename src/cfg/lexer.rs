//! Lexer: one configuration line → words, with HAProxy 2.6's rules.
//!
//! - Blanks (space, tab) separate words; an unquoted, unescaped `#` starts
//!   a comment that runs to the end of the line.
//! - `\` escapes the next character: `\ `, `\#`, `\\`, `\'`, `\"` give
//!   that character (`\$` too, inside double quotes only), `\t`, `\n`, `\r`
//!   the control character and `\xHH` the byte HH. Any other `\c` is kept
//!   as the two characters.
//! - Double quotes group blanks into one word, keep `\` escapes and expand
//!   environment variables: `$NAME`, `${NAME}`, `${NAME-default}` (default
//!   when unset) and `${NAME[*]}` (the value split on blanks into several
//!   words), and HAProxy's pseudo-variables `${.FILE}`, `${.LINE}`,
//!   `${.SECTION}` (the caller's `env` answers them). An unset variable
//!   expands to nothing.
//! - Single quotes group literally: no escape, no expansion.
//! - Outside double quotes `$` is an ordinary character here, as in HAProxy
//!   2.6's line parser. Unquoted `$VAR` still works where HAProxy takes an
//!   *address* (`bind :$PORT`, `server s1 $HOST:80`, `log $SYSLOG local0`,
//!   `stats socket $SOCK`): those words are expanded again by
//!   `parser::addr::expand_env`, HAProxy's `env_expand` (`$NAME` and
//!   `${NAME}` only; no default, no splitting). Both observed with
//!   `haproxy -c`.
//!
//! Errors carry the position of the offending character so the alert can
//! point at it the way HAProxy does.

use std::fmt;

/// What is wrong with a line that cannot be split into words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexErrorKind {
    UnmatchedQuote,   // a quote opened and never closed
    BadHex,           // `\x` not followed by two hexadecimal digits
    ForbiddenVarChar, // `$` not followed by a letter, `_` or `{`
    UnmatchedBrace,   // `${NAME` without its `}`
    WrongExpand,      // `${NAME[` not followed by `*]`
}

/// A lexing error: its kind and the byte offset in the line of the
/// character it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexError {
    pub kind: LexErrorKind,
    pub pos: usize, // byte offset of the offending character in the line
}

impl fmt::Display for LexErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LexErrorKind::UnmatchedQuote => "unmatched quote",
            LexErrorKind::BadHex => "truncated or invalid hexadecimal sequence",
            LexErrorKind::ForbiddenVarChar => "forbidden first char in environment variable name",
            LexErrorKind::UnmatchedBrace => "unmatched brace in environment variable name",
            LexErrorKind::WrongExpand => "truncated or invalid word expansion sequence",
        })
    }
}

impl LexError {
    /// HAProxy's message: the error, its 1-based position, then the line
    /// and a caret under the offending character.
    pub fn render(&self, line: &str) -> String {
        let start = line.len() - line.trim_start_matches([' ', '\t']).len();
        let column = |end: usize| line.get(..end).map_or(end, |s| s.chars().count());
        let caret = column(self.pos).saturating_sub(column(start));
        format!(
            "{} at position {}:\n  {}\n  {}^",
            self.kind,
            column(self.pos) + 1,
            &line[start..],
            " ".repeat(caret)
        )
    }
}

/// Splits `line` into words, expanding variables from the process
/// environment.
pub fn split_line(line: &str) -> Result<Vec<String>, LexError> {
    split_line_with(line, &|name| std::env::var(name).ok())
}

/// Splits `line` into words, looking variables up with `env` (tests pass
/// a fixed table).
pub fn split_line_with(line: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, LexError> {
    split(line, env, true)
}

/// Splits `line` with `#` as an ordinary character: how HAProxy reads the
/// condition given to `-cc`.
pub fn split_no_comments(line: &str) -> Result<Vec<String>, LexError> {
    split(line, &|name| std::env::var(name).ok(), false)
}

fn split(line: &str, env: &dyn Fn(&str) -> Option<String>, comments: bool) -> Result<Vec<String>, LexError> {
    let mut lx =
        Lexer { b: line.as_bytes(), i: 0, words: Vec::new(), cur: Vec::new(), in_word: false, comments };
    lx.run(env)?;
    Ok(lx.words.into_iter().map(super::raw_bytes::word).collect())
}

/// Quoting state while scanning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single(usize), // byte offset of the opening quote
    Double(usize),
}

/// Scanner state: bytes, position, finished words and the word in progress.
struct Lexer<'a> {
    b: &'a [u8],
    i: usize,
    words: Vec<Vec<u8>>,
    cur: Vec<u8>,
    in_word: bool,  // a word was started (possibly empty, as `''`)
    comments: bool, // an unquoted `#` starts a comment
}

impl Lexer<'_> {
    fn run(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), LexError> {
        let mut quote = Quote::None;
        while let Some(&c) = self.b.get(self.i) {
            match quote {
                Quote::Single(_) => {
                    if c == b'\'' {
                        quote = Quote::None;
                    } else {
                        self.cur.push(c);
                    }
                    self.i += 1;
                    continue;
                }
                Quote::None if c == b' ' || c == b'\t' => {
                    self.end_word();
                    self.i += 1;
                    continue;
                }
                Quote::None if (c == b'#' && self.comments) || c == b'\r' || c == b'\n' => break,
                _ => {}
            }
            self.in_word = true;
            match c {
                b'\\' => self.escape(matches!(quote, Quote::Double(_)))?,
                b'\'' if quote == Quote::None => {
                    quote = Quote::Single(self.i);
                    self.i += 1;
                }
                b'"' => {
                    quote = if quote == Quote::None { Quote::Double(self.i) } else { Quote::None };
                    self.i += 1;
                }
                b'$' if matches!(quote, Quote::Double(_)) => self.variable(env)?,
                _ => {
                    self.cur.push(c);
                    self.i += 1;
                }
            }
        }
        if let Quote::Single(pos) | Quote::Double(pos) = quote {
            return Err(LexError { kind: LexErrorKind::UnmatchedQuote, pos });
        }
        self.end_word();
        Ok(())
    }

    fn end_word(&mut self) {
        if self.in_word {
            self.words.push(std::mem::take(&mut self.cur));
            self.in_word = false;
        }
    }

    /// At a `\`: emits the escaped character and moves past the sequence
    /// (`in_dquote`: `\$` is an escape only inside double quotes).
    fn escape(&mut self, in_dquote: bool) -> Result<(), LexError> {
        let at = self.i;
        let out = match self.b.get(at + 1) {
            Some(&c @ (b' ' | b'\\' | b'\'' | b'"')) => c,
            Some(b'#') if self.comments => b'#',
            Some(b'$') if in_dquote => b'$',
            Some(b't') => b'\t',
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b'x') => {
                let hex = |k: usize| self.b.get(k).and_then(|&h| (h as char).to_digit(16));
                let (Some(hi), Some(lo)) = (hex(at + 2), hex(at + 3)) else {
                    return Err(LexError { kind: LexErrorKind::BadHex, pos: at });
                };
                self.cur.push((hi * 16 + lo) as u8);
                self.i += 4;
                return Ok(());
            }
            // Not an escape: the backslash stays, the next character is read normally.
            _ => {
                self.cur.push(b'\\');
                self.i += 1;
                return Ok(());
            }
        };
        self.cur.push(out);
        self.i += 2;
        Ok(())
    }

    /// At a `$` inside double quotes: expands `$NAME`, `${NAME}`,
    /// `${NAME-default}` or `${NAME[*]}` (also `$.NAME` pseudo-variables).
    fn variable(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), LexError> {
        self.i += 1;
        let brace = (self.b.get(self.i) == Some(&b'{')).then_some(self.i);
        if brace.is_some() {
            self.i += 1;
        }
        let name_start = self.i;
        match self.b.get(self.i) {
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b'.' => {}
            _ => return Err(LexError { kind: LexErrorKind::ForbiddenVarChar, pos: self.i }),
        }
        if self.b[self.i] == b'.' {
            self.i += 1;
        }
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.i += 1;
        }
        let name = String::from_utf8_lossy(&self.b[name_start..self.i]).into_owned();
        if name.starts_with('.') && ![".LINE", ".FILE", ".SECTION"].contains(&name.as_str()) {
            return Err(LexError { kind: LexErrorKind::ForbiddenVarChar, pos: name_start });
        }
        let mut value = env(&name).map(String::into_bytes);
        let mut split = false;
        if let Some(brace_pos) = brace {
            let unmatched = LexError { kind: LexErrorKind::UnmatchedBrace, pos: brace_pos };
            if self.b.get(self.i) == Some(&b'[') {
                if !self.b[self.i..].starts_with(b"[*]") {
                    return Err(LexError { kind: LexErrorKind::WrongExpand, pos: self.i });
                }
                split = true;
                self.i += 3;
            }
            if self.b.get(self.i) == Some(&b'-') {
                let start = self.i + 1;
                let len = self.b[start..].iter().position(|&c| c == b'}').ok_or(unmatched)?;
                if value.is_none() {
                    value = Some(self.b[start..start + len].to_vec());
                }
                self.i = start + len;
            }
            if self.b.get(self.i) != Some(&b'}') {
                return Err(unmatched);
            }
            self.i += 1;
        }
        let value = value.unwrap_or_default();
        if !split {
            self.cur.extend_from_slice(&value);
            return Ok(());
        }
        // `${NAME[*]}`: each run of blanks in the value ends the current
        // word (even an empty one, as HAProxy) and starts the next.
        let mut k = 0;
        while k < value.len() {
            if value[k].is_ascii_whitespace() {
                self.words.push(std::mem::take(&mut self.cur));
                while value.get(k).is_some_and(u8::is_ascii_whitespace) {
                    k += 1;
                }
            } else {
                self.cur.push(value[k]);
                k += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "FOO" => Some("bar".into()),
            "SP" => Some("a b".into()),
            "EMPTY" => Some(String::new()),
            "LEAD" => Some(" a b".into()),
            ".LINE" => Some("7".into()),
            ".FILE" => Some("t.cfg".into()),
            _ => None,
        }
    }

    fn words(line: &str) -> Vec<String> {
        match split_line_with(line, &env) {
            Ok(w) => w,
            Err(e) => panic!("{line:?}: {}", e.render(line)),
        }
    }

    fn err(line: &str) -> LexError {
        match split_line_with(line, &env) {
            Ok(w) => panic!("{line:?} gave {w:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn blanks_and_comments() {
        assert_eq!(words("  bind\t:80   # comment"), ["bind", ":80"]);
        assert_eq!(words("a#b c"), ["a"]);
        assert_eq!(words("# only a comment"), Vec::<String>::new());
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("a b\r"), ["a", "b"]);
    }

    #[test]
    fn escapes() {
        assert_eq!(words(r"c\#d a\ b"), ["c#d", "a b"]);
        assert_eq!(words(r"\\ \' \$"), ["\\", "'", "\\$"], "\\$ is an escape only in double quotes");
        assert_eq!(words(r#""\$" "\'""#), ["$", "'"]);
        assert_eq!(words(r"\x41\t|"), ["A\t|"]);
        assert_eq!(words(r"\q\ x"), ["\\q x"]);
        assert_eq!(words(r"foo\"), ["foo\\"]);
        assert_eq!(words(r#""a\"b""#), ["a\"b"]);
        assert_eq!(err(r"a \xZZ").kind, LexErrorKind::BadHex);
        assert_eq!(err(r"\x4").kind, LexErrorKind::BadHex);
    }

    #[test]
    fn quotes() {
        assert_eq!(words(r#""e#f" 'g h'"#), ["e#f", "g h"]);
        assert_eq!(words(r"'a\'b"), ["a\\b"]);
        assert_eq!(words(r#"a"b"c"#), ["abc"]);
        assert_eq!(words(r#""" x"#), ["", "x"]);
        assert_eq!(words("''"), [""]);
        let e = err("  node \"unterminated");
        assert_eq!(e, LexError { kind: LexErrorKind::UnmatchedQuote, pos: 7 });
        assert_eq!(
            e.render("  node \"unterminated"),
            "unmatched quote at position 8:\n  node \"unterminated\n       ^"
        );
        assert_eq!(err("a 'b").kind, LexErrorKind::UnmatchedQuote);
    }

    #[test]
    fn variables_only_in_double_quotes() {
        assert_eq!(words(r#""$FOO" "${FOO}x" "$FOO.y" "x${FOO}y""#), ["bar", "barx", "bar.y", "xbary"]);
        assert_eq!(words(r#"$FOO ${FOO} '$FOO' "\$FOO""#), ["$FOO", "${FOO}", "$FOO", "$FOO"]);
        assert_eq!(words(r#""${UNDEF}z" "$EMPTY""#), ["z", ""]);
        assert_eq!(words(r#""${FOO-def}" "${UNDEF-def}""#), ["bar", "def"]);
        assert_eq!(words(r#""$SP" "${SP[*]}""#), ["a b", "a", "b"]);
        assert_eq!(words(r#"x"${SP[*]}"y"#), ["xa", "by"]);
        assert_eq!(
            words(r#""${LEAD[*]}""#),
            ["", "a", "b"],
            "a leading blank ends an empty word, as HAProxy"
        );
        assert_eq!(words(r#""${UNDEF[*]-c d}""#), ["c", "d"]);
        assert_eq!(words(r#""${.LINE}" "$.FILE""#), ["7", "t.cfg"]);
        assert_eq!(words(r#""$FOO"x'$FOO'"#), ["barx$FOO"]);
        // Positions as HAProxy reports them: the offending character, the brace, the bracket.
        assert_eq!(
            err(r#" description "$1abc""#),
            LexError { kind: LexErrorKind::ForbiddenVarChar, pos: 15 }
        );
        assert_eq!(
            err(r#" description "$1abc""#).render(r#" description "$1abc""#),
            "forbidden first char in environment variable name at position 16:\n  description \"$1abc\"\n                ^"
        );
        assert_eq!(err(r#""$""#).kind, LexErrorKind::ForbiddenVarChar);
        assert_eq!(err(r#""${}""#).kind, LexErrorKind::ForbiddenVarChar);
        assert_eq!(err(r#""${.FOO}""#), LexError { kind: LexErrorKind::ForbiddenVarChar, pos: 3 });
        assert_eq!(err(r#" description "${FOO""#), LexError { kind: LexErrorKind::UnmatchedBrace, pos: 15 });
        assert_eq!(err(r#""${FOO-x"#).kind, LexErrorKind::UnmatchedBrace);
        assert_eq!(err(r#""${FOO[x]}""#), LexError { kind: LexErrorKind::WrongExpand, pos: 6 });
    }

    #[test]
    fn non_ascii_is_kept_and_bad_bytes_never_panic() {
        assert_eq!(words("description héllo \"wörld\""), ["description", "héllo", "wörld"]);
        assert_eq!(words(r"\xff"), ["\u{10feff}"], "a stray byte: see raw_bytes.rs");
        // Every prefix of a tricky line, and every char position, must not panic.
        let line = "a \"${X[*]-é}\\x4é '\\\"#$\u{1F600}\t\\";
        for (i, _) in line.char_indices() {
            let _ = split_line_with(&line[..i], &env).map_err(|e| e.render(&line[..i]));
            let _ = split_line_with(&line[i..], &env).map_err(|e| e.render(&line[i..]));
        }
    }

    #[test]
    fn seeded_random_lines_never_panic() {
        let alphabet: Vec<char> = " \t#\\'\"${}[]*-xX0aé_\u{1F600}".chars().collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5000 {
            let mut line = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                line.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            if let Err(e) = split_line_with(&line, &env) {
                let _ = e.render(&line);
            }
        }
    }
}
