//! ACL tests: sharing between workers and random input that must never panic.

use super::*;

#[test]
fn conditions_are_shareable_between_workers() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Condition>();
    shareable::<AclSet>();
}

/// xorshift64*: a tiny seeded PRNG; the seed is printed so a failure replays with SEED=.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[test]
fn random_words_never_panic() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_AC1D_u64);
    println!("seed {seed}");
    let vocab = [
        "path",
        "path_beg",
        "hdr(host)",
        "hdr(x,-1)",
        "hdr(",
        "hdr(a,b,c)",
        "req.hdr(x,0)",
        "url_param(a)",
        "src",
        "dst_port",
        "status",
        "nbsrv",
        "int(5)",
        "str(x)",
        "base_dom",
        "query",
        "hdr_cnt",
        "always_true",
        "-i",
        "-m",
        "-f",
        "-n",
        "--",
        "-",
        "reg",
        "beg",
        "dir",
        "dom",
        "len",
        "found",
        "bool",
        "int",
        "ip",
        "str",
        "eq",
        "ne",
        "gt",
        "lt",
        "ge",
        "le",
        "1",
        "-1",
        "0:",
        ":0",
        "5:3",
        "9223372036854775807",
        "-9223372036854775808",
        "10.0.0.0/8",
        "::/0",
        "1.2.3.4/99",
        "(",
        ")",
        "[",
        "a{99999}",
        "\\",
        "*",
        "?",
        "^$",
        "/",
        "",
        "{",
        "}",
        "!",
        "!!",
        "||",
        "or",
        "a",
        "b",
        "TRUE",
        "METH_GET",
        "é",
        "\u{0}",
    ];
    let uris = ["/", "", "*", "?", "http://", "http://h", "/a?b=c&&=;", "x://y/z?", "/\u{ff}"];
    let mut rng = Rng(seed);
    for _ in 0..20_000 {
        let n = (rng.next() % 7) as usize;
        let acl_words: Vec<String> = (0..n).map(|_| rng.pick(&vocab).to_owned()).collect();
        let mut set = AclSet::new();
        let _ = set.add("a", &acl_words, &loc());
        let _ = set.add(rng.pick(&vocab), &acl_words, &loc());
        let m = (rng.next() % 8) as usize;
        let cw: Vec<String> = (0..m).map(|_| rng.pick(&vocab).to_owned()).collect();
        let c = Cond { negate: rng.next().is_multiple_of(2), words: cw, loc: loc() };
        if let Ok(c) = compile(&c, &set) {
            let uri = rng.pick(&uris);
            let s = req("GET", uri, &[("host", rng.pick(&uris)), ("x", ",,\"a,")]);
            let _ = c.eval(&s);
        }
    }
}
