//! The options a `server`, `default-server` or `server-template` line may
//! carry: one table, one row per keyword (its arity, whether
//! `default-server` accepts it, what it sets). Adding an option is adding
//! a row here and a field to `cfg::Server`.
//!
//! Texts are HAProxy 2.6's; the caller prefixes them with `'server be/s1' : `.

use super::args::{Res, int, time};
use crate::cfg::server::{Family, InitAddr, MarkedDown, MarkedUp, ProxyVersion, Server};
use std::net::IpAddr;
use std::time::Duration;

/// What an option's handler sees: the keyword, its argument (for options
/// taking one) and where warnings go.
pub(super) struct OptArgs<'a> {
    pub kw: &'a str,
    pub arg: Option<&'a String>,
    pub srv: &'a str,                  // server name, for HAProxy's "of server X" texts
    pub warnings: &'a mut Vec<String>, // `[WARNING]` texts for this line
}

/// One server option.
pub(super) struct Opt {
    pub name: &'static str,
    pub args: usize,      // words after the keyword
    pub in_default: bool, // allowed on `default-server`
    pub apply: fn(&mut Server, &mut OptArgs<'_>) -> Res,
}

/// Finds the row of `name`.
pub(super) fn find(name: &str) -> Option<&'static Opt> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Options of the table below whose behaviour is not wired yet: refused
/// like [`NOT_YET`] until it is.
pub(super) const PENDING: [&str; 0] = [];

/// Options HAProxy 2.6 has and strata does not (yet): refused by name
/// with their arity, never as "unknown keyword".
pub(super) const NOT_YET: [(&str, usize); 22] = [
    ("check-alpn", 1),
    ("check-proto", 1),
    ("check-via-socks4", 0),
    ("error-limit", 1),
    ("log-proto", 1),
    ("max-reuse", 1),
    ("no-check-ssl", 0),
    ("no-ssl-reuse", 0),
    ("no-verifyhost", 0),
    ("non-stick", 0),
    ("observe", 1),
    ("on-error", 1),
    ("pool-low-conn", 1),
    ("proxy-v2-options", 1),
    ("redir", 1),
    ("send-proxy-v2-ssl", 0),
    ("send-proxy-v2-ssl-cn", 0),
    ("socks4", 1),
    ("source", 1),
    ("ssl-reuse", 0),
    ("stick", 0),
    ("track", 1),
];

macro_rules! opt {
    ($name:literal, $args:literal, $def:literal, $f:expr) => {
        Opt { name: $name, args: $args, in_default: $def, apply: $f }
    };
}

/// Every option strata obeys (or, for `namespace`, warns about).
const OPTIONS: &[Opt] = &[
    opt!("addr", 1, true, |s, a| {
        let v = need(a, "'addr' expects <ipv4|ipv6> as argument.")?;
        let ip = v.parse::<IpAddr>().map_err(|_| format!("'addr' : invalid address: '{v}' in '{v}'."))?;
        s.check_addr = Some(ip);
        Ok(())
    }),
    opt!("agent-addr", 1, true, |s, a| {
        let v = need(a, "'agent-addr' expects an address as argument.")?;
        let ip = v
            .parse::<IpAddr>()
            .map_err(|_| format!("parsing agent-addr failed. Check if '{v}' is correct address."))?;
        s.agent.addr = Some(ip);
        Ok(())
    }),
    opt!("agent-check", 0, true, |s, _| set(&mut s.agent.enabled, true)),
    opt!("agent-inter", 1, true, |s, a| interval(a).map(|d| s.agent.inter = Some(d))),
    opt!("agent-port", 1, true, |s, a| port(a).map(|p| s.agent.port = Some(p))),
    opt!("agent-send", 1, true, |s, a| {
        let v = need(a, "'agent-send' expects a string as argument.")?;
        s.agent.send = Some(v.as_bytes().to_vec());
        Ok(())
    }),
    opt!("backup", 0, true, |s, _| set(&mut s.backup, true)),
    opt!("check", 0, true, |s, _| set(&mut s.check, true)),
    opt!("check-send-proxy", 0, true, |s, _| set(&mut s.check_send_proxy, true)),
    opt!("cookie", 1, true, |s, a| {
        let v = need(a, "'cookie' expects <value> as argument.")?;
        s.cookie = Some(v.clone());
        Ok(())
    }),
    opt!("disabled", 0, true, |s, _| set(&mut s.disabled, true)),
    opt!("downinter", 1, true, |s, a| interval(a).map(|d| s.downinter = Some(d))),
    opt!("enabled", 0, true, |s, _| set(&mut s.disabled, false)),
    opt!("fall", 1, true, |s, a| positive(a).map(|n| s.fall = n)),
    opt!("fastinter", 1, true, |s, a| interval(a).map(|d| s.fastinter = Some(d))),
    opt!("id", 1, false, |s, a| {
        let v = need(a, "'id' : expects an integer argument")?;
        match int::<u32>("id", Some(v)) {
            Ok(0) => Err("'id' : custom id has to be > 0.".into()),
            Ok(n) => {
                s.id = n;
                s.id_forced = true;
                Ok(())
            }
            Err(_) => Err(format!("'id' : expects an integer argument (got '{v}')")),
        }
    }),
    opt!("init-addr", 1, true, |s, a| {
        let v = need(a, "'init-addr' expects <method>[,<method>...] as argument.")?;
        s.init_addr = init_addr(v)?;
        Ok(())
    }),
    opt!("inter", 1, true, |s, a| interval(a).map(|d| s.inter = d)),
    opt!("maxconn", 1, true, |s, a| int("maxconn", a.arg).map(|m| s.maxconn = Some(m))),
    opt!("minconn", 1, true, |s, a| int("minconn", a.arg).map(|m| s.minconn = Some(m))),
    opt!("maxqueue", 1, true, |s, a| int("maxqueue", a.arg).map(|m| s.maxqueue = Some(m))),
    opt!("pool-purge-delay", 1, true, |s, a| delay(a).map(|d| s.pool_purge_delay = d)),
    opt!("pool-max-conn", 1, true, |s, a| {
        let v = need(a, "'pool-max-conn' expects <value> as argument.")?;
        s.pool_max_conn = match v.parse::<i64>() {
            Ok(-1) => None,
            Ok(n) if (0..=i64::from(u32::MAX)).contains(&n) => Some(n as u32),
            Ok(n) if n < -1 => return Err("'pool-max-conn' must be >= -1.".into()),
            _ => return Err(format!("'pool-max-conn' expects -1 or an integer >= 0, not '{v}'.")),
        };
        Ok(())
    }),
    opt!("namespace", 1, true, |s, a| {
        let v = need(a, "'namespace' : expects <name> as argument")?;
        a.warnings.push(format!(
            "'namespace {v}' is ignored: strata connects to servers from the network namespace it runs in."
        ));
        s.namespace = Some(v.clone());
        Ok(())
    }),
    opt!("no-agent-check", 0, true, |s, _| set(&mut s.agent.enabled, false)),
    opt!("no-backup", 0, true, |s, _| set(&mut s.backup, false)),
    opt!("no-check", 0, true, |s, _| set(&mut s.check, false)),
    opt!("no-check-send-proxy", 0, true, |s, _| set(&mut s.check_send_proxy, false)),
    opt!("no-send-proxy", 0, true, |s, _| {
        s.send_proxy = s.send_proxy.filter(|v| *v != ProxyVersion::V1);
        Ok(())
    }),
    opt!("no-send-proxy-v2", 0, true, |s, _| {
        s.send_proxy = s.send_proxy.filter(|v| *v != ProxyVersion::V2);
        Ok(())
    }),
    opt!("proto", 1, true, |s, a| match a.arg.map(String::as_str) {
        Some("h2") => set(&mut s.proto_h2, true),
        Some("h1") => set(&mut s.proto_h2, false),
        Some(other) => Err(format!("'proto' :  unknown MUX protocol '{other}'.")),
        None => Err("'proto' : missing value".into()),
    }),
    opt!("on-marked-down", 1, true, |s, a| match a.arg.map(String::as_str) {
        Some("shutdown-sessions") => set(&mut s.on_marked_down, MarkedDown::ShutdownSessions),
        other =>
            Err(format!("'on-marked-down' expects 'shutdown-sessions' but got '{}'", other.unwrap_or(""))),
    }),
    opt!("on-marked-up", 1, true, |s, a| match a.arg.map(String::as_str) {
        Some("shutdown-backup-sessions") => set(&mut s.on_marked_up, MarkedUp::ShutdownBackupSessions),
        other => {
            Err(format!(
                "'on-marked-up' expects 'shutdown-backup-sessions' but got '{}'",
                other.unwrap_or("")
            ))
        }
    }),
    opt!("port", 1, true, |s, a| port(a).map(|p| s.check_port = Some(p))),
    opt!("resolve-net", 1, true, |s, a| {
        let v = need(a, "'resolve-net' expects <network>[,<network>...] as argument.")?;
        s.resolve_net = networks(v)?;
        Ok(())
    }),
    opt!("resolve-opts", 1, true, |s, a| {
        let v = need(a, "'resolve-opts' expects a comma-separated list of options.")?;
        for o in v.split(',') {
            match o {
                "allow-dup-ip" => s.allow_dup_ip = true,
                "prevent-dup-ip" => s.allow_dup_ip = false,
                // SRV records only, which strata does not query.
                "ignore-weight" => {
                    return Err(
                        "'resolve-opts' : 'ignore-weight' applies to SRV records, which strata does not \
                                resolve yet."
                            .into(),
                    );
                }
                _ => {
                    return Err(format!(
                        "'{}' : unknown resolve-opts option '{o}', supported methods are 'allow-dup-ip', \
                         'ignore-weight', and 'prevent-dup-ip'.",
                        a.kw
                    ));
                }
            }
        }
        Ok(())
    }),
    opt!("resolve-prefer", 1, true, |s, a| match a.arg.map(String::as_str) {
        Some("ipv4") => set(&mut s.resolve_prefer, Family::V4),
        Some("ipv6") => set(&mut s.resolve_prefer, Family::V6),
        other => Err(format!("'resolve-prefer' expects 'ipv4' or 'ipv6' but got '{}'.", other.unwrap_or(""))),
    }),
    opt!("resolvers", 1, true, |s, a| {
        let v = need(a, "'resolvers' expects <resolvers_id> as argument.")?;
        s.resolvers = Some(v.clone());
        Ok(())
    }),
    opt!("send-proxy", 0, true, |s, _| set(&mut s.send_proxy, Some(ProxyVersion::V1))),
    opt!("send-proxy-v2", 0, true, |s, _| set(&mut s.send_proxy, Some(ProxyVersion::V2))),
    opt!("slowstart", 1, true, |s, a| {
        let v = need(a, "'slowstart' expects a delay as argument.")?;
        let d = time("slowstart", v)
            .map_err(|_| format!("unexpected character in 'slowstart' argument of server {}.", a.srv))?;
        s.slowstart = (!d.is_zero()).then_some(d);
        Ok(())
    }),
    opt!("weight", 1, true, |s, a| match int::<u32>("weight", a.arg) {
        Ok(w) if w <= 256 => set(&mut s.weight, w),
        Ok(w) => Err(format!("weight of server {} is not within 0 and 256 ({w}).", a.srv)),
        Err(e) => Err(e),
    }),
    opt!("rise", 1, true, |s, a| positive(a).map(|n| s.rise = n)),
];

/// Stores an option's value (keeps the table one line per row).
fn set<T>(slot: &mut T, value: T) -> Res {
    *slot = value;
    Ok(())
}

/// The option's argument, or the given error.
fn need<'a>(a: &OptArgs<'a>, missing: &str) -> Result<&'a String, String> {
    a.arg.filter(|v| !v.is_empty()).ok_or_else(|| missing.to_string())
}

/// `inter`, `fastinter`, `downinter`, `agent-inter`: a non-zero delay.
fn interval(a: &OptArgs<'_>) -> Result<Duration, String> {
    match delay(a) {
        Ok(d) if d.is_zero() => Err(format!("invalid value 0 for argument '{}' of server {}.", a.kw, a.srv)),
        other => other,
    }
}

/// A delay argument, 0 allowed.
fn delay(a: &OptArgs<'_>) -> Result<Duration, String> {
    let v = need(a, &format!("'{}' expects a delay as argument.", a.kw))?;
    match time(a.kw, v) {
        Ok(d) => Ok(d),
        Err(e) if e.starts_with("timer overflow") => Err(format!(
            "timer overflow in argument <{v}> to <{}> of server {}, maximum value is 2147483647 ms (~24.8 days).",
            a.kw, a.srv
        )),
        Err(_) => {
            let c = v.chars().find(|c| !c.is_ascii_digit()).unwrap_or(' ');
            Err(format!("unexpected character '{c}' in '{}' argument of server {}.", a.kw, a.srv))
        }
    }
}

/// `rise`, `fall`: an integer above 0.
fn positive(a: &OptArgs<'_>) -> Result<u32, String> {
    match int::<u32>(a.kw, a.arg) {
        Ok(0) => Err(format!("'{}' has to be > 0.", a.kw)),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{}' expects an integer argument.", a.kw)),
    }
}

/// `port`, `agent-port`: 1..=65535 (HAProxy takes any number; a port out
/// of range could only be a typo).
fn port(a: &OptArgs<'_>) -> Result<u16, String> {
    let v = need(a, &format!("'{}' expects a port number as argument.", a.kw))?;
    match int::<u32>(a.kw, Some(v)) {
        Ok(p @ 1..=65535) => Ok(p as u16),
        _ => Err(format!("'{}' expects a port number from 1 to 65535 as argument (got '{v}').", a.kw)),
    }
}

/// `init-addr last,libc,none,IP`.
fn init_addr(v: &str) -> Result<Vec<InitAddr>, String> {
    let mut methods = Vec::new();
    for m in v.split(',') {
        let method = match m {
            "last" => InitAddr::Last,
            "libc" => InitAddr::Libc,
            "none" => InitAddr::None,
            _ => match m.parse::<IpAddr>() {
                Ok(ip) if methods.iter().any(|x| matches!(x, InitAddr::Ip(_))) => {
                    return Err(format!(
                        "'init-addr' : initial address already specified, cannot add '{ip}'."
                    ));
                }
                Ok(ip) => InitAddr::Ip(ip),
                Err(_) => {
                    return Err(format!(
                        "'init-addr' : unknown init-addr method '{m}', supported methods are 'libc', 'last', 'none'."
                    ));
                }
            },
        };
        if methods.contains(&method) {
            return Err(format!("'init-addr' : too many init-addr methods when trying to add '{m}'"));
        }
        methods.push(method);
    }
    Ok(methods)
}

/// `resolve-net 10.0.0.0/8,2001:db8::/32`.
fn networks(v: &str) -> Result<Vec<(IpAddr, u8)>, String> {
    v.split(',')
        .map(|n| {
            let (ip, len) = n.split_once('/').unwrap_or((n, ""));
            let ip = ip.parse::<IpAddr>().map_err(|_| format!("'resolve-net' : invalid network '{n}'."))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = if len.is_empty() { Ok(max) } else { len.parse::<u8>() };
            match len {
                Ok(l) if l <= max => Ok((ip, l)),
                _ => Err(format!("'resolve-net' : invalid network '{n}'.")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(words: &[&str]) -> Result<(Server, Vec<String>), String> {
        let mut s = Server::default();
        let mut warnings = Vec::new();
        let opt = find(words[0]).ok_or("unknown")?;
        let arg = words.get(1).map(|w| w.to_string());
        let mut a = OptArgs { kw: words[0], arg: arg.as_ref(), srv: "s1", warnings: &mut warnings };
        (opt.apply)(&mut s, &mut a)?;
        Ok((s, warnings))
    }

    #[test]
    fn options_set_their_field() {
        assert_eq!(apply(&["port", "8008"]).map(|r| r.0.check_port), Ok(Some(8008)));
        assert_eq!(apply(&["inter", "3s"]).map(|r| r.0.inter), Ok(Duration::from_secs(3)));
        assert_eq!(apply(&["pool-purge-delay", "0"]).map(|r| r.0.pool_purge_delay), Ok(Duration::ZERO));
        assert_eq!(
            apply(&["pool-purge-delay", "2s"]).map(|r| r.0.pool_purge_delay),
            Ok(Duration::from_secs(2))
        );
        assert!(apply(&["pool-purge-delay", "2x"]).is_err());
        assert_eq!(apply(&["cookie", "s1"]).map(|r| r.0.cookie), Ok(Some("s1".into())));
        assert_eq!(
            apply(&["init-addr", "last,libc,none"]).map(|r| r.0.init_addr),
            Ok(vec![InitAddr::Last, InitAddr::Libc, InitAddr::None])
        );
        assert_eq!(apply(&["send-proxy-v2"]).map(|r| r.0.send_proxy), Ok(Some(ProxyVersion::V2)));
        assert_eq!(
            apply(&["on-marked-down", "shutdown-sessions"]).map(|r| r.0.on_marked_down),
            Ok(MarkedDown::ShutdownSessions)
        );
        assert_eq!(apply(&["resolve-prefer", "ipv4"]).map(|r| r.0.resolve_prefer), Ok(Family::V4));
        assert_eq!(apply(&["namespace", "x"]).map(|r| r.1.len()), Ok(1), "warned");
    }

    #[test]
    fn bad_arguments_have_haproxy_texts() {
        assert_eq!(
            apply(&["weight", "300"]).err(),
            Some("weight of server s1 is not within 0 and 256 (300).".into())
        );
        assert_eq!(apply(&["inter"]).err(), Some("'inter' expects a delay as argument.".into()));
        assert_eq!(
            apply(&["inter", "abc"]).err(),
            Some("unexpected character 'a' in 'inter' argument of server s1.".into())
        );
        assert_eq!(apply(&["id", "0"]).err(), Some("'id' : custom id has to be > 0.".into()));
        assert!(
            apply(&["init-addr", "bogus"]).is_err_and(|e| e.contains("unknown init-addr method 'bogus'"))
        );
        assert!(apply(&["init-addr", "libc,libc"]).is_err_and(|e| e.contains("too many")));
        assert!(apply(&["port", "70000"]).is_err());
        assert!(apply(&["rise", "0"]).is_err_and(|e| e == "'rise' has to be > 0."));
        assert!(apply(&["on-marked-down", "x"]).is_err());
        assert!(apply(&["resolve-net", "10.0.0.0/33"]).is_err());
    }

    #[test]
    fn not_yet_and_known_never_overlap() {
        for (name, _) in NOT_YET {
            assert!(find(name).is_none(), "{name} is both");
        }
    }
}
