//! `peers NAME` sections and the `localpeer` global keyword.
//!
//! A section lists peers by name: `peer NAME ADDR:PORT`, or the `bind` +
//! `server` form (`bind ADDR:PORT` for the local peer, `server NAME` for it
//! and `server NAME ADDR:PORT` for the others). Which peer is the local one
//! depends on the local peer name (`-L`, else `localpeer`, else the host
//! name), so it is decided by `resolve`; the parser keeps every line.
//!
//! `table NAME ...` declares a stick table of the section (HAProxy 2.6):
//! rules and the runtime API name it `SECTION/NAME`, peers exchange it as
//! `/NAME` (`cfg::peers::wire_name`). It is kept as a proxy with neither capability (tables are
//! indexed like the proxies declaring them), which takes no proxy id and
//! appears in no proxy listing, only in `show table`.

use super::addr::{self, Use};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Cap, Config, Loc, Proxy};
use crate::cfg::peers::{PeerLine, PeersSection};
use std::net::SocketAddr;

/// Server options HAProxy accepts on a peer line and ignores (with this
/// warning, which strata repeats).
const IGNORED_SERVER_OPTS: [&str; 4] = ["check", "init-addr", "resolvers", "agent-check"];

/// The section being read.
pub(super) struct OpenPeers {
    sect: PeersSection,
    keep: bool,         // false after an invalid header: the body is checked, then dropped
    peer_line: bool,    // a `peer` line was seen (forbids `bind`)
    tables: Vec<Proxy>, // `table` lines, as table-only proxies named SECTION/NAME
}

/// `peers NAME`: starts a section.
pub(super) fn open(cfg: &Config, loc: &Loc, words: &[String], diags: &mut Diagnostics) -> OpenPeers {
    let mut keep = true;
    let name = words.get(1).cloned().unwrap_or_default();
    if name.is_empty() {
        diags.push(Diag::alert(loc, "missing name for peers section."));
        keep = false;
    } else if let Some(x) = words.get(2) {
        diags.push(Diag::alert(loc, format!("'peers' cannot handle unexpected argument '{x}'.")));
        keep = false;
    } else if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
        diags.push(Diag::alert(loc, format!("character '{c}' is not permitted in 'peers' name '{name}'.")));
        keep = false;
    } else if let Some(other) = cfg.peers.iter().find(|p| p.name == name) {
        diags.push(Diag::alert_global(format!(
            "Parsing [{loc}]: peers section '{name}' has the same name as another peers section declared at {}.",
            other.loc
        )));
    }
    let sect = PeersSection {
        name,
        loc: loc.clone(),
        peers: Vec::new(),
        bind: None,
        bind_fd: None,
        disabled: false,
        local: None,
    };
    OpenPeers { sect, keep, peer_line: false, tables: Vec::new() }
}

/// Ends the section: kept in the configuration unless its header was bad.
pub(super) fn close(cfg: &mut Config, open: OpenPeers) {
    if open.keep {
        cfg.peers.push(open.sect);
        cfg.proxies.extend(open.tables);
    }
}

/// One line inside a `peers` section.
pub(super) fn keyword(o: &mut OpenPeers, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let kw = words[0].as_str();
    let res = match kw {
        "peer" | "server" => peer(o, words, loc, diags),
        "bind" => bind(o, words, loc),
        "disabled" | "enabled" => {
            o.sect.disabled = kw == "disabled";
            super::args::no_extra(kw, words, 1)
        }
        "table" => table(o, words, loc),
        "log" | "default-server" | "default-bind" => {
            Err(format!("'{kw}' in a 'peers' section is not supported by strata yet."))
        }
        _ => Err(format!("unknown keyword '{kw}' in 'peers' section")),
    };
    if let Err(e) = res {
        diags.push(Diag::alert(loc, e));
    }
}

/// `table NAME type ... size ... [expire T] [nopurge] [store ...]`: a
/// stick table shared through this section.
fn table(o: &mut OpenPeers, words: &[String], loc: &Loc) -> Result<(), String> {
    let name = words.get(1).filter(|n| !n.is_empty()).ok_or("'table' expects a table name as argument.")?;
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
        return Err(format!("character '{c}' is not permitted in 'table' name '{name}'."));
    }
    let full = format!("{}/{name}", o.sect.name);
    if let Some(other) = o.tables.iter().find(|t| t.name == full) {
        return Err(format!("table name '{name}' conflicts with table declared at {}.", other.loc));
    }
    let mut def = super::stick::table_def(full.clone(), &words[2..])?;
    if def.peers.is_some() {
        return Err(format!("'table {name}' : 'peers' is implied by the section."));
    }
    def.peers = Some(o.sect.name.clone());
    let mut px = super::section::inherit(None, full, loc, Cap { frontend: false, backend: false });
    px.stick_table = Some(def);
    o.tables.push(px);
    Ok(())
}

fn listen_addr(kw: &str, text: &str) -> Result<SocketAddr, String> {
    match addr::inet(text, Use::Listen) {
        Ok((ip, Some(port))) => Ok(SocketAddr::new(ip, port)),
        Ok((_, None)) => Err(format!("'{kw}' : missing port specification in '{text}'")),
        Err(e) => Err(format!("'{kw}' : {e}")),
    }
}

/// `bind ADDR:PORT`: the local peer's listening address.
fn bind(o: &mut OpenPeers, words: &[String], loc: &Loc) -> Result<(), String> {
    if o.peer_line {
        return Err("mixing \"peer\" and \"bind\" line is forbidden".into());
    }
    if let Some((_, first)) = &o.sect.bind {
        return Err(format!(
            "One listener per \"peers\" section is authorized but another is already configured at [{first}]."
        ));
    }
    let text =
        words.get(1).ok_or("'bind' expects [addr1]:port1[-end1]{,[addr]:port[-end]}... as arguments.")?;
    let expanded = addr::expand_env(text)?;
    let (a, fd) = match expanded.strip_prefix("fd@") {
        // a socket already bound and listening, handed over by the parent (VTest)
        Some(n) => match addr::inherited_fd(n, text).map_err(|e| format!("'bind {text}' : {e}"))? {
            (fd, crate::core::inherited::Bound::Inet(a)) => (a, Some(fd)),
            (fd, crate::core::inherited::Bound::Unix(_)) => {
                return Err(format!(
                    "'bind {text}' : file descriptor '{fd}' is a unix socket: peers listen on TCP only"
                ));
            }
        },
        None => (listen_addr(&format!("bind {text}"), text)?, None),
    };
    if let Some(x) = words.get(2) {
        return Err(format!("'bind {text}' : '{x}' is not supported by strata for peers."));
    }
    o.sect.bind = Some((a, loc.clone()));
    o.sect.bind_fd = fd;
    Ok(())
}

/// `peer NAME ADDR:PORT [opts]` or `server NAME [ADDR:PORT] [opts]`.
fn peer(o: &mut OpenPeers, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Result<(), String> {
    let kw = words[0].as_str();
    let is_peer = kw == "peer";
    if is_peer && o.sect.bind.is_some() {
        return Err("mixing \"peer\" and \"bind\" line is forbidden".into());
    }
    o.peer_line |= is_peer;
    let name = words.get(1).filter(|n| !n.is_empty()).ok_or(format!("'{kw}' expects <name> as argument."))?;
    let what = format!("{kw} {name}");
    let mut rest = &words[2..];
    // `server NAME` without an address is the local peer (checked by resolve)
    let addr_text = match rest.first() {
        Some(a) if is_peer || a.contains(':') => {
            rest = &rest[1..];
            Some(a.as_str())
        }
        None if is_peer => {
            return Err(format!("'{what}' : expects <name> and <addr>[:<port>] as arguments."));
        }
        _ => None,
    };
    let addr = match addr_text {
        // `server B ${B_addr}:${B_port}` with both unset: HAProxy takes it
        // (0.0.0.0, port 0) and its connections to it fail; so do ours.
        Some(t) if addr::expand_env(t)? == ":" => Some(SocketAddr::from(([0, 0, 0, 0], 0))),
        Some(t) => match addr::inet(t, Use::Connect) {
            Ok((ip, Some(port))) => Some(SocketAddr::new(ip, port)),
            Ok((_, None)) => return Err(format!("'{what}' : missing port specification in '{t}'")),
            Err(e) => return Err(format!("'{what}' : {e}")),
        },
        None => None,
    };
    let mut warned = false;
    let mut i = 0;
    while i < rest.len() {
        let opt = rest[i].as_str();
        if IGNORED_SERVER_OPTS.contains(&opt) {
            if !warned {
                diags.push(Diag::warning(
                    loc,
                    format!("'{what}' : init_addr, resolvers, check and agent are ignored for peers."),
                ));
                warned = true;
            }
            // `check` and `agent-check` take no value, the others one
            i += if matches!(opt, "check" | "agent-check") { 1 } else { 2 };
            continue;
        }
        return Err(format!("'{what}' : '{opt}' is not supported by strata for peers."));
    }
    o.sect.peers.push(PeerLine { name: name.clone(), addr, loc: loc.clone(), server_form: !is_peer });
    Ok(())
}

/// `localpeer NAME` (global): ignored with a warning after a `peers`
/// section, as HAProxy does (`-L` wins over it: `resolve` warns then).
pub(super) fn localpeer(cfg: &mut Config, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let Some(name) = words.get(1).filter(|n| !n.is_empty()) else {
        diags.push(Diag::alert(loc, "'localpeer' expects a name as an argument."));
        return;
    };
    if let Some(x) = words.get(2) {
        diags.push(Diag::alert(loc, format!("'localpeer' cannot handle unexpected argument '{x}'.")));
        return;
    }
    if !cfg.peers.is_empty() {
        diags.push(Diag::warning(loc, "'localpeer' ignored since it is used after 'peers' section."));
        return;
    }
    cfg.localpeer = Some((name.clone(), loc.clone()));
}

#[cfg(test)]
mod tests {
    use crate::cfg::{Config, Diagnostics, Severity};

    fn load(text: &str) -> (Config, Vec<String>) {
        let mut d = Diagnostics::default();
        let cfg = crate::cfg::load_str(&[("c.cfg".into(), text.into())], &mut d);
        let msgs = d
            .items
            .iter()
            .map(|i| {
                let tag = if i.severity == Severity::Alert { "A" } else { "W" };
                match &i.loc {
                    Some(l) => format!("{tag} {}: {}", l.line, i.msg),
                    None => format!("{tag} {}", i.msg),
                }
            })
            .collect();
        (cfg, msgs)
    }

    #[test]
    fn cfg_peers_section_tables() {
        let (cfg, msgs) = load(
            "global\n localpeer me\npeers p\n peer me 127.0.0.1:1000\n table t type string size 10 expire 1m store gpc0\n\
             backend b\n stick on src table p/t\n server s 127.0.0.1:1\n",
        );
        assert!(msgs.iter().all(|m| m.starts_with("W missing timeouts")), "{msgs:?}");
        let t = cfg.proxies.iter().find(|p| p.name == "p/t").expect("the table's proxy");
        assert!(!t.cap.frontend && !t.cap.backend && t.id == 0);
        assert_eq!(t.stick_table.as_ref().unwrap().peers.as_deref(), Some("p"));
        assert_eq!(cfg.proxies.iter().find(|p| p.name == "b").unwrap().id, 1, "the table takes no id");
        assert_eq!(crate::cfg::peers::wire_name("p", "p/t"), "/t");
        assert_eq!(crate::cfg::peers::wire_name("p", "pt"), "pt");
        for (line, err) in [
            ("table", "'table' expects a table name as argument."),
            ("table a/b type ip size 1", "character '/' is not permitted in 'table' name 'a/b'."),
            ("table t type ip size 1 peers p", "'table t' : 'peers' is implied by the section."),
            ("table t type ip", "stick-table: missing size."),
        ] {
            let (_, msgs) =
                load(&format!("global\n localpeer me\npeers p\n peer me 127.0.0.1:1000\n {line}\n"));
            assert!(msgs.iter().any(|m| m == &format!("A 5: {err}")), "{line}: {msgs:?}");
        }
        let (_, msgs) = load(
            "global\n localpeer me\npeers p\n peer me 127.0.0.1:1000\n table t type ip size 1\n table t type ip size 1\n",
        );
        assert!(msgs.iter().any(|m| m.starts_with("A 6: table name 't' conflicts")), "{msgs:?}");
    }

    #[test]
    fn cfg_peers_sections_and_the_local_peer() {
        let (cfg, msgs) = load(
            "global\n localpeer me\npeers p\n peer me 127.0.0.1:1000\n peer other 127.0.0.1:1001\n\
             peers q\n bind 127.0.0.1:1002\n server me\n server far 127.0.0.1:1003\n\
             backend t\n stick-table type ip size 10 peers q store gpc0\n",
        );
        assert!(msgs.iter().all(|m| m.starts_with("W missing timeouts")), "{msgs:?}");
        assert_eq!(cfg.local_peer_name, "me");
        let p = &cfg.peers[0];
        assert_eq!((p.name.as_str(), p.local), ("p", Some(0)));
        assert_eq!(p.local_addr(), Some("127.0.0.1:1000".parse().unwrap()));
        let q = &cfg.peers[1];
        assert_eq!(q.local_addr(), Some("127.0.0.1:1002".parse().unwrap()));
        assert_eq!(q.peers[1].addr, Some("127.0.0.1:1003".parse().unwrap()));
        assert_eq!(cfg.proxies[0].stick_table.as_ref().unwrap().peers.as_deref(), Some("q"));
    }

    /// HAProxy 2.6.12's words for each mistake (checked with `haproxy -c`);
    /// every text starts with `global` + `localpeer me` (lines 1-2).
    #[test]
    fn cfg_peers_errors_have_haproxy_wording() {
        let cases: &[(&str, &str)] = &[
            ("peers\n", "A 3: missing name for peers section."),
            ("peers p extra\n", "A 3: 'peers' cannot handle unexpected argument 'extra'."),
            ("peers p/x\n", "A 3: character '/' is not permitted in 'peers' name 'p/x'."),
            ("peers p\n peer me 127.0.0.1\n", "A 4: 'peer me' : missing port specification in '127.0.0.1'"),
            (
                "peers p\n peer me 127.0.0.1:1\npeers p\n peer me 127.0.0.1:2\n",
                "A Parsing [c.cfg:5]: peers section 'p' has the same name as another peers section declared at c.cfg:3.",
            ),
            (
                "peers p\n peer me 127.0.0.1:1\n bind 127.0.0.1:2\n",
                "A 5: mixing \"peer\" and \"bind\" line is forbidden",
            ),
            (
                "peers p\n bind 127.0.0.1:2\n bind 127.0.0.1:3\n",
                "A 5: One listener per \"peers\" section is authorized but another is already configured at [c.cfg:4].",
            ),
            ("peers p\n peer me 127.0.0.1:1\n foo bar\n", "A 5: unknown keyword 'foo' in 'peers' section"),
            (
                "peers p\n peer other 127.0.0.1:1\n",
                "W Removing incomplete section 'peers p' (no peer named 'me').",
            ),
            (
                "peers p\n peer me 127.0.0.1:1\n peer me 127.0.0.1:2\n",
                "A 5: 'peer me' : local peer name already referenced at c.cfg:4. me",
            ),
            (
                "peers p\n peer me 127.0.0.1:1\nbackend b\n stick-table type ip size 10 peers q\n",
                "A Proxy 'b': unable to find sync peers 'q'.",
            ),
            (
                "peers p\n peer me 127.0.0.1:1\n peer o 127.0.0.1:2 check\n",
                "W 5: 'peer o' : init_addr, resolvers, check and agent are ignored for peers.",
            ),
            (
                "peers p\n peer me 127.0.0.1:1\nglobal\n localpeer x\n",
                "W 6: 'localpeer' ignored since it is used after 'peers' section.",
            ),
        ];
        for (text, want) in cases {
            let (_, msgs) = load(&format!("global\n localpeer me\n{text}"));
            assert!(msgs.iter().any(|m| m == want), "{text:?}: {msgs:?}");
        }
    }

    #[test]
    fn cfg_peers_disabled_section_shares_nothing() {
        let (cfg, msgs) = load(
            "global\n localpeer me\npeers p\n peer me 127.0.0.1:1\n disabled\nbackend b\n stick-table type ip size 10 peers p\n",
        );
        assert!(msgs.iter().all(|m| m.starts_with("W missing timeouts")), "{msgs:?}");
        assert_eq!(cfg.proxies[0].stick_table.as_ref().unwrap().peers, None);
    }
}
