//! `http-request use-service NAME [args]`: hands the request to an
//! internal service instead of a backend. Services: `prometheus-exporter`
//! (HAProxy 2.6's) and `strata.static root DIR [index FILE]` (strata's:
//! files under DIR, see `service::static_files`). `haproxy -c` refuses
//! only the `strata.static` line.

use std::path::PathBuf;
use std::sync::Arc;

/// An internal service a rule can hand a request to. Shared read-only by
/// the compiled rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InternalService {
    Prometheus,
    Static(Arc<StaticRoot>),
}

/// `strata.static`: the directory served and the file a directory path
/// maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticRoot {
    pub root: PathBuf, // canonical (symlinks resolved at start-up)
    pub index: String, // `index`, default `index.html`
}

/// Parses the words of `use-service ...` (the action words, `use-service` first).
pub fn use_service(words: &[String]) -> Result<InternalService, String> {
    let name = words.get(1).map_or("", String::as_str);
    match name {
        "prometheus-exporter" => match words.get(2) {
            None => Ok(InternalService::Prometheus),
            Some(w) => Err(format!("unexpected argument '{w}'.")),
        },
        "strata.static" => static_root(&words[2..]),
        "" => Err("expects a service name.".into()),
        other => Err(format!("'use-service' : unknown service '{other}'.")),
    }
}

fn static_root(args: &[String]) -> Result<InternalService, String> {
    let (mut root, mut index) = (None, "index.html".to_owned());
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).ok_or_else(|| format!("'strata.static {}' expects a value.", args[i]))?;
        match args[i].as_str() {
            "root" => root = Some(v.clone()),
            "index" if !v.contains('/') && v != ".." && v != "." => index = v.clone(),
            "index" => return Err(format!("'strata.static index' expects a file name (got '{v}').")),
            other => {
                return Err(format!(
                    "'strata.static' : unknown argument '{other}' (expects 'root' or 'index')."
                ));
            }
        }
        i += 2;
    }
    let root = root.ok_or("'strata.static' expects 'root <directory>'.")?;
    let canonical =
        std::fs::canonicalize(&root).map_err(|e| format!("'strata.static root {root}' : {e}."))?;
    if !canonical.is_dir() {
        return Err(format!("'strata.static root {root}' is not a directory."));
    }
    Ok(InternalService::Static(Arc::new(StaticRoot { root: canonical, index })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn services_and_their_errors() {
        assert_eq!(use_service(&words("use-service prometheus-exporter")), Ok(InternalService::Prometheus));
        assert!(use_service(&words("use-service nosuch")).unwrap_err().contains("unknown service 'nosuch'"));
        assert!(use_service(&words("use-service strata.static")).unwrap_err().contains("root"));
        assert!(use_service(&words("use-service strata.static root /nonexistent-dir")).is_err());
        let Ok(InternalService::Static(r)) =
            use_service(&words("use-service strata.static root /tmp index i.htm"))
        else {
            panic!("static")
        };
        assert_eq!(r.index, "i.htm");
        assert!(use_service(&words("use-service strata.static root /tmp index ../x")).is_err());
    }
}
