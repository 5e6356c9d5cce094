//! `fcgi-app NAME` sections, read and checked as HAProxy 2.6 reads them
//! (`docroot`, `index`, `path-info`, `set-param`, `pass-header`,
//! `log-stderr`, `acl`, `[no] option keep-conn|get-values|mpxs-conns|
//! max-reqs N`), with its messages. FastCGI itself is not supported yet:
//! an application is inert until a backend uses it, and the keywords that
//! would (`use-fcgi-app`, `proto fcgi`) are refused, so a configuration
//! that declares one without using it behaves exactly as under HAProxy.

use super::args::Res;
use crate::cfg::model::Loc;

/// `fcgi-app NAME`: the name, unique among the applications (`known`:
/// those declared so far, with their lines).
pub(super) fn open(words: &[String], loc: &Loc, known: &[(String, Loc)]) -> Result<(String, Loc), String> {
    let Some(name) = words.get(1).filter(|n| !n.is_empty()) else {
        return Err("'fcgi-app' expects <name> as argument.".into());
    };
    if let Some((_, at)) = known.iter().find(|(n, _)| n == name) {
        return Err(format!("fcgi-app section '{name}' has the same name as another one declared at {at}."));
    }
    Ok((name.clone(), loc.clone()))
}

/// One line of an `fcgi-app` section.
pub(super) fn line(words: &[String]) -> Res {
    let has = |i: usize| words.get(i).is_some_and(|w| !w.is_empty());
    let kw = words[0].as_str();
    let need = |n: usize, what: &str| {
        if (1..=n).all(has) { Ok(()) } else { Err(format!("'{kw}' expects {what}.")) }
    };
    match kw {
        "docroot" => need(1, "<path> as argument"),
        "index" => need(1, "<filename> as argument"),
        "path-info" => {
            need(1, "<regex> as argument")?;
            regex::Regex::new(&words[1])
                .map(|_| ())
                .map_err(|e| format!("'path-info' : regex '{}': {e}", words[1]))
        }
        "set-param" => need(2, "<name> and <value> as arguments"),
        "pass-header" => need(1, "<name> as arguments"),
        "log-stderr" if has(1) && (words[1] == "global" || has(2)) => Ok(()),
        "log-stderr" => Err("log-stderr : expects <address> and <facility> or global as arguments".into()),
        "acl" => need(2, "<name> and a criterion as arguments"),
        "option" => option(words.get(1).map_or("", String::as_str), words.get(2)),
        "no" if words.get(1).map(String::as_str) == Some("option") => {
            option(words.get(2).map_or("", String::as_str), Some(&String::new()))
        }
        _ => Err(format!("unknown keyword '{kw}' in 'fcgi-app' section")),
    }
}

fn option(name: &str, arg: Option<&String>) -> Res {
    match name {
        "keep-conn" | "get-values" | "mpxs-conns" => Ok(()),
        "max-reqs" => match arg.map(|a| a.parse::<u32>()) {
            Some(Ok(n)) if n > 0 => Ok(()),
            _ => Err("'max-reqs' expects a strictly positive integer.".into()),
        },
        _ => Err(format!("unknown option '{name}'.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn lines_are_checked_as_haproxy_checks_them() {
        for ok in [
            "docroot /tmp",
            "index index.php",
            "set-param A %[path]",
            "log-stderr global",
            "option keep-conn",
        ] {
            assert!(line(&w(ok)).is_ok(), "{ok}");
        }
        for bad in ["docroot", "set-param A", "log-stderr 127.0.0.1:514", "max-reqs 5", "option bogus"] {
            assert!(line(&w(bad)).is_err(), "{bad}");
        }
        let known = vec![("a".to_string(), Loc::default())];
        assert!(open(&w("fcgi-app a"), &Loc::default(), &known).is_err());
        assert!(open(&w("fcgi-app"), &Loc::default(), &known).is_err());
    }
}
