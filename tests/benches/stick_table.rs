//! Micro-benchmarks of the stick table: track + release on 1M keys, a
//! rate-counter update, `show table` of 100k entries.
//! `cargo bench --bench stick_table`

#[path = "harness.rs"]
mod harness;

use std::net::Ipv4Addr;
use strata::stick::dump;
use strata::stick::{FreqCtr, Key, KeyType, Store, Table, TableDef, Update};

fn table(size: u32) -> std::sync::Arc<Table> {
    Table::new(TableDef {
        name: "bench".into(),
        key_type: KeyType::Ip,
        size,
        expire: Some(600_000),
        nopurge: false,
        store: Store::parse("conn_cur,conn_cnt,http_req_rate(10s)").expect("store"),
        peers: None,
        snapshot: None,
    })
}

fn ip(i: u64) -> Key<'static> {
    Key::Ip(Ipv4Addr::from(0x0A00_0000 + (i as u32 % 1_000_000)))
}

fn main() {
    let now = 2_000_000_000u64;
    let t = table(1_000_000);
    for i in 0..1_000_000 {
        drop(t.track(ip(i), now));
    }
    println!("table: {} entries", t.used());
    harness::bench("track + release (1M keys, existing)", 1_000_000, |i| drop(t.track(ip(i * 7919), now)));
    harness::bench("track + http_req + release (1M keys)", 1_000_000, |i| {
        let tr = t.track(ip(i * 7919), now).expect("tracked");
        tr.inc_http_req(now);
    });
    harness::bench("update by key: http_req (1M keys)", 1_000_000, |i| {
        t.update(ip(i * 104_729), Update::HttpReq, now)
    });
    let mut f = FreqCtr::default();
    harness::bench("freq counter update (10s period)", 10_000_000, |i| f.update(now + i / 1000, 10_000, 1));
    let small = table(100_000);
    for i in 0..100_000 {
        drop(small.track(ip(i), now));
    }
    harness::bench("show table, 100k entries (whole dump)", 5, |_| {
        dump::show(&small, &[], now).map(|s| s.len())
    });
}
