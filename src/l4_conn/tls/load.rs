//! Building the [`TlsSet`] of a configuration: certificates (files,
//! directories, crt-lists), CAs, and the rustls configurations, with
//! every problem reported in HAProxy's words at the line that caused it.

use super::build::{self, Shared, Warnings, based, merge};
use super::certs::{LoadedCert, load_crt};
use super::{BindTls, ServerTls, TlsSet};
use crate::cfg::ssl::{BindSsl, Crt, TlsParams, Verify};
use crate::cfg::{Config, Diag, Diagnostics};
use hashbrown::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `tune.ssl.cachesize` when not set (HAProxy's default).
const DEFAULT_CACHE_SIZE: usize = 20000;

/// One certificate of a bind with the options of its crt-list line.
struct Entry {
    cert: LoadedCert,
    params: TlsParams,    // the line's `[...]` options over the bind's
    filters: Vec<String>, // SNI filters of the crt-list line (`!name` excludes); empty: the cert's names
}

/// Reads and builds everything TLS in `cfg`; problems go to `diags`.
pub fn load(cfg: &Config, diags: &mut Diagnostics) -> TlsSet {
    let g = &cfg.global.ssl;
    let mut set = TlsSet::default();
    let mut certs: HashMap<PathBuf, LoadedCert> = HashMap::new();
    let mut built: HashMap<(String, usize), Option<Arc<BindTls>>> = HashMap::new(); // one per bind line
    for (pi, p) in cfg.proxies.iter().enumerate() {
        for (bi, b) in p.binds.iter().enumerate() {
            let Some(ssl) = b.ssl.as_deref() else { continue };
            let tls = built
                .entry((ssl.loc.file.clone(), ssl.loc.line))
                .or_insert_with(|| bind_tls(ssl, &p.name, cfg, &mut certs, &mut set.certs, diags))
                .clone();
            if let Some(tls) = tls.filter(|_| ssl.ssl) {
                set.binds.insert((pi, bi), tls);
            }
        }
        for (si, s) in p.servers.iter().enumerate() {
            if !s.ssl.any() && s.ssl.crt.is_none() {
                continue;
            }
            let what = format!("'server {}/{}'", p.name, s.name);
            let params = merge(&s.ssl.params, &g.server);
            // The server line, then `ssl-server-verify`, then `-dV`.
            let dv = crate::cfg::switches::ssl_verify_none().then_some(Verify::None);
            let verify = s.ssl.params.verify.or(g.server_verify).or(dv).unwrap_or(Verify::Required);
            let mut warnings = Warnings::new();
            let sni = match s.ssl.sni.as_deref().map(crate::acl::SampleExpr::parse) {
                None => None,
                Some(Ok(e)) => Some(e),
                Some(Err(e)) => {
                    diags.push(Diag::alert(&s.loc, format!("{what} : 'sni' : {e}")));
                    continue;
                }
            };
            let crt = match &s.ssl.crt {
                Some(f) => match load_crt(&based(f, g.crt_base.as_ref())) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        diags.push(Diag::alert(&s.loc, format!("{what} : {e}")));
                        continue;
                    }
                },
                None => None,
            };
            match build::client_config(
                &params,
                verify,
                s.ssl.verifyhost.as_deref(),
                crt.as_ref(),
                g.ca_base.as_ref(),
                &mut warnings,
            ) {
                Ok(config) => {
                    let tls = ServerTls {
                        config,
                        sni,
                        ssl: s.ssl.ssl,
                        check_ssl: s.ssl.check_ssl || s.ssl.ssl,
                        check_sni: s.ssl.check_sni.clone(),
                    };
                    if s.ssl.any() {
                        set.servers.insert((pi, si), Arc::new(tls));
                    }
                }
                Err(e) if e.starts_with("verify is enabled by default") => {
                    diags.push(Diag::alert_global(format!("[{}] : {what} : {e}", s.loc)));
                }
                Err(e) => diags.push(Diag::alert(&s.loc, format!("{what} : {e}"))),
            }
            for w in warnings.warnings {
                diags.push(Diag::warning(&s.loc, format!("{what} : {w}")));
            }
            for n in warnings.notices {
                diags.push(Diag::notice(&s.loc, format!("{what} : {n}")));
            }
        }
    }
    set
}

/// The TLS side of one bind line, or None after reporting why not.
fn bind_tls(
    ssl: &BindSsl,
    proxy: &str,
    cfg: &Config,
    certs: &mut HashMap<PathBuf, LoadedCert>,
    infos: &mut Vec<super::certs::CertInfo>,
    diags: &mut Diagnostics,
) -> Option<Arc<BindTls>> {
    let g = &cfg.global.ssl;
    let what = format!("'bind {}' in section '{}'", ssl.addr_text, ssl.section);
    let alert =
        |diags: &mut Diagnostics, e: String| diags.push(Diag::alert(&ssl.loc, format!("{what} : {e}")));
    let params = merge(&ssl.params, &g.bind);
    if params.verify.is_some_and(|v| v != Verify::None) && params.ca_file.is_none() {
        let first = ssl.addr_text.split(',').next().unwrap_or_default();
        diags.push(Diag::alert_global(format!(
            "Proxy '{proxy}': verify is enabled but no CA file specified for bind '{first}' at [{}].",
            ssl.loc
        )));
        return None;
    }
    let mut entries: Vec<Entry> = Vec::new();
    for crt in &ssl.crts {
        let result = match crt {
            Crt::Path(p) => crt_path(&based(p, g.crt_base.as_ref()), &params, certs, &mut entries),
            Crt::List(p) => {
                crt_list(&based(p, g.crt_base.as_ref()), &params, g.crt_base.as_ref(), certs, &mut entries)
            }
        };
        if let Err(e) = result {
            alert(diags, e);
            return None;
        }
    }
    if entries.is_empty() {
        if ssl.ssl {
            diags.push(Diag::alert_global(format!(
                "Proxy '{proxy}': no SSL certificate specified for bind '{}' at [{}] (use 'crt').",
                ssl.addr_text.split(',').next().unwrap_or_default(),
                ssl.loc
            )));
        }
        return None;
    }
    for e in &entries {
        if !infos.iter().any(|i| i.path == e.cert.info.path) {
            infos.push(e.cert.info.clone());
        }
    }
    let shared = match build::shared(g.cache_size.unwrap_or(DEFAULT_CACHE_SIZE)) {
        Ok(s) => s,
        Err(e) => {
            alert(diags, e);
            return None;
        }
    };
    let mut warnings = Warnings::new();
    let tls = match assemble(&entries, &params, ssl.strict_sni, &shared, g.ca_base.as_ref(), &mut warnings) {
        Ok(t) => t,
        Err(e) => {
            alert(diags, e);
            return None;
        }
    };
    warnings.dedup();
    for w in warnings.warnings {
        diags.push(Diag::warning(&ssl.loc, format!("{what} : {w}")));
    }
    for n in warnings.notices {
        diags.push(Diag::notice(&ssl.loc, format!("{what} : {n}")));
    }
    Some(Arc::new(tls))
}

/// The bind's configurations and SNI indexes from its entries.
fn assemble(
    entries: &[Entry],
    params: &TlsParams,
    strict_sni: bool,
    shared: &Shared,
    ca_base: Option<&PathBuf>,
    warnings: &mut Warnings,
) -> Result<BindTls, String> {
    let mut configs = Vec::new();
    let mut exact = HashMap::new();
    let mut wildcard = HashMap::new();
    let mut excluded = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        configs.push(build::server_config(Some(&e.cert), &e.params, shared, ca_base, warnings)?);
        let positive: Vec<&String> = e.filters.iter().filter(|f| !f.starts_with('!')).collect();
        let names: Vec<String> = if positive.is_empty() {
            e.cert.names.clone()
        } else {
            positive.iter().map(|f| f.to_ascii_lowercase()).collect()
        };
        for n in e.filters.iter().filter_map(|f| f.strip_prefix('!')) {
            excluded.push((i, n.to_ascii_lowercase()));
        }
        for name in names {
            match name.strip_prefix("*.") {
                Some(parent) => {
                    wildcard.entry(parent.to_owned()).or_insert(i);
                }
                None => {
                    exact.entry(name).or_insert(i);
                }
            }
        }
    }
    let refuse = build::server_config(None, params, shared, ca_base, warnings)?;
    Ok(BindTls { configs, exact, wildcard, excluded, default: (!strict_sni).then_some(0), refuse })
}

/// Files of a `crt` directory HAProxy does not load as certificates.
const NOT_CERTS: &[&str] = &[".key", ".ocsp", ".issuer", ".sctl"];

/// `crt FILE|DIR`.
fn crt_path(
    path: &Path,
    params: &TlsParams,
    certs: &mut HashMap<PathBuf, LoadedCert>,
    out: &mut Vec<Entry>,
) -> Result<(), String> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("unable to scan directory '{}' : {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                !name.starts_with('.') && !NOT_CERTS.iter().any(|s| name.ends_with(s))
            })
            .collect();
        files.sort();
        for f in files {
            out.push(Entry { cert: cached(&f, certs)?, params: params.clone(), filters: Vec::new() });
        }
        return Ok(());
    }
    out.push(Entry { cert: cached(path, certs)?, params: params.clone(), filters: Vec::new() });
    Ok(())
}

fn cached(path: &Path, certs: &mut HashMap<PathBuf, LoadedCert>) -> Result<LoadedCert, String> {
    if let Some(c) = certs.get(path) {
        return Ok(c.clone());
    }
    let c = load_crt(path)?;
    certs.insert(path.to_path_buf(), c.clone());
    Ok(c)
}

/// `crt-list FILE`: `CERT [OPTIONS...] [FILTER...]` per line, where the
/// options are in brackets and a filter is an SNI name (`*.x` wildcards,
/// `!name` exclusions).
fn crt_list(
    path: &Path,
    params: &TlsParams,
    crt_base: Option<&PathBuf>,
    certs: &mut HashMap<PathBuf, LoadedCert>,
    out: &mut Vec<Entry>,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("'crt-list' : cannot open file '{}' : {e}", path.display()))?;
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("'crt-list' : {e} at line {} of file '{}'", n + 1, path.display());
        let line = line.split('#').next().unwrap_or_default().trim();
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        let Some(file) = words.first() else { continue };
        let mut own = TlsParams::default();
        let mut i = 1;
        if words.get(1).is_some_and(|w| w.starts_with('[')) {
            let mut opts: Vec<String> = Vec::new();
            let mut closed = false;
            for w in &words[1..] {
                i += 1;
                let w = w.strip_prefix('[').unwrap_or(w);
                let (w, end) = match w.strip_suffix(']') {
                    Some(w) => (w, true),
                    None => (w, false),
                };
                if !w.is_empty() {
                    opts.push(w.to_owned());
                }
                if end {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err(at("missing ']' after the SSL options".into()));
            }
            let mut j = 0;
            while j < opts.len() {
                match crate::cfg::parser::crt_list_option(&mut own, &opts, j) {
                    Some(Ok(k)) => j += k,
                    Some(Err(e)) => return Err(at(e)),
                    None => return Err(at(format!("unknown ssl keyword '{}'", opts[j]))),
                }
            }
        }
        let cert = cached(&based(Path::new(file), crt_base), certs).map_err(at)?;
        out.push(Entry { cert, params: merge(&own, params), filters: words[i..].to_vec() });
    }
    Ok(())
}
