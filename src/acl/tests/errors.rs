//! ACL tests: declaration and condition errors (wording checked against `haproxy -c`, 2.6.12).

use super::*;

#[test]
fn acl_declaration_errors() {
    let p = "error detected while parsing ACL 'x' : ";
    for (expr, msg) in [
        ("foo", "unknown fetch method 'foo' in ACL expression 'foo'"),
        ("", "missing fetch method in ACL expression ''"),
        ("(host) /a", "missing fetch method in ACL expression '(host)'"),
        ("src 10.0.0.0/33", "'10.0.0.0/33' is not a valid IPv4 or IPv6 address"),
        ("src 300.1.1.1", "'300.1.1.1' is not a valid IPv4 or IPv6 address"),
        ("dst 1.2.3.4/", "'1.2.3.4/' is not a valid IPv4 or IPv6 address"),
        ("src_port abc", "'abc' is not a number"),
        ("dst_port 99999999999999999999", "'99999999999999999999' is not a number"),
        ("dst_port +5", "'+5' is not a number"),
        ("dst_port 5:3", "'5:3' is not a valid number range"),
        ("dst_port :", "':' is not a valid number range"),
        ("dst_port 1:2:3", "'1:2:3' is not a valid number range"),
        ("dst_port gt abc", "'abc' is neither a number nor a supported operator"),
        ("path -m foo /a", "unknown matching method 'foo' when parsing ACL expression"),
        ("path -m", "unknown matching method '' when parsing ACL expression"),
        ("path -f", "failed to open pattern file <>"),
        ("path -f /nonexistent/x", "failed to open pattern file </nonexistent/x>"),
        (
            "path -z /a",
            "'-z' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'",
        ),
        (
            "dst_port -5",
            "'-5' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'",
        ),
        ("hdr(host,abc) /a", "ACL keyword 'hdr' : failed to parse 'abc' as type 'integer' at position 2"),
        ("hdr(host /a", "ACL keyword 'hdr' : expected ')'"),
        ("hdr(host)x /a", "ACL keyword 'hdr' : missing comma after fetch keyword"),
        ("path_beg(x) /a", "ACL keyword 'path_beg' : expected ')' before 'x)'"),
        (
            "req.hdr(host,abc) /a",
            "fetch method 'req.hdr' : failed to parse 'abc' as type 'integer' at position 2 in ACL expression 'req.hdr(host,abc)'",
        ),
        (
            "req.hdr(host,1,2) /a",
            "fetch method 'req.hdr' : expected ')' before ',2)' in ACL expression 'req.hdr(host,1,2)'",
        ),
        (
            "int(abc) 1",
            "fetch method 'int' : failed to parse 'abc' as type 'integer' at position 1 in ACL expression 'int(abc)'",
        ),
        (
            "int 1",
            "fetch method 'int' : expected type 'integer' at position 1, but got nothing in ACL expression 'int'",
        ),
        ("fe_name(x) a", "fetch method 'fe_name' : expected ')' before 'x)' in ACL expression 'fe_name(x)'"),
        ("path,nosuchconv /a", "ACL keyword 'path' : unknown converter 'nosuchconv'"),
    ] {
        assert_eq!(acl_err(expr), format!("{p}{msg}."), "{expr}");
    }
    let e = acl_err("path_reg (");
    assert!(e.starts_with("error detected while parsing ACL 'x' : regex '(' is invalid (error="), "{e}");
}

#[test]
fn acl_name_errors() {
    let mut set = AclSet::new();
    let e = set.add("x!", &words("path /a"), &loc()).err().map(|e| e.to_string());
    assert_eq!(e.as_deref(), Some("character '!' is not permitted in acl name 'x!'"));
    assert!(set.add("x.y-z_:a", &words("path /a"), &loc()).is_ok());
    assert!(set.add("", &words("path /a"), &loc()).is_err());
}

#[test]
fn condition_errors() {
    let err = |acls: &[&str], c: &str| build(acls, c).err().map(|e| e.to_string());
    assert_eq!(err(&[], "y").as_deref(), Some("no such ACL : 'y'"));
    assert_eq!(err(&[], "TRUE }").as_deref(), Some("no such ACL : '}'"));
    assert_eq!(err(&[], "{ path /a").as_deref(), Some("missing closing '}' in condition"));
    assert_eq!(err(&[], "{ }").as_deref(), Some("missing fetch method in ACL expression ''"));
    assert_eq!(err(&[], "{ foo }").as_deref(), Some("unknown fetch method 'foo' in ACL expression 'foo'"));
    assert_eq!(err(&["a path /a"], "a || b").as_deref(), Some("no such ACL : 'b'"));
    let e = build(&[], "nope").err();
    assert_eq!(e.as_ref().map(|e| e.loc().line), Some(8));
}
