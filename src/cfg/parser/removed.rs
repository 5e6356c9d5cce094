//! Keywords HAProxy removed before 2.6 and still recognizes, to refuse
//! them with a sentence saying what replaced them: strata refuses them
//! with HAProxy 2.6.12's own texts (observed with `haproxy -c`), so an
//! operator migrating an old configuration reads the same advice.
//! Consulted by the fallbacks of `global`, proxy sections and `option`.

/// Proxy-section keywords HAProxy 2.1 removed, with its refusal (`%s` is
/// the keyword's first argument).
const PROXY: &[(&str, &str)] = &[
    (
        "reqadd",
        "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
    ),
    (
        "reqdel",
        "The 'reqdel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    ),
    (
        "reqidel",
        "The 'reqidel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    ),
    (
        "reqrep",
        "The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
    ),
    (
        "reqirep",
        "The 'reqirep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-header' instead.",
    ),
    ("reqdeny", "The 'reqdeny' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead."),
    (
        "reqideny",
        "The 'reqideny' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    ),
    ("reqpass", "The 'reqpass' not supported anymore since HAProxy 2.1."),
    ("reqipass", "The 'reqipass' directive is not supported anymore since HAProxy 2.1."),
    (
        "reqallow",
        "The 'reqallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    ),
    (
        "reqiallow",
        "The 'reqiallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    ),
    (
        "reqtarpit",
        "The 'reqtarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead.",
    ),
    (
        "reqitarpit",
        "The 'reqitarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead.",
    ),
    (
        "rspadd",
        "The 'rspadd' directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' instead.",
    ),
    (
        "rspdel",
        "The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .",
    ),
    (
        "rspidel",
        "The 'rspidel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' instead.",
    ),
    (
        "rsprep",
        "The 'rsprep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
    ),
    (
        "rspirep",
        "The 'rspirep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
    ),
    (
        "rspdeny",
        "The 'rspdeny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
    ),
    (
        "rspideny",
        "The 'rspideny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
    ),
    (
        "block",
        "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.",
    ),
    (
        "redispatch",
        "keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
    ),
    ("appsession", "'appsession' is not supported anymore since HAProxy 1.6."),
    (
        "clitimeout",
        "the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.",
    ),
    (
        "contimeout",
        "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.",
    ),
    (
        "srvtimeout",
        "the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.",
    ),
    (
        "monitor-net",
        "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src %s }' instead.",
    ),
];

/// HAProxy's refusal of removed proxy keyword `words[0]`, if it is one.
pub(super) fn proxy(words: &[String]) -> Option<String> {
    let kw = words.first()?.as_str();
    let (_, text) = PROXY.iter().find(|(k, _)| *k == kw)?;
    Some(text.replace("%s", words.get(1).map_or("", String::as_str)))
}

/// Options HAProxy removed, with its refusal (printed as
/// `parsing [file:line]: TEXT`, without the blank before the colon).
const OPTIONS: &[(&str, &str)] = &[
    (
        "forceclose",
        "option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.",
    ),
    (
        "http_proxy",
        "option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.",
    ),
    (
        "http-tunnel",
        "option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.",
    ),
];

/// HAProxy's refusal of removed option `name`, if it is one.
pub(super) fn option(name: &str) -> Option<&'static str> {
    OPTIONS.iter().find(|(k, _)| *k == name).map(|(_, t)| *t)
}

/// HAProxy's refusal of removed `global` keyword `kw`, if it is one.
pub(super) fn global(kw: &str) -> Option<&'static str> {
    (kw == "nbproc").then_some(
        "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on \
         multi-processor machines if available.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        let w = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert!(proxy(&w("reqadd X-A:\\ b")).is_some_and(|t| t.contains("'http-request add-header'")));
        assert_eq!(
            proxy(&w("monitor-net 10.0.0.0/8")).as_deref(),
            Some(
                "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src 10.0.0.0/8 }' instead."
            )
        );
        assert!(proxy(&w("http-request deny")).is_none());
        assert!(option("forceclose").is_some() && option("httpclose").is_none());
        assert!(global("nbproc").is_some() && global("nbthread").is_none());
    }
}
