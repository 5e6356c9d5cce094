//! A peer connection fed any bytes never panics: after a good handshake
//! (or, when the first byte is odd, straight into the handshake), input
//! arrives in two pieces, every message is treated against tables of
//! each key type, and whatever the connection writes back is produced.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::peers::proto::{Ctx, Proto};
use strata::peers::state::{Peer, Section, Shared};
use strata::stick::table::TableDef;
use strata::stick::{KeyType, Store, Table};

fn table(name: &str, key_type: KeyType, store: &str) -> Shared {
    let t = Table::new(TableDef {
        name: name.into(),
        key_type,
        size: 64,
        expire: Some(60_000),
        nopurge: false,
        store: Store::parse(store).expect("store"),
        peers: Some("p".into()),
        snapshot: None,
    });
    Shared { table: t, name: name.into() }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else { return };
    let tables = vec![
        table("t_ip", KeyType::Ip, "conn_cur,conn_cnt,gpc0,http_req_rate(10s),server_id,server_key"),
        table("t_str", KeyType::String { len: 16 }, "gpc0,bytes_in_cnt"),
        table("t_int", KeyType::Integer, "gpt0"),
        table("t_bin", KeyType::Binary { len: 8 }, "gpc1,gpc1_rate(1s)"),
    ];
    let n = tables.len();
    let mut s = Section {
        name: "p".into(),
        flags: 0,
        resync_timeout: None,
        last_change: std::time::SystemTime::UNIX_EPOCH,
        task_calls: 0,
        peers: vec![Peer::new("a".into(), None, true, n), Peer::new("friend".into(), None, false, n)],
        local: 0,
        tables,
        listen: None,
    };
    let ctx = Ctx { local_name: "a", pid: 1, stopping: first & 2 != 0, now: 1_000_000, rand: 7, link: 1 };
    let mut p = Proto::accepted();
    if first & 1 == 0 {
        p.input.extend_from_slice(b"HAProxyS 2.1\na\nfriend 1 1\n");
    }
    let cut = (usize::from(first) * 37) % (input.len() + 1);
    for part in [&input[..cut], &input[cut..]] {
        p.input.extend_from_slice(part);
        p.on_input(&mut s, &ctx);
        p.produce(&mut s, &ctx);
        p.out.clear();
    }
    // the tables are still consistent enough to be walked
    for sh in &s.tables {
        let mut cur = strata::stick::table::ScanCursor::default();
        sh.table.scan(&mut cur, usize::MAX, |_| {});
        assert!(cur.done());
    }
});
