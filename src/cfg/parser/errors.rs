//! `errorfile CODE FILE`, `errorloc[302|303] CODE URL`, `errorfiles NAME [CODE...]`,
//! `http-error status CODE [content-type T] [default-errorfiles |
//! errorfile F | errorfiles NAME | file F | string S | lf-file F |
//! lf-string FMT] [hdr NAME FMT]...` in proxy sections,
//! and the body of `http-errors NAME` sections (`errorfile` lines). Files
//! are read now (relative to `default-path`); texts are HAProxy's.

use super::args::{Res, no_extra};
use super::paths;
use super::section::Open;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::errorpages::{
    CODES, ErrorDirective, ErrorPage, HttpErrors, PageBody, PageFormat, page_from_body, page_from_response,
};
use crate::cfg::model::Loc;

/// A status code `errorfile` can replace.
fn code(kw: &str, v: Option<&String>) -> Result<u16, String> {
    let v = v.map_or("", String::as_str);
    match v.parse::<u16>() {
        Ok(c) if CODES.contains(&c) => Ok(c),
        _ => Err(format!("{kw} : status code '{v}' not handled.")),
    }
}

fn read(kw: &str, file: &str) -> Result<Vec<u8>, String> {
    std::fs::read(paths::resolve(file)).map_err(|e| format!("{kw} : error opening file <{file}> ({e})."))
}

/// An errorfile's page: the file holds a whole response.
fn errorfile_page(kw: &str, code: u16, file: &str) -> Result<ErrorPage, String> {
    page_from_response(code, &read(kw, file)?).map_err(|e| format!("{kw} : file <{file}> : {e}."))
}

/// `errorfile CODE FILE` (proxy sections and `http-errors` sections).
pub(super) fn errorfile(words: &[String]) -> Result<ErrorPage, String> {
    if words.len() < 3 {
        return Err("'errorfile' expects <status_code> and <file> as arguments.".into());
    }
    let c = code("errorfile", words.get(1))?;
    let page = errorfile_page("errorfile", c, &words[2])?;
    no_extra("errorfile", words, 3)?;
    Ok(page)
}

/// `errorloc CODE URL` (302), `errorloc302`, `errorloc303`: status CODE
/// is answered with a redirect to URL instead, HAProxy 2.6's message
/// (`Cache-Control: no-cache`, an empty body; the client connection stays
/// open as after any page with a length).
fn errorloc(words: &[String]) -> Result<ErrorPage, String> {
    let kw = words[0].as_str();
    let (Some(_), Some(url)) =
        (words.get(1).filter(|w| !w.is_empty()), words.get(2).filter(|w| !w.is_empty()))
    else {
        return Err(format!("{kw} : expects <status_code> and <url> as arguments."));
    };
    let c = code(kw, words.get(1))?;
    let status = if kw == "errorloc303" { "303 See Other" } else { "302 Found" };
    let raw = format!(
        "HTTP/1.1 {status}\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: {url}\r\n\r\n"
    );
    page_from_response(c, raw.as_bytes()).map_err(|e| format!("{kw} : {e}."))
}

/// The proxy keywords of this module; None when `words[0]` is another.
pub(super) fn keyword(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Option<Res> {
    let lines = &mut o.px.knobs.error_lines;
    let res = match words[0].as_str() {
        "errorfile" => errorfile(words).map(|p| lines.push(ErrorDirective::Page(p))),
        "errorloc" | "errorloc302" | "errorloc303" => {
            errorloc(words).map(|p| lines.push(ErrorDirective::Page(p)))
        }
        "errorfiles" => match words.get(1).filter(|n| !n.is_empty()) {
            None => Err("'errorfiles' expects <name> as argument.".into()),
            Some(name) => words[2..]
                .iter()
                .map(|c| code("errorfiles", Some(c)))
                .collect::<Result<Vec<u16>, String>>()
                .map(|codes| {
                    lines.push(ErrorDirective::Section { name: name.clone(), codes, loc: loc.clone() })
                }),
        },
        "http-error" => {
            let mut warnings = Vec::new();
            let res = http_error(words, loc, &mut warnings).map(|d| lines.push(d));
            for w in warnings {
                diags.push(Diag::warning(loc, w));
            }
            res
        }
        _ => return None,
    };
    Some(res)
}

/// `http-error status CODE [content-type T] [reply] [hdr NAME FMT]...`.
/// What HAProxy 2.6 ignores with a warning is ignored and added to `warnings`.
fn http_error(words: &[String], loc: &Loc, warnings: &mut Vec<String>) -> Result<ErrorDirective, String> {
    if words.get(1).map(String::as_str) != Some("status") {
        return Err("'http-error' expects 'status' keyword.".into());
    }
    let c = code("http-error", words.get(2))?;
    let mut content_type: Option<&str> = None;
    let mut reply: Option<ErrorDirective> = None;
    let mut body: Option<PageBody> = None;
    let mut hdrs: Vec<(String, String)> = Vec::new();
    let mut i = 3;
    while let Some(opt) = words.get(i) {
        let val = words.get(i + 1);
        let need = || {
            val.filter(|v| !v.is_empty())
                .ok_or_else(|| format!("'http-error' : '{opt}' expects an argument."))
        };
        match opt.as_str() {
            "content-type" => content_type = Some(need()?.as_str()),
            "default-errorfiles" => {
                reply = Some(ErrorDirective::Builtin(c));
                i += 1;
                continue;
            }
            "errorfile" => reply = Some(ErrorDirective::Page(errorfile_page("http-error", c, need()?)?)),
            "errorfiles" => {
                reply =
                    Some(ErrorDirective::Section { name: need()?.clone(), codes: vec![c], loc: loc.clone() })
            }
            "file" => body = Some(PageBody::Bytes(read("http-error", need()?)?)),
            "string" => body = Some(PageBody::Bytes(need()?.clone().into_bytes())),
            "lf-string" => body = Some(PageBody::Format(need()?.clone())),
            "lf-file" => {
                let file = need()?;
                let text = String::from_utf8(read("http-error", file)?)
                    .map_err(|_| format!("'http-error' : file <{file}> is not a text log-format."))?;
                body = Some(PageBody::Format(text));
            }
            "hdr" => {
                let name = need()?;
                let value = words.get(i + 2).filter(|v| !v.is_empty());
                let value = value.ok_or("'http-error' : 'hdr' expects <name> and <value> as arguments.")?;
                let lower = name.to_ascii_lowercase();
                if matches!(lower.as_str(), "content-length" | "transfer-encoding" | "content-type") {
                    // HAProxy 2.6 warns and drops it (the reply writes its own).
                    warnings.push(format!("header '{name}' always ignored by the http reply."));
                } else {
                    hdrs.push((lower, value.clone()));
                }
                i += 3;
                continue;
            }
            _ => return Err(format!("'http-error' : unknown keyword '{opt}'.")),
        }
        i += 2;
    }
    if let Some(r) = reply {
        // An error file is sent as it is: HAProxy 2.6 warns, so does strata.
        warnings.extend(crate::cfg::errorpages::ignored_beside_errorfile(content_type, !hdrs.is_empty()));
        return Ok(r);
    }
    let body = body.unwrap_or(PageBody::Bytes(Vec::new()));
    let literal = match &body {
        PageBody::Bytes(b) => b.clone(),
        PageBody::Format(_) => Vec::new(),
    };
    if content_type.is_none() {
        if matches!(body, PageBody::Format(_)) {
            return Err("'http-error' : a content type must be defined with a log-format payload.".into());
        }
        if !literal.is_empty() {
            return Err(
                "'http-error' : a content type must be defined when non-empty payload is configured.".into(),
            );
        }
    }
    let mut page = page_from_body(c, content_type, &literal);
    if !hdrs.is_empty() || matches!(body, PageBody::Format(_)) {
        let content_type = content_type.map(str::to_owned);
        page.format = Some(std::sync::Arc::new(PageFormat { hdrs, content_type, body, loc: loc.clone() }));
    }
    Ok(ErrorDirective::Page(page))
}

/// `http-errors NAME` header.
pub(super) fn open_section(words: &[String], loc: &Loc, known: &[HttpErrors]) -> Result<HttpErrors, String> {
    let Some(name) = words.get(1).filter(|n| !n.is_empty()) else {
        return Err("'http-errors' expects <name> as argument.".into());
    };
    if let Some(prev) = known.iter().find(|s| &s.name == name) {
        return Err(format!("http-errors section '{name}' already declared at {}.", prev.loc));
    }
    no_extra("http-errors", words, 2)?;
    Ok(HttpErrors { name: name.clone(), loc: loc.clone(), pages: Vec::new() })
}

/// A line of an `http-errors` section.
pub(super) fn section_line(s: &mut HttpErrors, words: &[String]) -> Res {
    match words[0].as_str() {
        "errorfile" => {
            let page = errorfile(words)?;
            s.pages.retain(|p| p.code != page.code);
            s.pages.push(page);
            Ok(())
        }
        kw => Err(format!("unknown keyword '{kw}' in 'http-errors' section")),
    }
}
