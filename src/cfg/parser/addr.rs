//! Internet addresses as HAProxy writes them: `IP:PORT`, `:PORT`,
//! `*:PORT`, `[IPv6]:PORT`, `ipv4@..`, `ipv6@..` (and `udp@`, `udp4@`,
//! `udp6@` for log targets), or a host name resolved now.
//!
//! Without brackets the last colon separates the port, as in HAProxy:
//! `::1:80` is `::1` port 80. Error texts are HAProxy's; the caller adds
//! its prefix (`'bind' : `, `'server b/s1' : `, `log : `).
//!
//! Every address is first given to [`expand_env`], as HAProxy's
//! `str2sa_range` does: `$NAME` and `${NAME}` are replaced by the
//! variable's value even outside quotes (`bind :$PORT`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// What the address is for: decides the accepted prefixes, whether an
/// empty host means "any" and how a failed name lookup is worded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Use {
    Listen,  // bind, stats socket: empty host or `*` is the wildcard
    Connect, // server
    Log,     // log target: also udp@, udp4@, udp6@
}

/// Address family forced by a prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
}

/// Parses `text` into an IP address and an optional port, after
/// [`expand_env`].
pub(super) fn inet(text: &str, usage: Use) -> Result<(IpAddr, Option<u16>), String> {
    inet_expanded(&expand_env(text)?, usage)
}

/// HAProxy's `env_expand` on an address: each `$NAME` or `${NAME}`
/// (NAME: letters, digits, `_`) becomes the variable's value, empty when
/// unset. Nothing else is special: `${NAME-x}` is `$NAME` followed by
/// `-x}`, a `$` not followed by a name disappears. An address that ends
/// up empty is HAProxy's error.
pub(super) fn expand_env(text: &str) -> Result<String, String> {
    expand_env_with(text, &|name| std::env::var(name).ok())
}

fn expand_env_with(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (braced, name_area) = match after.strip_prefix('{') {
            Some(inner) => (true, inner),
            None => (false, after),
        };
        let len = name_area.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        if len > 0 {
            out.push_str(&env(&name_area[..len]).unwrap_or_default());
        }
        let mut next = &name_area[len..];
        if braced && next.starts_with('}') {
            next = &next[1..];
        }
        rest = next;
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err(format!("'{text}' resolves to an empty address (environment variable missing?)"));
    }
    Ok(out)
}

/// The number after `fd@` (`raw` is the address as written, for the
/// message) and what [`crate::core::inherited::inspect`] found there.
pub(super) fn inherited_fd(n: &str, raw: &str) -> Result<(i32, crate::core::inherited::Bound), String> {
    let fd =
        n.parse::<i32>().map_err(|_| format!("file descriptor '{n}' is not a valid integer in '{raw}'"))?;
    Ok((fd, crate::core::inherited::inspect(fd)?))
}

/// Parses `text`, already given to [`expand_env`], into an IP address
/// and an optional port. Host names are resolved with the system resolver
/// (first address of the right family).
pub(super) fn inet_expanded(text: &str, usage: Use) -> Result<(IpAddr, Option<u16>), String> {
    let (family, rest) = strip_prefix(text, usage)?;
    let (host, port) =
        split_host_port(rest).ok_or_else(|| format!("invalid address: '{rest}' in '{text}'"))?;
    // A log target's port is optional (HAProxy's default 514): `log :`
    // with both parts empty is `0.0.0.0:514`.
    let port = match port {
        None => None,
        Some("") if usage == Use::Log => None,
        Some(p) => Some(parse_port(p, text)?),
    };
    let ip = host_ip(host, family, usage, text, port)?;
    Ok((ip, port))
}

/// A server address as written, before any name lookup: the host (an IP
/// address, or a name for `init-addr` and the resolvers to look up) and
/// the port. `ipv4@`/`ipv6@` force the family of the name's addresses.
pub(super) fn server_host(text: &str) -> Result<(ServerHost, Option<u16>), String> {
    let expanded = expand_env(text)?;
    let text = expanded.as_str();
    let (family, rest) = strip_prefix(text, Use::Connect)?;
    let (host, port) =
        split_host_port(rest).ok_or_else(|| format!("invalid address: '{rest}' in '{text}'"))?;
    // As HAProxy: an empty port is no port (the client's destination port),
    // an empty host before it `0.0.0.0` (the client's destination address):
    // `server s1 ${HOST}:${PORT}` with both unset gives `:`.
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(parse_port(p, text)?),
    };
    if host.is_empty() && text.contains(':') {
        let any = if family == Family::V6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Ok((ServerHost::Ip(any), port));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        let fits = match family {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        };
        return if fits {
            Ok((ServerHost::Ip(ip), port))
        } else {
            Err(format!("invalid address: '{host}' in '{text}'"))
        };
    }
    if host.is_empty()
        || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(format!("could not resolve address '{host}'."));
    }
    let only = match family {
        Family::Any => None,
        Family::V4 => Some(false),
        Family::V6 => Some(true),
    };
    Ok((ServerHost::Name { name: host.to_string(), v6: only }, port))
}

/// The host part of a server address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ServerHost {
    Ip(IpAddr),
    Name { name: String, v6: Option<bool> }, // v6: family forced by `ipv4@`/`ipv6@`
}

/// Looks `name` up with the system resolver (HAProxy's `init-addr libc`):
/// the first address of the forced family, if any.
pub(super) fn libc_lookup(name: &str, v6: Option<bool>) -> Option<IpAddr> {
    let found = (name, 0).to_socket_addrs().ok()?;
    found.map(|sa| sa.ip()).find(|ip| v6.is_none_or(|v6| ip.is_ipv6() == v6))
}

/// Removes a known `family@` prefix.
fn strip_prefix(text: &str, usage: Use) -> Result<(Family, &str), String> {
    let Some((prefix, rest)) = text.split_once('@') else {
        return Ok((Family::Any, text));
    };
    let family = match (prefix, usage) {
        ("ipv4", _) | ("udp4", Use::Log) => Family::V4,
        ("ipv6", _) | ("udp6", Use::Log) => Family::V6,
        ("udp", Use::Log) => Family::Any,
        _ => return Err(format!("address family '{prefix}@' is not supported here in '{text}'")),
    };
    Ok((family, rest))
}

/// `[v6]:port`, `[v6]`, `host:port` (last colon), `host`. None when
/// brackets are unbalanced or followed by something other than `:port`.
fn split_host_port(s: &str) -> Option<(&str, Option<&str>)> {
    if let Some(inner) = s.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((s, None)),
    }
}

/// A port number: digits only, 0..=65535 (the caller decides about 0).
fn parse_port(p: &str, text: &str) -> Result<u16, String> {
    if let Some(c) = p.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!("invalid character '{c}' in port number '{p}' in '{text}'"));
    }
    match p.parse::<u16>() {
        Ok(port) => Ok(port),
        Err(_) if p.is_empty() => Err(format!("missing port specification in '{text}'")),
        Err(_) => Err(format!("invalid port '{p}'")),
    }
}

/// The host part as an address of the requested family.
fn host_ip(host: &str, family: Family, usage: Use, text: &str, port: Option<u16>) -> Result<IpAddr, String> {
    if matches!(usage, Use::Listen | Use::Log) && (host.is_empty() || host == "*") {
        return Ok(match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    let fits = |ip: &IpAddr| match family {
        Family::Any => true,
        Family::V4 => ip.is_ipv4(),
        Family::V6 => ip.is_ipv6(),
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return if fits(&ip) { Ok(ip) } else { Err(format!("invalid address: '{host}' in '{text}'")) };
    }
    let not_found = || match usage {
        Use::Listen => format!("invalid address: '{host}' in '{text}'"),
        _ => format!("could not resolve address '{host}'."),
    };
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err(not_found());
    }
    let found = (host, port.unwrap_or(0)).to_socket_addrs().map_err(|_| not_found())?;
    found.map(|sa| sa.ip()).find(fits).ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, usage: Use) -> (IpAddr, Option<u16>) {
        match inet_expanded(text, usage) {
            Ok(v) => v,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::BROADCAST))
    }

    #[test]
    fn forms() {
        assert_eq!(ok("1.2.3.4:80", Use::Connect), (ip("1.2.3.4"), Some(80)));
        assert_eq!(ok("1.2.3.4", Use::Connect), (ip("1.2.3.4"), None));
        assert_eq!(ok(":80", Use::Listen), (ip("0.0.0.0"), Some(80)));
        assert_eq!(ok("*:80", Use::Listen), (ip("0.0.0.0"), Some(80)));
        assert_eq!(ok("ipv6@:80", Use::Listen), (ip("::"), Some(80)));
        assert_eq!(ok("[::1]:80", Use::Connect), (ip("::1"), Some(80)));
        assert_eq!(ok("[::1]", Use::Connect), (ip("::1"), None));
        assert_eq!(ok("ipv6@::1:80", Use::Listen), (ip("::1"), Some(80)));
        assert_eq!(ok("ipv6@[::1]:80", Use::Listen), (ip("::1"), Some(80)));
        assert_eq!(ok("ipv4@127.0.0.1:80", Use::Listen), (ip("127.0.0.1"), Some(80)));
        assert_eq!(ok("udp@127.0.0.1:515", Use::Log), (ip("127.0.0.1"), Some(515)));
        assert_eq!(ok("localhost:80", Use::Connect).1, Some(80));
    }

    #[test]
    fn environment_in_addresses() {
        let env = |n: &str| match n {
            "PORT" => Some("7777".to_owned()),
            "HOST" => Some("127.0.0.1".to_owned()),
            _ => None,
        };
        let x = |t: &str| expand_env_with(t, &env);
        assert_eq!(x("127.0.0.1:$PORT"), Ok("127.0.0.1:7777".into()));
        assert_eq!(x("[$HOST]:${PORT}"), Ok("[127.0.0.1]:7777".into()));
        assert_eq!(x("${HOST}x$PORT.y"), Ok("127.0.0.1x7777.y".into()));
        assert_eq!(x("${UNSET}1.2.3.4:5"), Ok("1.2.3.4:5".into()));
        // No default-value syntax here (HAProxy: 'could not resolve address '-127.0.0.1'').
        assert_eq!(x("${UNSET-127.0.0.1:81}"), Ok("-127.0.0.1:81}".into()));
        assert_eq!(x("a$"), Ok("a".into()));
        assert_eq!(x("a${"), Ok("a".into()));
        assert_eq!(x("no vars"), Ok("no vars".into()));
        assert_eq!(
            x("$UNSET"),
            Err("'$UNSET' resolves to an empty address (environment variable missing?)".into())
        );
    }

    #[test]
    fn errors() {
        let err = |t: &str, u: Use| inet_expanded(t, u).err().unwrap_or_default();
        assert_eq!(err("1.2.3.4:99999", Use::Connect), "invalid port '99999'");
        assert_eq!(
            err("1.2.3.4:abc", Use::Connect),
            "invalid character 'a' in port number 'abc' in '1.2.3.4:abc'"
        );
        assert_eq!(err("1.2.3.4:", Use::Listen), "missing port specification in '1.2.3.4:'");
        assert_eq!(
            err("nonexistent.invalid:80", Use::Connect),
            "could not resolve address 'nonexistent.invalid'."
        );
        assert_eq!(err("abc def:80", Use::Listen), "invalid address: 'abc def' in 'abc def:80'");
        assert_eq!(err("ipv4@::1:80", Use::Listen), "invalid address: '::1' in 'ipv4@::1:80'");
        assert_eq!(err("[::1:80", Use::Connect), "invalid address: '[::1:80' in '[::1:80'");
        assert_eq!(err("[::1]x", Use::Connect), "invalid address: '[::1]x' in '[::1]x'");
        assert!(err("udp@1.2.3.4:80", Use::Connect).contains("'udp@'"));
        assert!(err(":80", Use::Connect).contains("could not resolve"));
    }

    #[test]
    fn server_addresses_without_host_or_port() {
        // HAProxy 2.6's `show servers state` for these: 0.0.0.0 port 0, 127.0.0.1 port 0, 0.0.0.0 port 8080.
        let any = ServerHost::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(server_host(":"), Ok((any.clone(), None)));
        assert_eq!(server_host("127.0.0.1:"), Ok((ServerHost::Ip([127, 0, 0, 1].into()), None)));
        assert_eq!(server_host(":8080"), Ok((any, Some(8080))));
        assert_eq!(server_host("ipv6@:"), Ok((ServerHost::Ip(IpAddr::V6(Ipv6Addr::UNSPECIFIED)), None)));
    }
}
