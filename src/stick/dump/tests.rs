//! Tests of the table commands: byte-exact dumps (golden scenarios S1, S5,
//! S7 and the CLI captures), filters, errors, `set` and `clear`.

use super::*;
use crate::stick::data::Store;
use crate::stick::key::{Key, KeyType};
use crate::stick::table::TableDef;
use crate::stick::table::tests::ip;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

fn mk(name: &str, ty: KeyType, size: u32, expire: Option<u32>, store: &str) -> Arc<Table> {
    Table::new(TableDef {
        name: name.into(),
        key_type: ty,
        size,
        expire,
        nopurge: false,
        store: Store::parse(store).unwrap(),
        peers: None,
        snapshot: None,
    })
}

/// A dump with every `0x…:` address replaced by `ADDR:`.
fn masked(text: &str) -> String {
    text.lines()
        .map(|l| match l.split_once(": key=") {
            Some((addr, rest)) if addr.starts_with("0x") => format!("ADDR: key={rest}\n"),
            _ => format!("{l}\n"),
        })
        .collect()
}

/// Golden lines are pasted verbatim from `observed.txt`; mask them too.
fn golden(lines: &[&str]) -> String {
    masked(&lines.join("\n"))
}

fn err(r: Result<impl fmt::Debug, CliError>) -> String {
    r.unwrap_err().to_string()
}

const T0: u64 = 1_000_000;

#[test]
fn stick_dump_s1_session_tracker_byte_exact() {
    let t = mk(
        "st_src",
        KeyType::Ip,
        100,
        Some(60_000),
        "conn_cur,conn_cnt,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),\
         http_err_cnt,http_err_rate(10s),bytes_in_cnt,bytes_out_cnt,bytes_in_rate(10s),bytes_out_rate(10s),\
         gpc0,gpc0_rate(10s),gpt0",
    );
    assert_eq!(show(&t, &[], T0).unwrap(), "# table: st_src, type: ip, size:100, used:0\n");
    let sc0 = t.track(ip(1), T0).unwrap();
    sc0.inc_sess(T0);
    assert_eq!(
        masked(&show(&t, &[], T0 + 301).unwrap()),
        golden(&[
            "# table: st_src, type: ip, size:100, used:1",
            "0x55d608734540: key=127.0.0.1 use=1 exp=59699 gpt0=0 gpc0=0 gpc0_rate(10000)=0 conn_cnt=1 conn_rate(10000)=1 conn_cur=1 sess_cnt=1 sess_rate(10000)=1 http_req_cnt=0 http_req_rate(10000)=0 http_err_cnt=0 http_err_rate(10000)=0 bytes_in_cnt=0 bytes_in_rate(10000)=0 bytes_out_cnt=0 bytes_out_rate(10000)=0",
        ])
    );
    for (i, at) in [(1, T0 + 400), (2, T0 + 800)] {
        sc0.inc_http_req(at);
        sc0.add_bytes_in(41, at);
        sc0.add_bytes_out(139, at);
        assert_eq!(sc0.get(DataType::HttpReqCnt, at), Some(i));
    }
    sc0.inc_http_req(T0 + 1000);
    sc0.add_bytes_in(51, T0 + 1100);
    sc0.add_bytes_out(139, T0 + 1100);
    let after3 = golden(&[
        "# table: st_src, type: ip, size:100, used:1",
        "0x55d608734540: key=127.0.0.1 use=1 exp=59398 gpt0=0 gpc0=0 gpc0_rate(10000)=0 conn_cnt=1 conn_rate(10000)=1 conn_cur=1 sess_cnt=1 sess_rate(10000)=1 http_req_cnt=3 http_req_rate(10000)=3 http_err_cnt=0 http_err_rate(10000)=0 bytes_in_cnt=133 bytes_in_rate(10000)=133 bytes_out_cnt=417 bytes_out_rate(10000)=417",
    ]);
    assert_eq!(masked(&show(&t, &[], T0 + 1702).unwrap()), after3);
    assert_eq!(masked(&show(&t, &["key", "127.0.0.1"], T0 + 1702).unwrap()), after3);
    t.set_now(T0 + 2000);
    drop(sc0);
    assert_eq!(
        masked(&show(&t, &[], T0 + 2501).unwrap()),
        golden(&[
            "# table: st_src, type: ip, size:100, used:1",
            "0x55d608734540: key=127.0.0.1 use=0 exp=59499 gpt0=0 gpc0=0 gpc0_rate(10000)=0 conn_cnt=1 conn_rate(10000)=1 conn_cur=0 sess_cnt=1 sess_rate(10000)=1 http_req_cnt=3 http_req_rate(10000)=3 http_err_cnt=0 http_err_rate(10000)=0 bytes_in_cnt=133 bytes_in_rate(10000)=133 bytes_out_cnt=417 bytes_out_rate(10000)=417",
        ])
    );
}

#[test]
fn stick_dump_address_is_a_pointer() {
    let t = mk("t", KeyType::Ip, 10, None, "gpc0");
    t.update(ip(1), crate::stick::Update::IncGpc0, 0);
    let text = show(&t, &[], 0).unwrap();
    let line = text.lines().nth(1).unwrap();
    let (addr, rest) = line.split_once(": ").unwrap();
    assert!(addr.starts_with("0x") && addr.len() > 3 && addr[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(rest, "key=127.0.0.1 use=0 exp=0 gpc0=1");
}

/// The `CLI` golden scenario's `set table` commands and the dumps after.
#[test]
fn stick_dump_cli_set_and_show_byte_exact() {
    let t_ip =
        mk("t_ip", KeyType::Ip, 100, Some(60_000), "conn_cur,conn_cnt,http_req_cnt,gpc0,conn_rate(10s)");
    let tr = t_ip.track(ip(1), T0).unwrap();
    for at in [T0 + 36, T0 + 56, T0 + 76] {
        tr.inc_http_req(at);
    }
    let early = T0 + 997;
    assert_eq!(set(&t_ip, &["key", "10.0.0.1", "data.gpc0", "5", "data.conn_cnt", "7"], early), Ok(()));
    assert_eq!(set(&t_ip, &["key", "10.0.0.2"], early), Ok(()));
    assert_eq!(set(&t_ip, &["key", "10.0.0.3", "data.conn_rate", "50"], early), Ok(()));
    let now = T0 + 999;
    assert_eq!(err(set(&t_ip, &["key", "10.0.0.4", "data.nosuch", "1"], now)), "Unknown data type");
    assert_eq!(
        err(set(&t_ip, &["key", "10.0.0.4", "data.gpt0", "1"], now)),
        "Data type not stored in this table"
    );
    assert_eq!(
        err(set(&t_ip, &["key", "10.0.0.4", "data.gpc0", "abc"], now)),
        "Require a valid integer value to store"
    );
    assert_eq!(
        err(set(&t_ip, &["key", "10.0.0.4", "gpc0", "1"], now)),
        "\"data.<type>\" followed by a value expected"
    );
    assert_eq!(
        err(set(&t_ip, &["data.gpc0", "1"], now)),
        "content-based lookup is only supported with the \"show\" and \"clear\" actions"
    );
    assert_eq!(
        err(set(&t_ip, &["foo"], now)),
        "Required arguments: <table> key <key> [data.<store_data_type> <value>]*"
    );
    assert_eq!(
        err(set(&t_ip, &[], now)),
        "Required arguments: <table> key <key> [data.<store_data_type> <value>]*"
    );
    assert_eq!(err(set(&t_ip, &["key"], now)), "Key value expected");
    assert_eq!(err(set(&t_ip, &["key", "not-an-ip", "data.gpc0", "1"], now)), "Invalid key"); // strata is strict
    // a failing set with values before the error keeps them
    assert_eq!(
        err(set(&t_ip, &["key", "10.0.0.5", "data.gpc0", "3", "data.gpc0"], now)),
        "Require a valid integer value to store"
    );
    assert_eq!(t_ip.get(Key::Ip(Ipv4Addr::new(10, 0, 0, 5)), DataType::Gpc0, now), Some(3));
    assert_eq!(clear(&t_ip, &["key", "10.0.0.5"], now), Ok(1));

    assert_eq!(
        masked(&show(&t_ip, &[], T0 + 1002).unwrap()),
        golden(&[
            "# table: t_ip, type: ip, size:100, used:5",
            "0x55ae4f760960: key=10.0.0.1 use=0 exp=59995 gpc0=5 conn_cnt=7 conn_rate(10000)=0 conn_cur=0 http_req_cnt=0",
            "0x7f98d8046c80: key=10.0.0.2 use=0 exp=59995 gpc0=0 conn_cnt=0 conn_rate(10000)=0 conn_cur=0 http_req_cnt=0",
            "0x7f98d8046680: key=10.0.0.3 use=0 exp=59995 gpc0=0 conn_cnt=0 conn_rate(10000)=50 conn_cur=0 http_req_cnt=0",
            "0x7f98d8046f00: key=10.0.0.4 use=0 exp=59997 gpc0=0 conn_cnt=0 conn_rate(10000)=0 conn_cur=0 http_req_cnt=0",
            "0x55ae4f75b340: key=127.0.0.1 use=1 exp=59074 gpc0=0 conn_cnt=1 conn_rate(10000)=1 conn_cur=1 http_req_cnt=3",
        ])
    );

    let t_ip6 = mk("t_ip6", KeyType::Ipv6, 100, Some(60_000), "conn_cnt");
    drop(t_ip6.track(Key::Ip(Ipv4Addr::LOCALHOST), T0 + 383));
    let now = T0 + 1000;
    assert_eq!(set(&t_ip6, &["key", "::1", "data.conn_cnt", "3"], now), Ok(()));
    assert_eq!(err(set(&t_ip6, &["key", "nonsense", "data.conn_cnt", "3"], now)), "Invalid key");
    assert_eq!(
        masked(&show(&t_ip6, &[], now + 2).unwrap()),
        golden(&[
            "# table: t_ip6, type: ipv6, size:100, used:2",
            "0x7f98d8047438: key=::1 use=0 exp=59998 conn_cnt=3",
            "0x55ae4f760488: key=::ffff:127.0.0.1 use=0 exp=59381 conn_cnt=1",
        ])
    );

    let t_int = mk("t_int", KeyType::Integer, 100, Some(60_000), "http_req_cnt");
    assert_eq!(set(&t_int, &["key", "42", "data.http_req_cnt", "1"], T0 - 532), Ok(()));
    assert_eq!(set(&t_int, &["key", "7", "data.http_req_cnt", "9"], now), Ok(()));
    assert_eq!(err(set(&t_int, &["key", "-1", "data.http_req_cnt", "9"], now)), "Invalid key");
    assert_eq!(
        masked(&show(&t_int, &[], now + 2).unwrap()),
        golden(&[
            "# table: t_int, type: integer, size:100, used:2",
            "0x7f98d80472b8: key=7 use=0 exp=59998 http_req_cnt=9",
            "0x55ae4f75b4a8: key=42 use=0 exp=58466 http_req_cnt=1",
        ])
    );

    let t_str = mk("t_str", KeyType::String { len: 16 }, 100, Some(60_000), "http_req_cnt,gpc0");
    for (k, at) in [("bob", T0 - 229), ("alice", T0 - 532), ("a\tb", T0 + 75)] {
        t_str.update(Key::Str(k.as_bytes()), crate::stick::Update::HttpReq, at);
    }
    assert_eq!(set(&t_str, &["key", "carol", "data.gpc0", "-1"], now), Ok(()));
    assert_eq!(
        masked(&show(&t_str, &[], now + 2).unwrap()),
        golden(&[
            "# table: t_str, type: string, size:100, used:4",
            "0x55ae4f75bf98: key=a\\tb use=0 exp=59073 gpc0=0 http_req_cnt=1",
            "0x55ae4f75b988: key=alice use=0 exp=58466 gpc0=0 http_req_cnt=1",
            "0x55ae4f75bec8: key=bob use=0 exp=58769 gpc0=0 http_req_cnt=1",
            "0x7f98d8047738: key=carol use=0 exp=59998 gpc0=4294967295 http_req_cnt=0",
        ])
    );
    assert_eq!(
        masked(&show(&t_str, &["key", "alice"], now + 2).unwrap()),
        golden(&[
            "# table: t_str, type: string, size:100, used:4",
            "0x55ae4f75b988: key=alice use=0 exp=58466 gpc0=0 http_req_cnt=1",
        ])
    );

    let t_bin = mk("t_bin", KeyType::Binary { len: 8 }, 100, Some(60_000), "http_req_cnt");
    t_bin.update(Key::Bin(b"ABC"), crate::stick::Update::HttpReq, T0 + 394);
    assert_eq!(
        masked(&show(&t_bin, &[], now + 2).unwrap()),
        golden(&[
            "# table: t_bin, type: binary, size:100, used:1",
            "0x55ae4f760148: key=4142430000000000 use=0 exp=59392 http_req_cnt=1",
        ])
    );
    assert_eq!(
        err(show(&t_bin, &["key", "414243"], now)),
        "Showing keys from tables of type other than ip, ipv6, string and integer is not supported"
    );
    assert_eq!(
        err(set(&t_bin, &["key", "00", "data.http_req_cnt", "1"], now)),
        "Inserting keys into tables of type other than ip, ipv6, string and integer is not supported"
    );
    assert_eq!(
        err(clear(&t_bin, &["key", "00"], now)),
        "Removing keys from tables of type other than ip, ipv6, string and integer is not supported"
    );

    let t_noexp = mk("t_noexp", KeyType::Ip, 10, None, "gpc0,gpt0,server_id");
    assert_eq!(
        set(&t_noexp, &["key", "10.1.1.1", "data.gpc0", "1", "data.gpt0", "2", "data.server_id", "3"], now),
        Ok(())
    );
    assert_eq!(
        masked(&show(&t_noexp, &[], now + 2).unwrap()),
        golden(&[
            "# table: t_noexp, type: ip, size:10, used:1",
            "0x7f98d8047670: key=10.1.1.1 use=0 exp=0 server_id=3 gpt0=2 gpc0=1",
        ])
    );
    drop(tr);
}

#[test]
fn stick_dump_filters_and_errors() {
    let t = mk("t_ip", KeyType::Ip, 100, Some(60_000), "conn_cur,conn_cnt,http_req_cnt,gpc0,conn_rate(10s)");
    let tr = t.track(ip(1), T0).unwrap();
    let head = "# table: t_ip, type: ip, size:100, used:1\n";
    assert_eq!(show(&t, &["data.conn_cnt", "gt", "5"], T0).unwrap(), head);
    assert_eq!(show(&t, &["data.conn_cnt", "gt", "0"], T0).unwrap().lines().count(), 2);
    assert_eq!(
        show(&t, &["data.conn_rate", "eq", "1", "data.conn_cur", "ge", "1"], T0).unwrap().lines().count(),
        2
    );
    assert_eq!(show(&t, &["data.conn_cnt", "ne", "-1"], T0).unwrap().lines().count(), 2);
    assert_eq!(show(&t, &["key", "10.9.9.9"], T0).unwrap(), "");
    assert_eq!(err(show(&t, &["key"], T0)), "Key value expected");
    assert_eq!(
        err(show(&t, &["foo"], T0)),
        "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>"
    );
    assert_eq!(err(show(&t, &["data.nosuch", "gt", "0"], T0)), "Filter entry #1: Unknown data type");
    assert_eq!(
        err(show(&t, &["data.http_err_cnt", "gt", "0"], T0)),
        "Filter entry #1: Data type not stored in this table"
    );
    assert_eq!(
        err(show(&t, &["data.conn_cnt", "xx", "0"], T0)),
        "Filter entry #1: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\""
    );
    assert_eq!(
        err(show(&t, &["data.conn_cnt", "gt", "abc"], T0)),
        "Filter entry #1: Require a valid integer value to compare against"
    );
    assert_eq!(
        err(show(&t, &["data.conn_cnt", "gt"], T0)),
        "Filter entry #1: Require a valid integer value to compare against"
    );
    assert_eq!(
        err(show(&t, &["data.conn_cnt", "gt", "0", "data.x", "gt", "0"], T0)),
        "Filter entry #2: Unknown data type"
    );
    let five: Vec<&str> = ["data.conn_cnt", "ge", "0"].repeat(5);
    assert_eq!(err(show(&t, &five, T0)), "Detected extra data in filter, 16th word of input, after '0'");
    assert_eq!(parse_filters(&t, &five[..12]).unwrap().len(), 4);
    assert_eq!(
        err(clear(&t, &["foo"], T0)),
        "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>"
    );
    let f = parse_filters(&t, &["data.conn_cnt", "eq", "1"]).unwrap();
    assert_eq!(matching_keys(&t, &f, T0).iter().map(|k| k.to_string()).collect::<Vec<_>>(), ["127.0.0.1"]);
    assert_eq!(CliError::NoSuchTable.to_string(), "No such table");
    assert_eq!(CliError::AllocFailed.to_string(), "Unable to allocate a new entry");
    drop(tr);
}

/// `clear table`: in-use entries are refused or kept; strata removes
/// every other entry (no HAProxy 2.6 "neighbour of an in-use entry" bug).
#[test]
fn stick_dump_clear() {
    let t = mk("t_ip", KeyType::Ip, 100, Some(60_000), "conn_cur,conn_cnt,http_req_cnt,gpc0,conn_rate(10s)");
    let tr = t.track(ip(1), T0).unwrap();
    assert_eq!(err(clear(&t, &["key", "127.0.0.1"], T0)), "Entry currently in use, cannot remove");
    for k in ["10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.9", "127.0.0.0", "200.0.0.1"] {
        set(&t, &["key", k, "data.gpc0", "1"], T0).unwrap();
    }
    set(&t, &["key", "10.0.0.3", "data.conn_rate", "50"], T0).unwrap();
    assert_eq!(clear(&t, &["key", "10.200.0.1"], T0), Ok(0));
    assert_eq!(clear(&t, &["key", "10.0.0.9"], T0), Ok(1));
    assert_eq!(clear(&t, &["data.conn_rate", "gt", "0"], T0), Ok(1)); // 10.0.0.3, not the in-use one
    assert_eq!(t.used(), 6);
    assert!(show(&t, &["key", "127.0.0.1"], T0).unwrap().contains("use=1"));
    assert_eq!(clear(&t, &[], T0), Ok(5));
    assert_eq!(
        masked(&show(&t, &[], T0).unwrap()),
        "# table: t_ip, type: ip, size:100, used:1\n\
         ADDR: key=127.0.0.1 use=1 exp=60000 gpc0=0 conn_cnt=1 conn_rate(10000)=1 conn_cur=1 http_req_cnt=0\n"
    );
    drop(tr);
    assert_eq!(clear(&t, &[], T0), Ok(1));
    assert_eq!(t.used(), 0);
}

/// S5: table size 2, three addresses; parts A, B and C with simulated time.
#[test]
fn stick_dump_s5_full_table_eviction_and_nopurge() {
    let small = mk("small", KeyType::Ip, 2, Some(60_000), "conn_cur,conn_cnt,http_req_cnt");
    // part A: all three keys held open
    let c1 = small.track(ip(1), T0).unwrap();
    let c2 = small.track(ip(2), T0 + 300).unwrap();
    assert!(small.track(ip(3), T0 + 600).is_none(), "third key refused: both entries in use");
    c1.inc_http_req(T0 + 900);
    c2.inc_http_req(T0 + 1202);
    assert_eq!(
        masked(&show(&small, &[], T0 + 2107).unwrap()),
        golden(&[
            "# table: small, type: ip, size:2, used:2",
            "0x7fccdc0399d0: key=127.0.0.1 use=1 exp=58793 conn_cnt=1 conn_cur=1 http_req_cnt=1",
            "0x7fccdc039dc0: key=127.0.0.2 use=1 exp=59095 conn_cnt=1 conn_cur=1 http_req_cnt=1",
        ])
    );

    // part B: release 127.0.0.1, then new connections from 127.0.0.3
    small.set_now(T0 + 2108);
    drop(c1);
    assert_eq!(
        masked(&show(&small, &[], T0 + 2609).unwrap()),
        golden(&[
            "# table: small, type: ip, size:2, used:2",
            "0x7fccdc0399d0: key=127.0.0.1 use=0 exp=59499 conn_cnt=1 conn_cur=0 http_req_cnt=1",
            "0x7fccdc039dc0: key=127.0.0.2 use=1 exp=58593 conn_cnt=1 conn_cur=1 http_req_cnt=1",
        ])
    );
    // #1: the released entry was refreshed since it was queued: the
    // walk only re-queues it, then gives up (2 nodes visited at most)
    assert!(small.track(ip(3), T0 + 3000).is_none(), "first attempt refused (entry re-queued)");
    assert_eq!(small.used(), 2);
    assert_eq!(small.trackers(ip(1)), Some(0));
    // #2: now queued at its own date, it is evicted
    let n2 = small.track(ip(3), T0 + 3500).unwrap();
    n2.inc_http_req(T0 + 3500);
    assert_eq!(small.trackers(ip(1)), None);
    // #3: same key, second tracker
    let n3 = small.track(ip(3), T0 + 4726).unwrap();
    n3.inc_http_req(T0 + 4726);
    assert_eq!(
        masked(&show(&small, &[], T0 + 5328).unwrap()),
        golden(&[
            "# table: small, type: ip, size:2, used:2",
            "0x7fccdc039dc0: key=127.0.0.2 use=1 exp=55874 conn_cnt=1 conn_cur=1 http_req_cnt=1",
            "0x7fccdc0399d0: key=127.0.0.3 use=2 exp=59398 conn_cnt=2 conn_cur=2 http_req_cnt=2",
        ])
    );
    small.set_now(T0 + 6000);
    drop((c2, n2, n3));
    assert_eq!(
        masked(&show(&small, &[], T0 + 6501).unwrap()),
        golden(&[
            "# table: small, type: ip, size:2, used:2",
            "0x7fccdc039dc0: key=127.0.0.2 use=0 exp=59499 conn_cnt=1 conn_cur=0 http_req_cnt=1",
            "0x7fccdc0399d0: key=127.0.0.3 use=0 exp=59499 conn_cnt=2 conn_cur=0 http_req_cnt=2",
        ])
    );

    // part C: nopurge refuses the third key even with nothing in use
    let np = Table::new(TableDef {
        name: "small_nopurge".into(),
        key_type: KeyType::Ip,
        size: 2,
        expire: Some(60_000),
        nopurge: true,
        store: Store::parse("conn_cur,conn_cnt,http_req_cnt").unwrap(),
        peers: None,
        snapshot: None,
    });
    for (k, at) in [(1u8, T0), (2, T0 + 603), (3, T0 + 1206)] {
        let tr = np.track(ip(k), at);
        assert_eq!(tr.is_some(), k != 3, "key 127.0.0.{k}");
        if let Some(tr) = tr {
            tr.inc_http_req(at);
            np.set_now(at);
        }
    }
    assert_eq!(
        masked(&show(&np, &[], T0 + 1506).unwrap()),
        golden(&[
            "# table: small_nopurge, type: ip, size:2, used:2",
            "0x5563b6bcc2e0: key=127.0.0.1 use=0 exp=58494 conn_cnt=1 conn_cur=0 http_req_cnt=1",
            "0x7fccdc046f70: key=127.0.0.2 use=0 exp=59097 conn_cnt=1 conn_cur=0 http_req_cnt=1",
        ])
    );
}

/// S7: expiry versus references, simulated.
#[test]
fn stick_dump_s7_expiry_versus_references() {
    let t_exp = mk("t_exp", KeyType::Ip, 100, Some(2000), "conn_cur,conn_cnt,http_req_cnt");
    let t_nocur = mk("t_exp_nocur", KeyType::Ip, 100, Some(2000), "conn_cnt");
    let t_noexp = mk("t_noexp", KeyType::Ip, 100, None, "conn_cur,conn_cnt,http_req_cnt");
    let a = t_exp.track(ip(1), T0).unwrap();
    let b = t_nocur.track(ip(1), T0).unwrap();
    {
        let c = t_noexp.track(ip(1), T0).unwrap();
        c.inc_http_req(T0);
    }
    a.inc_http_req(T0);
    let line = |t: &Table, now| masked(&show(t, &[], now).unwrap());
    assert_eq!(
        line(&t_exp, T0 + 605),
        golden(&[
            "# table: t_exp, type: ip, size:100, used:1",
            "0x558d535cfe20: key=127.0.0.1 use=1 exp=1395 conn_cnt=1 conn_cur=1 http_req_cnt=1",
        ])
    );
    // 3 s later, past the 2 s expire: referenced entries stay, exp=0
    for t in [&t_exp, &t_nocur, &t_noexp] {
        assert_eq!(t.purge(T0 + 3600), 0);
    }
    assert_eq!(
        line(&t_exp, T0 + 3600),
        golden(&[
            "# table: t_exp, type: ip, size:100, used:1",
            "0x558d535cfe20: key=127.0.0.1 use=1 exp=0 conn_cnt=1 conn_cur=1 http_req_cnt=1",
        ])
    );
    assert_eq!(
        line(&t_nocur, T0 + 3600),
        golden(&[
            "# table: t_exp_nocur, type: ip, size:100, used:1",
            "0x558d535cfee8: key=127.0.0.1 use=1 exp=0 conn_cnt=1"
        ])
    );
    assert_eq!(
        line(&t_noexp, T0 + 3600),
        golden(&[
            "# table: t_noexp, type: ip, size:100, used:1",
            "0x558d535d0850: key=127.0.0.1 use=0 exp=0 conn_cnt=1 conn_cur=0 http_req_cnt=1",
        ])
    );
    // close: the conn_cur decrement refreshes t_exp; t_exp_nocur is
    // past its expiry and unreferenced: deleted on release
    for t in [&t_exp, &t_nocur] {
        t.set_now(T0 + 3600);
    }
    drop((a, b));
    assert_eq!(
        line(&t_exp, T0 + 3901),
        golden(&[
            "# table: t_exp, type: ip, size:100, used:1",
            "0x558d535cfe20: key=127.0.0.1 use=0 exp=1699 conn_cnt=1 conn_cur=0 http_req_cnt=1",
        ])
    );
    assert_eq!(line(&t_nocur, T0 + 3901), "# table: t_exp_nocur, type: ip, size:100, used:0\n");
    // a new short connection, then 2.5 s later the purge removes it
    {
        let a = t_exp.track(ip(1), T0 + 3904).unwrap();
        a.inc_http_req(T0 + 3904);
    }
    assert_eq!(t_exp.purge(T0 + 4500), 0);
    assert!(line(&t_exp, T0 + 4500).contains("conn_cnt=2 conn_cur=0 http_req_cnt=2"));
    assert_eq!(t_exp.purge(T0 + 7000), 1);
    assert_eq!(line(&t_exp, T0 + 7000), "# table: t_exp, type: ip, size:100, used:0\n");
}

/// A table without `expire` evicts the least recently touched entry.
#[test]
fn stick_dump_noexp_table_evicts_oldest_touch() {
    let t = mk("t", KeyType::Ip, 2, None, "gpc0");
    t.update(ip(1), crate::stick::Update::IncGpc0, 10);
    t.update(ip(2), crate::stick::Update::IncGpc0, 20);
    t.update(ip(1), crate::stick::Update::IncGpc0, 30); // ip1 touched later than ip2
    let tr = t.track(ip(3), 40).unwrap();
    let keys: Vec<String> = matching_keys(&t, &[], 40).iter().map(|k| k.to_string()).collect();
    // first walk: ip1 re-queued (touched), ip2 evicted
    assert_eq!(keys, ["127.0.0.1", "127.0.0.3"]);
    drop(tr);
}
