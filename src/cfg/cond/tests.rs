//! The condition language against what `haproxy -cc` 2.6.12 answers (each
//! expectation below was observed with it, except the OpenSSL ones: strata
//! has no TLS library yet).

use super::*;

struct Env;

impl CondEnv for Env {
    fn var(&self, name: &str) -> Option<String> {
        (name == "HOME" || name == "EMPTY")
            .then(|| if name == "HOME" { "/root".into() } else { String::new() })
    }
}

fn t(text: &str) -> bool {
    match eval(text, &Env) {
        Ok(v) => v,
        Err(e) => panic!("{text:?}: {}", e.msg),
    }
}

fn err(text: &str) -> (String, usize) {
    match eval(text, &Env) {
        Ok(v) => panic!("{text:?} evaluated to {v}"),
        Err(e) => (e.msg, e.pos),
    }
}

#[test]
fn constants_and_operators() {
    assert!(!t(""));
    assert!(t("1") && !t("0") && t("0x10") && !t("-0") && t("-1") && t("007"));
    assert!(t("!0") && !t("!!0") && t("! ! 1") && t("!  0"));
    assert!(t("1 && 1") && !t("1 && 0") && t("0 || 1") && !t("0 || 0"));
    assert!(t("1 && (0 || 1)") && !t("!(1 && 1)") && t("0 || 0 || 1") && !t("1 && 1 && 0"));
    assert!(t("(1)") && t("( ( 1 ) )") && t("\t1\t&&\t1"));
}

#[test]
fn predicates() {
    assert!(t("defined(HOME)") && t("defined(EMPTY)") && !t("defined(NOPE)"));
    assert!(!t("defined") && t("!defined"), "no parentheses: one empty argument");
    assert!(t("feature(EPOLL)") && !t("feature(OPENSSL)") && !t("feature(EPOL)") && !t("feature()"));
    assert!(t("streq(a,a)") && !t("streq(a,b)") && t("strneq(a,b)") && !t("strneq(x,x)"));
    assert!(t("streq('a,b',\"a,b\")"));
    assert_eq!(
        eval("streq(a\\,,a\\,)", &Env).map_err(|e| e.msg).err().as_deref(),
        Some(
            "expected ')' before ',a\\,)' in argument 1 of predicate 'streq' used in conditional expression"
        ),
        "`\\,` is no escape: the comma still ends the argument"
    );
    assert!(
        t(r"streq(a\ b,'a b')") && t(r"streq(\t,'	')") && !t("streq(a, a)"),
        "a blank after the comma counts"
    );
    assert!(t("streq(,)") && t("streq('','')"));
    assert!(!t("ssllib_name_startswith(Open)"));
}

#[test]
fn versions() {
    assert!(t("version_atleast(2.5-dev0)") && t("version_atleast(2.6)") && t("version_atleast(2.6.12)"));
    assert!(t("version_atleast(2.6.12-dev3)") && t("version_atleast(1.9)") && !t("version_atleast(2.6.13)"));
    assert!(!t("version_atleast(2.7-dev0)") && !t("version_atleast(3)"));
    assert!(t("version_before(2.6.13)") && !t("version_before(2.6.12)") && !t("version_before(2.6)"));
    assert!(t("version_before(2.7-dev0)") && !t("version_before(2.6.12-rc1)"));
    // Unparsable versions: "at least" is true, "before" false, as in HAProxy.
    assert!(t("version_atleast()") && t("version_atleast(abc)") && !t("version_before(abc)"));
    assert_eq!(split_version("1.5-dev18-43"), Some([1, 5, 0, 0, 1, 18, 43]));
    assert_eq!(split_version("2.4-dev18-f6818d-20"), Some([2, 4, 0, 0, 1, 18, 20]));
    assert_eq!(split_version("1.2.10.1"), Some([1, 2, 10, 1, 3, 0, 0]));
    assert_eq!(split_version("1.3.16-rc1"), Some([1, 3, 16, 0, 2, 1, 0]));
    assert_eq!(split_version(features::VERSION), Some([2, 6, 12, 0, 3, 0, 0]));
    assert_eq!(split_version("1.2.3.4.5"), None);
    assert_eq!(split_version("1-"), Some([1, 0, 0, 0, 3, 0, 0]));
    assert_eq!(split_version("1-2-"), None);
}

#[test]
fn haproxy_messages() {
    let unparsable = |s: &str| format!("unparsable conditional expression '{s}'");
    assert_eq!(err("foo("), (unparsable("foo("), 0));
    assert_eq!(err("a"), (unparsable("a"), 0));
    assert_eq!(err("!"), (unparsable("!"), 0));
    assert_eq!(err("feature(OPENSSL) &&"), (unparsable("&&"), 17));
    assert_eq!(err("1 ||"), (unparsable("1 ||"), 2));
    assert_eq!(err("(1 ||)"), (unparsable(")"), 5));
    assert_eq!(err("defined(HOME) || bad("), (unparsable("bad("), 17));
    assert_eq!(err(" ").0, "unparsable conditional sub-expression ' '");
    assert_eq!(err("1 x"), ("unexpected character 'x' at the end of conditional expression '1 x'".into(), 2));
    assert_eq!(err("0x").0, "unexpected character 'x' at the end of conditional expression '0x'");
    assert_eq!(err("08").0, "unexpected character '8' at the end of conditional expression '08'");
    assert_eq!(
        err("defined (HOME)").0,
        "unexpected character '(' at the end of conditional expression 'defined (HOME)'"
    );
    assert_eq!(err("((1)").0, "expected ')' after conditional expression '((1)'");
    assert_eq!(err("(defined(HOME)").0, "expected ')' after conditional expression '(defined(HOME)'");
    let pred = |m: &str, n: usize, p: &str| {
        format!("{m} in argument {n} of predicate '{p}' used in conditional expression")
    };
    assert_eq!(err("version_atleast(2.5").0, pred("expected ')'", 1, "version_atleast"));
    assert_eq!(err("defined(X").0, pred("expected ')'", 1, "defined"));
    assert_eq!(err("streq(a)").0, pred("missing arguments (got 1/2), type 'string' expected", 1, "streq"));
    assert_eq!(err("streq").0, pred("missing arguments (got 1/2), type 'string' expected", 1, "streq"));
    assert_eq!(err("streq(a,b,c)").0, pred("expected ')' before ',c)'", 1, "streq"));
    assert_eq!(
        err("streq(a\\").0,
        pred("failed to parse '\\' after 'a' as type 'string' at position 1", 0, "streq")
    );
    assert!(err("openssl_version_atleast(1.0.0)").0.contains("without OpenSSL"));
}

#[test]
fn syntax_errors_win_over_short_circuits_and_depth_is_bounded() {
    assert!(eval("1 || bad(", &Env).is_err());
    assert!(eval("0 && streq(a)", &Env).is_err());
    let deep = format!("{}1{}", "(".repeat(2000), ")".repeat(2000));
    assert!(eval(&deep, &Env).is_err(), "recursion is bounded, no stack overflow");
    let shallow = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert!(t(&shallow));
    let long_and = vec!["1"; 200].join(" && ");
    assert!(t(&long_and));
}

#[test]
fn seeded_random_conditions_never_panic() {
    let alphabet: Vec<char> = " \t!&|()01x,'\"\\defined(streq)version_atleast(é".chars().collect();
    let mut seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_C0DE);
    println!("seed {seed}");
    for _ in 0..5000 {
        let mut text = String::new();
        for _ in 0..(seed % 32) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        if let Err(e) = eval(&text, &Env) {
            assert!(e.pos <= text.len(), "{text:?}: pos {} out of range", e.pos);
            assert!(text.is_char_boundary(e.pos) || e.pos == text.len());
        }
    }
}
