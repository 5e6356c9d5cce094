//! `server NAME ADDR[:PORT] [options]`, `default-server [options]` and
//! `server-template PREFIX NUM|FIRST-LAST FQDN[:PORT] [options]` in
//! backend-side sections (options: `server_opts`).
//!
//! A server starts as a copy of the proxy's `default-server` settings
//! (inherited from `defaults`), then its own options apply. Every option
//! is checked and each problem is its own alert, prefixed as HAProxy
//! does: `'server be/s1' : ...`. An unknown option stops the scan (its
//! arity is unknown). Host names are looked up as `init-addr` says once
//! the whole line is read.

use super::addr::{ServerHost, libc_lookup, server_host};
use super::section::Open;
use super::server_opts::{self, NOT_YET, OptArgs};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::Loc;
use crate::cfg::server::{InitAddr, Server};

/// Parses a `server` line and appends it to `o.px.servers`.
pub(super) fn parse(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let (Some(name), Some(addr_text)) = (words.get(1), words.get(2)) else {
        diags.push(Diag::alert(loc, "'server' expects <name> and <addr>[:<port>] as arguments."));
        return;
    };
    let prefix = format!("'server {}/{name}' : ", o.px.name);
    let mut srv = Server { name: name.clone(), loc: loc.clone(), ..o.px.default_server.clone() };
    let host = address(&mut srv, addr_text, &prefix, loc, diags);
    let ok = apply_options(&mut srv, &words[3..], false, &prefix, loc, diags);
    if let (true, Some(host)) = (ok, host)
        && init_address(&mut srv, host, &prefix, loc, diags)
        && unique_id(o, &srv, &prefix, loc, diags)
    {
        o.px.servers.push(srv);
    }
}

/// The options HAProxy 2.6 accepts on a server added at run time
/// (`add server`, management.txt's list); any other is refused by name.
const DYNAMIC_OK: &[&str] = &[
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "addr",
    "backup",
    "ca-file",
    "check",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "id",
    "inter",
    "maxconn",
    "maxqueue",
    "minconn",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-tls-tickets",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "proxy-v2-options",
    "rise",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "slowstart",
    "sni",
    "source",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "tfo",
    "tls-tickets",
    "track",
    "usesrc",
    "verify",
    "verifyhost",
    "weight",
    "ws",
];

/// A server added at run time by `add server BE/NAME ADDR [options]`
/// (`words`: ADDR then the options), as HAProxy 2.6 builds one: no
/// `default-server` settings, weight 1, a host name kept unresolved
/// (`init-addr none`). Err: what the CLI prints, one message a line.
/// strata does not yet run health checks or TLS for such a server: those
/// options are refused by name rather than accepted and ignored.
pub fn dynamic(name: &str, words: &[String]) -> Result<Server, String> {
    let loc = Loc::default();
    let Some(addr_text) = words.first() else {
        return Err("'server' expects <name> and <addr>[:<port>] as arguments.\n".into());
    };
    let mut i = 1;
    while let Some(kw) = words.get(i) {
        let mut scratch = crate::cfg::ssl::ServerSsl::default();
        let arity = match super::ssl_opts::server_option(&mut scratch, words, i) {
            Some(Ok(n)) => n,
            _ => match (server_opts::find(kw), NOT_YET.iter().find(|(n, _)| n == kw)) {
                (Some(o), _) => 1 + o.args,
                (None, Some((_, a))) => 1 + a,
                (None, None) => break, // unknown: `apply_options` names it
            },
        };
        if !DYNAMIC_OK.contains(&kw.as_str()) {
            return Err(format!("'{kw}' option is not accepted for dynamic server\n"));
        }
        i += arity;
    }
    let mut diags = Diagnostics::default();
    let mut srv = Server { name: name.to_owned(), loc: loc.clone(), ..Server::default() };
    let host = address(&mut srv, addr_text, "", &loc, &mut diags);
    if srv.unix.is_some() {
        return Err(format!(
            "'{addr_text}' : unix sockets are not supported by strata yet for dynamic servers.\n"
        ));
    }
    let ok = apply_options(&mut srv, &words[1..], false, "", &loc, &mut diags);
    if !ok || host.is_none() || diags.has_alerts() {
        let mut msg: String = diags.items.iter().map(|d| format!("{}\n", d.msg)).collect();
        if msg.is_empty() {
            msg.push_str("invalid server line.\n");
        }
        return Err(msg);
    }
    match host {
        Some(ServerHost::Ip(ip)) => srv.addr = Some(ip),
        Some(ServerHost::Name { name, .. }) => {
            srv.fqdn = Some(name);
            srv.init_addr = vec![InitAddr::None];
        }
        None => {}
    }
    let unsupported = [
        (srv.check, "check"),
        (srv.agent.enabled, "agent-check"),
        (srv.ssl.any() || srv.ssl.crt.is_some(), "ssl"),
    ];
    if let Some((_, kw)) = unsupported.iter().find(|(on, _)| *on) {
        return Err(format!("'{kw}' on a dynamic server is not supported by strata yet.\n"));
    }
    Ok(srv)
}

/// `default-server [options]`: changes what later `server` lines (and,
/// in a `defaults` section, the proxies using it) start from.
pub(super) fn default_server(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let mut template = o.px.default_server.clone();
    if apply_options(&mut template, &words[1..], true, "", loc, diags) {
        o.px.default_server = template;
    }
}

/// `server-template PREFIX NUM|FIRST-LAST FQDN[:PORT] [options]`: servers
/// PREFIX<FIRST>..PREFIX<LAST> sharing one address (usually a name the
/// resolvers fill in at run time).
pub(super) fn template(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let (Some(prefix_name), Some(range), Some(addr_text)) = (words.get(1), words.get(2), words.get(3)) else {
        diags.push(Diag::alert(
            loc,
            "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.",
        ));
        return;
    };
    let Some((first, last)) = template_range(range) else {
        diags.push(Diag::alert(loc, format!("Wrong server-template number or range arg '{range}'.")));
        return;
    };
    let prefix = format!("'server-template {}/{prefix_name}' : ", o.px.name);
    let mut base = Server { loc: loc.clone(), ..o.px.default_server.clone() };
    let host = address(&mut base, addr_text, &prefix, loc, diags);
    if !apply_options(&mut base, &words[4..], false, &prefix, loc, diags) {
        return;
    }
    let Some(host) = host else { return };
    if !init_address(&mut base, host, &prefix, loc, diags) {
        return;
    }
    for (i, n) in (first..=last).enumerate() {
        let mut srv = Server { name: format!("{prefix_name}{n}"), ..base.clone() };
        if srv.id_forced {
            srv.id += i as u32;
        }
        if !unique_id(o, &srv, &prefix, loc, diags) {
            return;
        }
        o.px.servers.push(srv);
    }
}

/// Gives each server without an `id` an automatic one, as HAProxy's
/// `check_config_validity`: walking the servers in declaration order with
/// a counter that every server moves on by one, a server without an id
/// gets the first id from the counter on that no server of the proxy
/// uses. Called when the proxy's section ends.
pub(super) fn number(servers: &mut [Server]) {
    let mut used: Vec<u32> = servers.iter().filter(|s| s.id_forced).map(|s| s.id).collect();
    let mut next = 1;
    for s in servers.iter_mut() {
        if !s.id_forced {
            while used.contains(&next) {
                next += 1;
            }
            s.id = next;
            used.push(next);
        }
        next += 1;
    }
}

/// `NUM` (1..=NUM) or `FIRST-LAST`, both above 0.
fn template_range(text: &str) -> Option<(u32, u32)> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty();
    let (first, last) = match text.split_once('-') {
        Some((a, b)) if digits(a) && digits(b) => (a.parse().ok()?, b.parse().ok()?),
        None if digits(text) => (1, text.parse().ok()?),
        _ => return None,
    };
    (first > 0 && first <= last && last - first < 65536).then_some((first, last))
}

/// Reads the address field into `srv` (port, and the name to look up);
/// an unusable address is an alert and None.
fn address(
    srv: &mut Server,
    text: &str,
    prefix: &str,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Option<ServerHost> {
    if let Some(unix) =
        super::addr::expand_env(text).ok().and_then(|t| crate::cfg::listen::UnixAddr::parse(&t))
    {
        srv.unix = Some(unix);
        srv.port = None;
        return Some(ServerHost::Ip(std::net::Ipv4Addr::UNSPECIFIED.into()));
    }
    if let Some((_, port)) = text.rsplit_once(':').filter(|(_, p)| p.starts_with(['+', '-']))
        && !text.starts_with('[')
    {
        diags.push(Diag::alert(
            loc,
            format!("{prefix}relative ports are not supported by strata yet ('{port}' in '{text}')."),
        ));
        return None;
    }
    match server_host(text) {
        // Port 0 means "the port the client connected to", like no port.
        Ok((host, port)) => {
            srv.port = port.filter(|p| *p > 0);
            Some(host)
        }
        Err(e) => {
            diags.push(Diag::alert(loc, format!("{prefix}{e}")));
            None
        }
    }
}

/// Applies `words` (options and their arguments) to `srv`; false when any
/// of them was refused. `default`: a `default-server` line.
fn apply_options(
    srv: &mut Server,
    words: &[String],
    default: bool,
    prefix: &str,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> bool {
    let mut ok = true;
    let mut i = 0;
    while let Some(kw) = words.get(i) {
        // TLS options (`ssl`, `verify`, `sni`, `check-ssl`...) have their own parser.
        match super::ssl_opts::server_option(&mut srv.ssl, words, i) {
            Some(Ok(n)) => {
                i += n;
                continue;
            }
            Some(Err(e)) => {
                diags.push(Diag::alert(loc, format!("{prefix}{e}")));
                return false;
            }
            None => {}
        }
        let opt = server_opts::find(kw).filter(|_| !server_opts::PENDING.contains(&kw.as_str()));
        let Some(opt) = opt else {
            let msg = match NOT_YET.iter().find(|(n, _)| n == kw) {
                _ if server_opts::PENDING.contains(&kw.as_str()) => {
                    format!("{prefix}'{kw}' is not supported by strata yet.")
                }
                Some(_) => format!("{prefix}'{kw}' is not supported by strata yet."),
                None => format!("{prefix}unknown keyword '{kw}'."),
            };
            diags.push(Diag::alert(loc, msg));
            return false;
        };
        if default && !opt.in_default {
            diags.push(Diag::alert(loc, format!("'{kw}' option is not accepted in default-server sections")));
            ok = false;
        } else {
            let mut warnings = Vec::new();
            let srv_name = if default { "default-server".to_string() } else { srv.name.clone() };
            let mut args = OptArgs { kw, arg: words.get(i + 1), srv: &srv_name, warnings: &mut warnings };
            if let Err(e) = (opt.apply)(srv, &mut args) {
                diags.push(Diag::alert(loc, format!("{prefix}{e}")));
                ok = false;
            }
            for w in warnings {
                diags.push(Diag::warning(loc, format!("{prefix}{w}")));
            }
        }
        i += 1 + opt.args;
    }
    if !default && srv.agent.enabled && srv.agent.port.is_none() {
        diags.push(Diag::alert(
            loc,
            format!("{prefix}server {} does not have agent port. Agent check has been disabled.", srv.name),
        ));
        ok = false;
    }
    ok
}

/// Sets the server's address at start-up: an IP as written, or a host
/// name looked up by the `init-addr` methods in order (HAProxy's default
/// `last,libc`, plus `none` when `resolvers` is set). `last` is the
/// server-state file's address, known only at start (`runtime::server_state`):
/// here it marks the server so that such an address replaces what later
/// methods give.
/// False (with an alert) when no method gives an address.
fn init_address(
    srv: &mut Server,
    host: ServerHost,
    prefix: &str,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> bool {
    let (name, v6) = match host {
        ServerHost::Ip(ip) => {
            srv.addr = Some(ip);
            return true;
        }
        ServerHost::Name { name, v6 } => (name, v6),
    };
    srv.fqdn = Some(name.clone());
    let mut methods = srv.init_addr.clone();
    if methods.is_empty() {
        methods = vec![InitAddr::Last, InitAddr::Libc];
        if srv.resolvers.is_some() {
            methods.push(InitAddr::None);
        }
    }
    // -dr: a name that does not resolve disables the server (HAProxy's
    // GTUNE_RESOLVE_DONTFAIL), as a trailing `none` would.
    if crate::cfg::switches::resolve_dontfail() && !methods.contains(&InitAddr::None) {
        methods.push(InitAddr::None);
    }
    let mut failed = false;
    for m in methods {
        match m {
            InitAddr::Last => srv.init_addr_last = true,
            InitAddr::Libc => match libc_lookup(&name, v6) {
                Some(ip) => {
                    srv.addr = Some(ip);
                    return true;
                }
                None => failed = true,
            },
            InitAddr::None => {
                srv.addr = None;
                if failed {
                    diags.push(Diag::warning(
                        loc,
                        format!("{prefix}could not resolve address '{name}', disabling server."),
                    ));
                }
                return true;
            }
            InitAddr::Ip(ip) => {
                srv.addr = Some(ip);
                if failed {
                    diags.push(Diag::warning(
                        loc,
                        format!(
                            "{prefix}could not resolve address '{name}', falling back to configured address."
                        ),
                    ));
                }
                return true;
            }
        }
    }
    let msg = if failed { "could not resolve address" } else { "no method found to resolve address" };
    diags.push(Diag::alert(loc, format!("{prefix}{msg} '{name}'.")));
    false
}

/// A forced `id` must not be used by another server of the proxy.
fn unique_id(o: &Open, srv: &Server, prefix: &str, loc: &Loc, diags: &mut Diagnostics) -> bool {
    if !srv.id_forced {
        return true;
    }
    match o.px.servers.iter().find(|s| s.id_forced && s.id == srv.id) {
        Some(other) => {
            diags.push(Diag::alert(
                loc,
                format!(
                    "{prefix}'id' : custom id {} already used at {} ('server {}').",
                    srv.id, other.loc, other.name
                ),
            ));
            false
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(template_range("3"), Some((1, 3)));
        assert_eq!(template_range("2-5"), Some((2, 5)));
        assert_eq!(template_range("0"), None);
        assert_eq!(template_range("3-1"), None);
        assert_eq!(template_range("a"), None);
    }

    #[test]
    fn automatic_ids_skip_forced_ones() {
        let mk = |id: u32| Server { id, id_forced: id > 0, ..Server::default() };
        let mut servers = vec![mk(0), mk(2), mk(0), mk(0)];
        number(&mut servers);
        assert_eq!(servers.iter().map(|s| s.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
        let mut servers = vec![mk(0), mk(0), mk(10), mk(0), mk(4), mk(0)];
        number(&mut servers);
        assert_eq!(servers.iter().map(|s| s.id).collect::<Vec<_>>(), [1, 2, 10, 5, 4, 7], "as HAProxy 2.6");
    }
}
