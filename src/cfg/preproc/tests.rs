//! `.if` blocks and message directives over whole texts, with the alerts
//! HAProxy 2.6.12 prints for the same files (observed with `haproxy -c`).

use crate::cfg::diag::Diagnostics;
use crate::cfg::parser;

/// Parses `text` as file `t.cfg`: (printed diagnostics, aborted, the
/// `description` words the text set, as a probe of which lines were kept).
fn run(text: &str) -> (Vec<String>, bool, Option<String>) {
    let mut diags = Diagnostics::default();
    let cfg = parser::parse(&[("t.cfg".into(), text.into())], &mut diags);
    let printed = diags
        .items
        .iter()
        .map(|d| {
            let s = d.to_string();
            let tag = s.split(" (").next().unwrap_or_default().trim().to_owned();
            format!("{tag} {}", s.split(" : config : ").nth(1).unwrap_or_default())
        })
        .collect();
    (printed, diags.aborted, cfg.global.description)
}

fn kept(text: &str) -> Option<String> {
    let (printed, aborted, desc) = run(text);
    assert!(printed.is_empty() && !aborted, "{text}: {printed:?}");
    desc
}

#[test]
fn branches() {
    let pick =
        |cond: &str| kept(&format!("global\n.if {cond}\n description yes\n.else\n description no\n.endif\n"));
    assert_eq!(pick("1").as_deref(), Some("yes"));
    assert_eq!(pick("0").as_deref(), Some("no"));
    assert_eq!(pick("defined(PATH) && !feature(OPENSSL)").as_deref(), Some("yes"));
    assert_eq!(pick("streq(\"a b\", \"a b\")").as_deref(), Some("no"), "words are rejoined: ' a b'");
    assert_eq!(pick("streq(\"a b\",\"a b\")").as_deref(), Some("yes"));
    let elif = |a: &str, b: &str| {
        kept(&format!(
            "global\n.if {a}\n description first\n.elif {b}\n description second\n.else\n description third\n.endif\n"
        ))
    };
    assert_eq!(elif("1", "1").as_deref(), Some("first"));
    assert_eq!(elif("0", "1").as_deref(), Some("second"));
    assert_eq!(elif("0", "0").as_deref(), Some("third"));
    assert_eq!(elif("1", "bad((("), Some("first".into()), "a settled block does not evaluate its .elif");
}

#[test]
fn nesting_and_masked_blocks() {
    let text = "global\n.if 0\n  .if bad(((\n  description inner\n  .endif\n  .alert \"not me\"\n.else\n  .if 1\n    description nested\n  .endif\n.endif\n";
    assert_eq!(kept(text).as_deref(), Some("nested"));
    let deep = format!("global\n{} description deep\n{}", ".if 1\n".repeat(99), ".endif\n".repeat(99));
    assert_eq!(kept(&deep).as_deref(), Some("deep"));
    let (printed, aborted, _) = run(&".if 1\n".repeat(100));
    assert_eq!(printed, ["[ALERT] parsing [t.cfg:100]: too many nested '.if', max is 100."]);
    assert!(aborted);
}

#[test]
fn messages() {
    let (printed, aborted, desc) =
        run(".diag \"d1\"\n.warning \"w1\"\n.notice \"n1\"\n.notice\nglobal\n description after\n");
    assert_eq!(
        printed,
        [
            "[DIAG] parsing [t.cfg:1]: 'd1'.",
            "[WARNING] parsing [t.cfg:2]: 'w1'.",
            "[NOTICE] parsing [t.cfg:3]: 'n1'.",
            "[NOTICE] parsing [t.cfg:4]: ''."
        ]
    );
    assert!(!aborted && desc.as_deref() == Some("after"));
    let (printed, aborted, _) = run(".notice a b\n");
    assert_eq!(
        printed,
        [
            "[ALERT] parsing [t.cfg:1]: Unexpected argument 'b' for '.notice'. Use quotes if the message should contain spaces."
        ]
    );
    assert!(!aborted);
    let (printed, aborted, desc) = run(".alert \"boom\"\nglobal\n description never\n");
    assert_eq!(printed, ["[ALERT] parsing [t.cfg:1]: 'boom'."]);
    assert!(aborted && desc.is_none(), "nothing after an .alert is read");
}

#[test]
fn structure_errors() {
    let one = |text: &str| {
        let (printed, aborted, _) = run(text);
        (printed.join("\n"), aborted)
    };
    assert_eq!(one(".if 1\n"), ("[ALERT] parsing [t.cfg:1]: non-terminated '.if' block.".into(), true));
    assert_eq!(
        one(".endif\nfoo\n"),
        ("[ALERT] parsing [t.cfg:1]: lone '.endif' with no matching '.if'.".into(), true)
    );
    assert_eq!(
        one(".else\n"),
        ("[ALERT] parsing [t.cfg:1]: lone '.else' with no matching '.if'.".into(), true)
    );
    assert_eq!(
        one(".elif 1\n"),
        ("[ALERT] parsing [t.cfg:1]: lone '.elif' with no matching '.if'.".into(), true)
    );
    assert_eq!(
        one(".if 1\n.else\n.else\n.endif\n"),
        ("[ALERT] parsing [t.cfg:3]: '.else' after '.else' is not permitted.".into(), true)
    );
    assert_eq!(
        one(".if 1\n.else\n.elif 1\n.endif\n"),
        ("[ALERT] parsing [t.cfg:3]: '.elif' after '.else' is not permitted.".into(), true)
    );
    assert_eq!(
        one(".if 1\n.endif x\n"),
        (
            "[ALERT] parsing [t.cfg:2]: Unexpected argument 'x' for '.endif'.\n\
             [ALERT] parsing [t.cfg:2]: non-terminated '.if' block."
                .into(),
            true
        )
    );
    assert_eq!(
        one(".if 1 x\n.endif\n"),
        (
            "[ALERT] parsing [t.cfg:1]: unexpected character 'x' at the end of conditional expression '1 x' in '.if' at position 3:\n  .if 1 x\n        ^".into(),
            true
        )
    );
    assert_eq!(
        one(".if 0\n.elif foo(\n.endif\n"),
        (
            "[ALERT] parsing [t.cfg:2]: unparsable conditional expression 'foo(' in '.elif' at position 1:\n  .elif foo(\n        ^".into(),
            true
        )
    );
    assert_eq!(one(".foo\nbar\n"), ("[ALERT] parsing [t.cfg:1]: unknown directive '.foo'.".into(), false));
}

#[test]
fn an_unknown_directive_stops_its_file_only() {
    let mut diags = Diagnostics::default();
    let texts = [
        ("a.cfg".into(), ".foo\nglobal\n description a\n".into()),
        ("b.cfg".into(), "global\n description b\n".into()),
    ];
    let cfg = parser::parse(&texts, &mut diags);
    assert_eq!(cfg.global.description.as_deref(), Some("b"));
    assert!(!diags.aborted);
    let mut diags = Diagnostics::default();
    let texts = [("a.cfg".into(), ".if 1\n".into()), ("b.cfg".into(), "global\n description b\n".into())];
    let cfg = parser::parse(&texts, &mut diags);
    assert!(cfg.global.description.is_none() && diags.aborted, "an unterminated block stops the load");
}
