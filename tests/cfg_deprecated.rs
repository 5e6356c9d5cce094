//! Keywords HAProxy 2.6 accepts with a warning, which strata warned
//! nothing about or refused: `bind-process` ("has no effect, is
//! deprecated") and `email-alert` lines without all of `from`, `mailers`
//! and `to` (HAProxy ignores them, saying so); and `transparent`, the old
//! spelling of `option transparent`, which HAProxy takes silently and
//! strata warns as it warns the option (it has no transparent proxying). The bug story: strata
//! refused both, so configurations HAProxy runs did not start. The same
//! warnings, word for word, from HAProxy 2.6.12
//! (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::*;

#[test]
fn bind_process_and_partial_email_alerts_are_warned_and_the_proxy_runs() {
    let cfg = format!(
        "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         frontend f\n    bind 127.0.0.1:{}\n    bind-process 1\n    default_backend b\n\
         backend b\n    bind-process all\n    email-alert from a@example.com\n    email-alert to b@example.com\n\
         \x20   email-alert level alert\n    email-alert myhostname h\n    server s 127.0.0.1:9\n",
        free_port()
    );
    let (rc, out, err) = Proxy::check(&cfg);
    assert_eq!((rc, out.as_str()), (0, "Warnings were found.\nConfiguration file is valid\n"), "{err}");
    let transparent = format!(
        "{}listen l\n    bind 127.0.0.1:{}\n    transparent\n",
        cfg.split("frontend").next().unwrap_or(""),
        free_port()
    );
    let (rc, _, terr) = Proxy::check(&transparent);
    assert_eq!(rc, 0, "{terr}");
    if !under_haproxy() {
        assert!(terr.contains("'transparent' has no effect in strata"), "{terr}");
    }
    let file = err.split("parsing [").nth(1).and_then(|r| r.split(':').next()).unwrap_or("").to_string();
    assert_eq!(
        config_warnings(&err),
        [
            format!("parsing [{file}:7]: 'bind-process' has no effect, is deprecated, and will be removed in version 2.7."),
            format!("parsing [{file}:10]: 'bind-process' has no effect, is deprecated, and will be removed in version 2.7."),
            "'email-alert' will be ignored for backend 'b' (the presence any of 'email-alert from', 'email-alert \
             level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of \
             'email-alert from', 'email-alert mailers' and 'email-alert to' to be present)."
                .to_string(),
        ],
        "{err}"
    );
}

#[test]
fn bad_email_alert_lines_are_refused_in_haproxys_words() {
    for (line, words) in [
        ("email-alert bogus x", "email-alert: unknown argument 'bogus'."),
        ("email-alert level loud", "unknown log level 'level' after 'loud'"),
        ("email-alert", "missing argument after 'email-alert'."),
    ] {
        let cfg = format!(
            "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
             listen l\n    bind 127.0.0.1:{}\n    {line}\n    server s 127.0.0.1:9\n",
            free_port()
        );
        let (rc, _, err) = Proxy::check(&cfg);
        assert_eq!(rc, 1, "{line}: {err}");
        assert!(
            err.lines().any(|l| l.starts_with("[ALERT]") && l.contains(":7] : ") && l.ends_with(words)),
            "{line}: {err}"
        );
    }
}
