//! The argument list of a fetch or converter, `name(a,'b,c',"d")`, split
//! as HAProxy 2.6's `make_arg_list` does: `,` separates, `)` ends, single
//! and double quotes protect both and are removed, and a backslash
//! escapes `\`, a space, `'` or `"` (and writes `\r`, `\n`, `\t`) outside
//! single quotes; any other backslash stays as it is (`\1` in `regsub`).

/// The arguments of a fetch written `name(...)` (`args_text`: what
/// follows the `(`; None without parentheses) and how many bytes after the
/// name they took, the closing `)` included.
pub(crate) fn fetch_args(args_text: Option<&str>) -> Result<(Vec<String>, usize), String> {
    match args_text {
        Some(t) => {
            let (a, rest) = split_args(t)?;
            Ok((a, t.len() - rest.len() + 1))
        }
        None => Ok((Vec::new(), 0)),
    }
}

/// Splits the text after an opening `(`: returns the arguments and what
/// follows the closing `)`. An empty list (`name()`) gives no argument;
/// otherwise empty arguments after a comma exist (`f(a,)` is `["a", ""]`).
pub(crate) fn split_args(text: &str) -> Result<(Vec<String>, &str), String> {
    let bytes = text.as_bytes();
    let mut args = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let (mut squote, mut dquote) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' if !squote => dquote = !dquote,
            b'\'' if !dquote => squote = !squote,
            b'\\' if !squote && i + 1 < bytes.len() => {
                let next = bytes[i + 1];
                match next {
                    b'\\' | b' ' | b'"' | b'\'' => cur.push(next),
                    b'r' => cur.push(b'\r'),
                    b'n' => cur.push(b'\n'),
                    b't' => cur.push(b'\t'),
                    _ => {
                        cur.push(b'\\');
                        i += 1;
                        continue;
                    }
                }
                i += 2;
                continue;
            }
            b',' if !squote && !dquote => {
                args.push(String::from_utf8_lossy(&cur).into_owned());
                cur.clear();
            }
            b')' if !squote && !dquote => {
                if !(args.is_empty() && cur.is_empty() && i == 0) {
                    args.push(String::from_utf8_lossy(&cur).into_owned());
                }
                return Ok((args, &text[i + 1..]));
            }
            _ => cur.push(c),
        }
        i += 1;
    }
    if squote || dquote {
        return Err("unmatched quote".to_owned());
    }
    Err("expected ')'".to_owned())
}

/// Splits a sample expression `fetch(args),conv1(args),conv2` at its
/// top-level commas (commas inside parentheses or quotes stay), giving
/// the fetch word and each converter word.
pub(crate) fn split_chain(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut squote, mut dquote) = (0usize, false, false);
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if !squote && depth > 0 => i += 1,
            b'"' if !squote && depth > 0 => dquote = !dquote,
            b'\'' if !dquote && depth > 0 => squote = !squote,
            b'(' if !squote && !dquote => depth += 1,
            b')' if !squote && !dquote => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_as_haproxy() {
        let (a, rest) = split_args("',',txn.var,_suff_)x").unwrap();
        assert_eq!(a, [",", "txn.var", "_suff_"]);
        assert_eq!(rest, "x");
        let (a, _) = split_args("',',,_suff_)").unwrap();
        assert_eq!(a, [",", "", "_suff_"]);
        let (a, _) = split_args(")").unwrap();
        assert!(a.is_empty());
        let (a, _) = split_args("a,)").unwrap();
        assert_eq!(a, ["a", ""]);
        let (a, _) = split_args(r#""(a)b",\1\ x)"#).unwrap();
        assert_eq!(a, ["(a)b", r"\1 x"]);
        assert!(split_args("'abc").is_err());
        assert!(split_args("abc").is_err());
    }

    #[test]
    fn chains_split_at_top_level_commas() {
        assert_eq!(split_chain("req.hdr(a,1),lower,field(2,',')"), ["req.hdr(a,1)", "lower", "field(2,',')"]);
        assert_eq!(split_chain("src"), ["src"]);
    }
}
