//! ACL tests: matchers, flags, casts and pattern files.

use super::*;

#[test]
fn string_matchers() {
    let s = get("/static/img/Logo.PNG");
    assert!(anon("path -m str /static/img/Logo.PNG", &s));
    assert!(anon("path -m beg /static/", &s));
    assert!(anon("path_beg /static/", &s));
    assert!(!anon("path_beg /img", &s));
    assert!(anon("path_end .PNG", &s));
    assert!(!anon("path_end .png", &s));
    assert!(anon("path_end -i .png", &s));
    assert!(anon("path_sub img/Lo", &s));
    assert!(anon("path -m sub -i IMG/lo", &s));
    assert!(anon("path_len 20", &s));
    assert!(anon("path_len gt 10", &s));
    assert!(anon("path_reg ^/static/.*\\.PNG$", &s));
    assert!(!anon("path_reg \\.png$", &s));
    assert!(anon("path_reg -i \\.png$", &s));
    assert!(anon("path -m found", &s));
    assert!(anon("path_beg /nope /static", &s)); // any pattern
}

#[test]
fn dir_and_dom() {
    let s = get("/api/v1/users?x=/admin");
    assert!(anon("path_dir v1", &s));
    assert!(anon("path_dir /api/v1", &s));
    assert!(anon("path_dir /users/", &s));
    assert!(!anon("path_dir v", &s));
    assert!(!anon("path_dir pi", &s));
    assert!(anon("url_dir admin", &s)); // `?` delimits too
    let h = req("GET", "/", &[("Host", "www.Example.com:8080")]);
    assert!(!anon("hdr_dom(host) example.com", &h));
    assert!(anon("hdr_dom(host) -i example.com", &h));
    assert!(anon("hdr_dom(host) www", &h));
    assert!(anon("hdr_dom(host) 8080", &h));
    assert!(!anon("hdr_dom(host) ample.com", &h));
    assert!(anon("hdr_dom(host) .www.Example.", &h)); // own dots ignored
    assert!(!anon("hdr_dir(host) www", &h));
}

#[test]
fn header_suffix_forms() {
    let s = req("GET", "/", &[("Host", "api.example.com"), ("X-Len", "12"), ("X-Ip", "10.1.2.3")]);
    assert!(anon("hdr_beg(host) api.", &s));
    assert!(anon("hdr_end(host) .com", &s));
    assert!(anon("hdr_sub(host) example", &s));
    assert!(anon("hdr_reg(host) ^api\\.", &s));
    assert!(anon("hdr_len(host) 15", &s));
    assert!(anon("hdr_val(x-len) ge 10", &s));
    assert!(anon("hdr_ip(x-ip) 10.0.0.0/8", &s));
    assert!(anon("base_beg api.example.com/", &s));
    assert!(anon("url_beg / ", &s));
    assert!(anon("hdr(host) -m end .com", &s));
}

#[test]
fn explicit_match_overrides_suffix_and_last_wins() {
    let s = get("/abc");
    assert!(anon("path_beg -m str /abc", &s));
    assert!(!anon("path_beg -m str /ab", &s));
    assert!(anon("path -m beg -m end bc", &s));
}

#[test]
fn integer_operators_and_ranges() {
    let s = get("/"); // dst_port 8080
    for (expr, want) in [
        ("dst_port 8080", true),
        ("dst_port eq 8080", true),
        ("dst_port ne 8080", false),
        ("dst_port ne 80", true),
        ("dst_port gt 8080", false),
        ("dst_port gt 8079", true),
        ("dst_port ge 8080", true),
        ("dst_port lt 8080", false),
        ("dst_port lt 8081", true),
        ("dst_port le 8080", true),
        ("dst_port 8000:9000", true),
        ("dst_port 8000-9000", true),
        ("dst_port 8081:", false),
        ("dst_port 8080:", true),
        ("dst_port :8080", true),
        ("dst_port :8079", false),
        ("dst_port -- -8080", true), // `-M` is `:M`
        ("dst_port lt 10 20 8080", false),
        ("dst_port lt 10 20 9000", true),
        ("dst_port gt 10 20", true),
        ("dst_port lt 10 eq 8080", true),
        ("dst_port 80 443 8080", true),
    ] {
        assert_eq!(anon(expr, &s), want, "{expr}");
    }
}

#[test]
fn casts_between_types() {
    let s = get("/123abc");
    assert!(anon("src -m beg 192.168.", &s));
    assert!(anon("src -m str 192.168.1.10", &s));
    assert!(anon("dst_port -m str 8080", &s));
    assert!(anon("dst_port -m reg ^80", &s));
    assert!(anon("str(10.1.1.1) -m ip 10.0.0.0/8", &s));
    assert!(!anon("str(nope) -m ip 0.0.0.0/0", &s));
    assert!(anon("str(17abc) -m int 17", &s));
    assert!(!anon("str() -m int 0", &s));
    assert!(anon("int(1) -m bool", &s));
    assert!(!anon("int(0) -m bool", &s));
    assert!(anon("always_true -m int 1", &s));
}

#[test]
fn ipv4_and_ipv6_networks() {
    let mut s = get("/");
    assert!(anon("src 192.168.1.0/24 ::1", &s));
    assert!(anon("src 192.168.1.10/32", &s));
    assert!(anon("src 192.168.0.0/255.255.0.0", &s));
    assert!(anon("src 0.0.0.0/0", &s));
    assert!(!anon("src 192.168.2.0/24", &s));
    assert!(anon("src ::ffff:192.168.1.0/120", &s)); // v4 sample, v4-mapped pattern
    let localhost = |s: &Src| build(&[], "LOCALHOST").map(|c| c.eval(s)).ok();
    assert_eq!(localhost(&Src { src: "127.0.0.2:1".parse().ok(), ..get("/") }), Some(true));
    s.src = "[2001:db8::5]:1234".parse().ok();
    assert!(anon("src 2001:db8::/32", &s));
    assert!(!anon("src 2001:db9::/32", &s));
    assert!(anon("src 2001:db8::5", &s));
    assert!(!anon("src 10.0.0.0/8", &s));
    assert!(anon("src ::/0", &s));
    s.src = "[::ffff:10.1.2.3]:1".parse().ok();
    assert!(anon("src 10.0.0.0/8", &s)); // v4-mapped sample, v4 pattern
    s.src = "[::1]:1".parse().ok();
    assert_eq!(localhost(&s), Some(true));
}

#[test]
fn pattern_files() {
    let dir = std::env::temp_dir().join(format!("strata-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok();
    let file = dir.join("paths.lst");
    std::fs::write(&file, "# admin paths\n  /admin\n\n/login\r\n").ok();
    let f = file.display().to_string();
    assert!(anon(&format!("path_beg -f {f}"), &get("/admin/x")));
    assert!(anon(&format!("path -f {f}"), &get("/login")));
    assert!(anon(&format!("path -f {f} /other"), &get("/other")));
    assert!(!anon(&format!("path -f {f}"), &get("/# admin paths")));
    assert!(anon(&format!("path -i -f {f}"), &get("/LOGIN")));
    let bad = dir.join("ports.lst");
    std::fs::write(&bad, "# c\n  10 \n").ok();
    let b = bad.display().to_string();
    assert_eq!(
        acl_err(&format!("dst_port -f {b}")),
        format!("error detected while parsing ACL 'x' : '10 ' is not a number at line 2 of file '{b}'.")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn flags_and_end_of_flags() {
    let s = get("/-x");
    assert!(anon("path -- /-x", &s));
    assert!(anon("path -n /-x", &s));
    assert!(!anon("path /a -i /-X", &get("/-i")));
    assert!(anon("str(-i) /a -i", &get("/"))); // flags only before patterns
}

#[test]
fn acl_without_patterns_never_matches() {
    assert!(!anon("path_beg", &get("/")));
    assert!(!anon("path_beg -i", &get("/")));
}
