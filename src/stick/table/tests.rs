//! Tests of the table: counting by key, expiry and purge, references,
//! slot reuse and the expiry queue. The helpers are shared with `dump`.

use super::*;
use std::net::Ipv4Addr;

pub(crate) fn table(size: u32, expire: Option<u32>, nopurge: bool, store: &str) -> Arc<Table> {
    Table::new(TableDef {
        name: "t".into(),
        key_type: KeyType::Ip,
        size,
        expire,
        nopurge,
        store: Store::parse(store).unwrap(),
        peers: None,
        snapshot: None,
    })
}

pub(crate) fn ip(last: u8) -> Key<'static> {
    Key::Ip(Ipv4Addr::new(127, 0, 0, last))
}

/// `key=.. use=.. exp=.. data` of one entry, without the address.
pub(crate) fn line(t: &Table, key: Key<'_>, now: u64) -> Option<String> {
    let sk = t.key_type().normalize(key)?;
    t.inspect(&sk, |e| {
        let mut s = String::new();
        e.fmt_line(now, &mut s);
        s.split_once(": ").map(|(_, rest)| rest.to_owned()).unwrap_or_default()
    })
}

#[test]
fn stick_table_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Table>();
    assert_send_sync::<Arc<Table>>();
    assert_send_sync::<Tracker>();
}

#[test]
fn stick_table_counts_by_key() {
    let t = table(100, Some(60_000), false, "gpc0,gpc0_rate(10s),http_req_cnt,bytes_in_cnt,gpt0,server_id");
    assert_eq!(t.update(ip(1), Update::IncGpc0, 1000), Some(1));
    assert_eq!(t.update(ip(1), Update::IncGpc0, 1000), Some(2));
    assert_eq!(t.update(ip(1), Update::ClrGpc0, 1000), Some(2));
    assert_eq!(t.update(ip(1), Update::HttpReq, 1000), Some(1));
    assert_eq!(t.update(ip(1), Update::HttpErr, 1000), None); // not stored
    assert_eq!(t.update(ip(1), Update::BytesIn(5_000_000_000), 1000), Some(5_000_000_000));
    assert_eq!(t.update(ip(1), Update::SetGpt0(7), 1000), Some(7));
    assert_eq!(t.update(ip(1), Update::SetServerId(-1), 1000), Some(0xffff_ffff));
    assert_eq!(t.get(ip(1), DataType::Gpc0Rate, 1000), Some(2));
    assert_eq!(t.get(ip(1), DataType::Gpc0, 1000), Some(0));
    assert_eq!(t.get(ip(2), DataType::Gpc0, 1000), None);
    assert_eq!(t.used(), 1);
    assert_eq!(
        line(&t, ip(1), 1000).unwrap(),
        "key=127.0.0.1 use=0 exp=60000 server_id=-1 gpt0=7 gpc0=0 gpc0_rate(10000)=2 http_req_cnt=1 bytes_in_cnt=5000000000"
    );
}

#[test]
fn stick_table_expiry_purge() {
    let t = table(100, Some(2000), false, "conn_cnt");
    t.update(ip(1), Update::HttpReq, 0);
    t.update(ip(2), Update::HttpReq, 500);
    assert_eq!(t.next_purge(), Some(2000));
    assert_eq!(t.purge(1999), 0);
    t.update(ip(1), Update::HttpReq, 1500); // refreshed: now expires at 3500
    assert_eq!(t.purge(2000), 0); // ip1 re-queued
    assert_eq!(t.purge(2500), 1); // ip2 gone
    assert_eq!(t.used(), 1);
    assert_eq!(t.purge(3500), 1);
    assert_eq!(t.used(), 0);
    assert_eq!(t.next_purge(), None);
}

#[test]
fn stick_table_without_expire_is_never_purged() {
    let t = table(100, None, false, "conn_cnt");
    t.update(ip(1), Update::HttpReq, 0);
    assert_eq!(t.purge(u64::from(u32::MAX) * 4), 0);
    assert_eq!(line(&t, ip(1), 99_999).unwrap(), "key=127.0.0.1 use=0 exp=0 conn_cnt=0");
}

#[test]
fn stick_table_remove_refuses_in_use() {
    let t = table(100, Some(60_000), false, "conn_cur");
    let tr = t.track(ip(1), 0).unwrap();
    let k = t.key_type().normalize(ip(1)).unwrap();
    assert_eq!(t.remove(&k), Err(InUse));
    drop(tr);
    assert_eq!(t.remove(&k), Ok(true));
    assert_eq!(t.remove(&k), Ok(false));
    assert_eq!(t.used(), 0);
}

#[test]
fn stick_table_slots_are_reused_and_stale_queue_items_ignored() {
    let t = table(4, Some(1000), false, "conn_cnt");
    for round in 0..50u64 {
        for k in 1..=4 {
            assert!(t.update(ip(k), Update::HttpReq, round * 10).is_none()); // http_req not stored
        }
        assert_eq!(t.used(), 4);
        for k in 1..=4 {
            let sk = t.key_type().normalize(ip(k)).unwrap();
            assert_eq!(t.remove(&sk), Ok(true));
        }
    }
    assert_eq!(t.used(), 0);
    assert_eq!(t.purge(1_000_000), 0);
    assert!(t.next_purge().is_none());
}

#[test]
fn stick_table_queue_of_a_cleared_table_stays_bounded() {
    let t = table(100_000, None, false, "gpc0");
    for round in 0..20u64 {
        for k in 0..500u32 {
            t.update(Key::Ip(Ipv4Addr::from(k)), Update::IncGpc0, round);
        }
        assert_eq!(t.remove_unreferenced(|_| true), 500);
    }
    assert!(t.queue_len() <= 2 * 500 + 1024 + 1, "queue grew to {}", t.queue_len());
}
