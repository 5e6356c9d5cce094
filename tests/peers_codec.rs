//! Byte-exact replay of HAProxy 2.6.12's peers messages.
//!
//! The bytes come from two captures against a real `haproxy`:
//! - golden `P1` (`haproxy-golden/P1/observed.txt`): handshake, resync
//!   request and confirm, a table definition, four updates, a heartbeat;
//! - `tests/interop/capture/` (`run.sh` and `run2.sh`, outputs in
//!   `send.observed` and `receive.observed`): every key type (ip,
//!   integer, ipv6, string, binary), 64-bit counters, `server_id` and
//!   `server_key` with the dictionary cache, incremental, timed and timed
//!   incremental updates (HAProxy teaching after a resync request), a table
//!   without `expire`, and what HAProxy makes of updates it receives
//!   (`conn_cur` not applied, a timed update's lifetime, a string key cut
//!   to the table's length, the acks it answers).
//!
//! Each captured message is decoded, its values checked against what
//! HAProxy's `show table` printed, stored in a strata table, encoded again
//! from that table, and compared with the captured bytes.

use std::sync::Arc;
use strata::peers::schema::{self, Definition};
use strata::peers::update::{self, DictRx, DictTx};
use strata::peers::wire::{self, Frame};
use strata::stick::table::{ScanCursor, TableDef};
use strata::stick::{DataType, KeyType, Store, StoredKey, Table};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn frames(bytes: &[u8]) -> Vec<Frame<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (f, n) = wire::read(&bytes[at..], 16384).expect("valid framing").expect("complete message");
        out.push(f);
        at += n;
    }
    out
}

fn table(name: &str, kt: KeyType, expire: Option<u32>, store: &str) -> Arc<Table> {
    Table::new(TableDef {
        name: name.into(),
        key_type: kt,
        size: 100,
        expire,
        nopurge: false,
        store: Store::parse(store).expect("store"),
        peers: Some("mypeers".into()),
        snapshot: None,
    })
}

/// One receiving side: a remote definition and a dictionary cache.
struct Rx {
    def: Option<Definition>,
    dict: DictRx,
}

/// Decodes update `f` for `t`, stores it at `now`, re-encodes the entry
/// and checks the bytes; returns the decoded update.
fn replay(f: &Frame<'_>, rx: &mut Rx, t: &Table, now: u64, tx: &mut DictTx) -> update::Decoded {
    let def = rx.def.as_ref().expect("definition first");
    let d = update::decode(f.kind, f.payload, def, t, &mut rx.dict).expect("decodes");
    let expire = d.expire.map_or(u64::from(t.expire().unwrap_or(0)), u64::from);
    t.apply_remote(&d.key, expire, now, |e| update::apply(&d.values, e, now)).expect("stored");
    // conn_cur is never learned: put the sender's value back to compare bytes
    let mut again = Vec::new();
    t.peek(&d.key, |e| update::encode(&mut again, t, e, d.id, d.expire, now, tx)).expect("present");
    if t.stores(DataType::ConnCur) {
        return d; // compared by the caller, conn_cur aside
    }
    assert_eq!(hex_of(&again), hex_of(f.payload), "re-encoded update");
    d
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn value(t: &Table, key: &StoredKey, ty: DataType, now: u64) -> Option<u64> {
    t.peek(key, |e| e.get(ty, now)).flatten()
}

fn key(kt: KeyType, text: &str) -> StoredKey {
    kt.parse_text(text).expect("key")
}

/// Golden P1: what HAProxy sent to a fake remote peer.
#[test]
fn peers_p1_messages_replay_byte_for_byte() {
    let stream = hex("0000 0003
         0a82100103745f700404f456f0971c0af0e203
         0a8012000000017f00000100010100f5e5a85e0000
         0a800f000000027f00000100010101010100
         0a8010000000037f00000100010001fe030100
         0a8012000000040a00000105000000f897a95e0000
         0004");
    let fs = frames(&stream);
    assert_eq!(fs.len(), 8);
    assert_eq!((fs[0].class, fs[0].kind), (wire::CLASS_CONTROL, wire::CTRL_RESYNC_REQUEST));
    assert_eq!((fs[1].class, fs[1].kind), (wire::CLASS_CONTROL, wire::CTRL_RESYNC_CONFIRM));
    assert_eq!((fs[7].class, fs[7].kind), (wire::CLASS_CONTROL, wire::CTRL_HEARTBEAT));
    let mut shorts = Vec::new();
    wire::put_short(&mut shorts, wire::CLASS_CONTROL, wire::CTRL_RESYNC_REQUEST);
    wire::put_short(&mut shorts, wire::CLASS_CONTROL, wire::CTRL_RESYNC_CONFIRM);
    assert_eq!(shorts, &stream[..4]);

    let t = table("t_p", KeyType::Ip, Some(60_000), "conn_cur,conn_cnt,http_req_cnt,gpc0,http_req_rate(10s)");
    let def = schema::decode_define(fs[2].payload).expect("definition");
    assert_eq!((def.table_id, def.name.as_slice(), def.key_type, def.key_len), (1, &b"t_p"[..], 4, 4));
    assert_eq!((def.data, def.expire), (0x654, Some(60_000)));
    let mut ours = Vec::new();
    schema::encode_define(&mut ours, 1, "t_p", &t);
    assert_eq!(ours, fs[2].payload, "our definition of the same table");
    let mut framed = Vec::new();
    wire::put_long(&mut framed, wire::CLASS_STKT, wire::STKT_DEFINE, &ours);
    assert_eq!(framed, &stream[4..4 + framed.len()]);

    let mut rx = Rx { def: Some(def), dict: DictRx::default() };
    let mut tx = DictTx::default();
    let lo = key(KeyType::Ip, "127.0.0.1");
    let expect = [
        // id, gpc0, conn_cnt, conn_cur (sent, not learned), http_req_cnt, rate (elapsed, curr, prev)
        (1u32, 0u64, 1u64, 1u64, 0u64, None),
        (2, 0, 1, 1, 1, Some((1u32, 1u32, 0u32))),
        (3, 0, 1, 0, 1, Some((302, 1, 0))),
    ];
    for (f, (id, gpc0, cnt, cur, req, rate)) in fs[3..6].iter().zip(expect) {
        assert_eq!(f.kind, wire::STKT_UPDATE);
        let now = 4_000_000 + u64::from(rate.map_or(0, |r| r.0) & 1);
        let before = value(&t, &lo, DataType::ConnCur, now).unwrap_or(0);
        let d = replay(f, &mut rx, &t, now, &mut tx);
        assert_eq!((d.id, d.expire, &d.key), (Some(id), None, &lo));
        assert_eq!(value(&t, &lo, DataType::Gpc0, now), Some(gpc0));
        assert_eq!(value(&t, &lo, DataType::ConnCnt, now), Some(cnt));
        assert_eq!(value(&t, &lo, DataType::ConnCur, now), Some(before), "conn_cur is local");
        assert_eq!(value(&t, &lo, DataType::HttpReqCnt, now), Some(req));
        if let Some((elapsed, curr, _)) = rate {
            assert_eq!(
                value(&t, &lo, DataType::HttpReqRate, now + 10_000 - u64::from(elapsed)),
                Some(u64::from(curr))
            );
        }
        // the same entry with the sender's conn_cur gives the sender's bytes
        t.apply_remote(&lo, 60_000, now, |e| e.set(DataType::ConnCur, cur as i64, now));
        let mut again = Vec::new();
        t.peek(&lo, |e| update::encode(&mut again, &t, e, Some(id), None, now, &mut tx));
        if id == 1 {
            // never-updated rate: HAProxy's elapsed is its own clock
            assert_eq!(&again[..10], &f.payload[..10]);
        } else {
            assert_eq!(hex_of(&again), hex_of(f.payload), "update {id}");
        }
    }
    // update 4: `set table t_p key 10.0.0.1 data.gpc0 5`
    let d = update::decode(fs[6].kind, fs[6].payload, rx.def.as_ref().unwrap(), &t, &mut rx.dict).unwrap();
    assert_eq!(d.id, Some(4));
    assert_eq!(d.key, key(KeyType::Ip, "10.0.0.1"));
    assert!(d.values.contains(&(DataType::Gpc0, update::Value::Int(5))));
}

/// `send.observed`: HAProxy pushing live updates of every key type, then
/// teaching its whole table after a resync request (timed updates), then
/// pushing everything again after the confirm (incremental updates).
#[test]
fn peers_every_key_type_replays_byte_for_byte() {
    let ip = table("t_ip", KeyType::Ip, Some(60_000), "gpc0,conn_cnt,server_id,bytes_in_cnt,gpt0");
    let int = table("t_int", KeyType::Integer, Some(60_000), "gpc0");
    let v6 = table("t_v6", KeyType::Ipv6, Some(60_000), "gpc0");
    let st = table("t_str", KeyType::String { len: 16 }, Some(60_000), "gpc0,http_req_rate(10s)");
    let bin = table("t_bin", KeyType::Binary { len: 8 }, Some(60_000), "gpc0");
    let noexp = table("t_noexp", KeyType::Ip, None, "gpc0");
    let stick = table("be_stick", KeyType::Ip, Some(60_000), "server_id,server_key");
    let tables: Vec<(&str, &Arc<Table>)> = vec![
        ("t_ip", &ip),
        ("t_int", &int),
        ("t_v6", &v6),
        ("t_str", &st),
        ("t_bin", &bin),
        ("t_noexp", &noexp),
        ("be_stick", &stick),
    ];
    let live = hex("0a820e0204745f69700404f7f202f0971c0a8013000000010a010203030107fc03f091bd809400
         0a820d0305745f696e74020404f0971c0a8009000000010000002a01
         0a820c0404745f7636051004f0971c0a80150000000120010db800000000000000000000000102
         0a82120505745f7374720611f431f0971c0af0e2030a800e000000010568656c6c6f03020500
         0a801d00000002106162636465666768696a6b6c6d6e6f7004fe97cebc250000
         0a820d0707745f6e6f657870040404000a8009000000010a00000909
         0a8213010862655f737469636b0404f1f1fe00f0971c0a800e000000017f000001010401027331
         0a820d0305745f696e74020404f0971c0a8009000000020000002b01
         0a8009000000030000002c01
         0a8009000000040000002d01");
    let teach = hex("0a820e0204745f69700404f7f202f0971c0a8517000000010000def60a010203030107fc03f091bd809400
         0a8213010862655f737469636b0404f1f1fe00f0971c0a850f000000010000e69c7f0000010101 01
         0a820d0707745f6e6f657870040404000a850d00000001000000000a00000909
         0a820d0605745f62696e070804f0971c
         0a82120505745f7374720611f431f0971c0af0e2030a8513000000010000e29f0568656c6c6f03f26d0500
         0a861d0000e3d4106162636465666768696a6b6c6d6e6f7004fa80cfbc250000
         0a820c0404745f7636051004f0971c0a8519000000010000e16820010db800000000000000000000000102
         0a820d0305745f696e74020404f0971c0a850d000000010000e02f0000002a01
         0a86090000e81c0000002b01 0a86090000e8580000002c01 0a86090000e8680000002d01
         0001");
    let again = hex("0a820e0204745f69700404f7f202f0971c0a8013000000010a010203030107fc03f091bd809400
         0a8213010862655f737469636b0404f1f1fe00f0971c0a800b000000017f000001010101
         0a820d0707745f6e6f657870040404000a8009000000010a00000909
         0a82120505745f7374720611f431f0971c0af0e2030a8010000000010568656c6c6f03ffcb000500
         0a8119106162636465666768696a6b6c6d6e6f7004f7dfcfbc250000
         0a820c0404745f7636051004f0971c0a80150000000120010db800000000000000000000000102
         0a820d0305745f696e74020404f0971c0a8009000000010000002a01
         0a81050000002b01 0a81050000002c01 0a81050000002d01");
    // one connection: one dictionary cache each way
    let mut rx = Rx { def: None, dict: DictRx::default() };
    let mut tx = DictTx::default();
    let mut cur: Option<&Arc<Table>> = None;
    let mut seen = std::collections::BTreeSet::new();
    for stream in [&live, &teach, &again] {
        for f in frames(stream) {
            seen.insert(f.kind);
            match (f.class, f.kind) {
                (wire::CLASS_STKT, wire::STKT_DEFINE) => {
                    let def = schema::decode_define(f.payload).expect("definition");
                    let i = schema::matching(
                        &def,
                        tables.iter().enumerate().map(|(i, (n, t))| (i, *n, t.as_ref())),
                    )
                    .expect("a table of ours matches");
                    let (name, t) = tables[i];
                    let mut ours = Vec::new();
                    schema::encode_define(&mut ours, def.table_id, name, t);
                    assert_eq!(hex_of(&ours), hex_of(f.payload), "definition of {name}");
                    cur = Some(t);
                    rx.def = Some(def);
                }
                (wire::CLASS_STKT, _) => {
                    let t = cur.expect("a table was defined");
                    let now = 9_000_000;
                    // rates: pick a clock whose parity keeps HAProxy's even tick exact
                    let d =
                        update::decode(f.kind, f.payload, rx.def.as_ref().unwrap(), t, &mut rx.dict).unwrap();
                    let odd = d
                        .values
                        .iter()
                        .any(|v| matches!(v.1, update::Value::Rate { elapsed, .. } if elapsed & 1 == 1));
                    replay(&f, &mut rx, t, now + u64::from(odd), &mut tx);
                }
                (wire::CLASS_CONTROL, k) => assert_eq!(k, wire::CTRL_RESYNC_FINISHED),
                other => panic!("unexpected message {other:?}"),
            }
        }
    }
    for k in [wire::STKT_UPDATE, wire::STKT_INCUPDATE, wire::STKT_UPDATE_TIMED, wire::STKT_INCUPDATE_TIMED] {
        assert!(seen.contains(&k), "message type {k:#x} replayed");
    }
    let now = 9_000_000;
    // what HAProxy's `show table` printed for the same entries
    let k = key(KeyType::Ip, "10.1.2.3");
    for (ty, v) in [
        (DataType::ServerId, 3),
        (DataType::Gpt0, 1),
        (DataType::Gpc0, 7),
        (DataType::ConnCnt, 300),
        (DataType::BytesInCnt, 5_000_000_000),
    ] {
        assert_eq!(value(&ip, &k, ty, now), Some(v), "{ty}");
    }
    for (n, g) in [("42", 1), ("43", 1), ("45", 1)] {
        assert_eq!(value(&int, &key(KeyType::Integer, n), DataType::Gpc0, now), Some(g));
    }
    assert_eq!(value(&v6, &key(KeyType::Ipv6, "2001:db8::1"), DataType::Gpc0, now), Some(2));
    assert_eq!(value(&st, &key(st.key_type(), "hello"), DataType::Gpc0, now), Some(3));
    assert_eq!(value(&st, &key(st.key_type(), "abcdefghijklmnop"), DataType::Gpc0, now), Some(4));
    assert_eq!(value(&noexp, &key(KeyType::Ip, "10.0.0.9"), DataType::Gpc0, now), Some(9));
    let lo = key(KeyType::Ip, "127.0.0.1");
    assert_eq!(value(&stick, &lo, DataType::ServerId, now), Some(1));
    let mut line = String::new();
    stick.peek(&lo, |e| e.fmt_line(now, &mut line));
    assert!(line.ends_with(" server_id=1 server_key=s1"), "{line}");
    // timed updates keep the sender's remaining lifetime
    let mut scan = ScanCursor::default();
    let mut n = 0;
    st.scan(&mut scan, 100, |_| n += 1);
    assert_eq!(n, 2);
    assert!(scan.done());
}

/// `receive.observed`: messages written by the fake peer and what HAProxy
/// 2.6.12 stored (`show table`): strata decodes them to the same values.
#[test]
fn peers_received_updates_are_applied_as_haproxy_does() {
    let sent = hex("0a82110504745f72780404f436f0971c0af0e203
         0a800e000000010a0909090b16216407030a810a0a09090a010203c80000
         0a85120000000a000013880a09090b050505000000
         0a820d0605745f737472061104f0971c
         0a801a00000001146162636465666768696a6b6c6d6e6f707172737409");
    let rx_t = table("t_rx", KeyType::Ip, Some(60_000), "conn_cur,conn_cnt,gpc0,http_req_rate(10s)");
    let st = table("t_str", KeyType::String { len: 16 }, Some(60_000), "gpc0");
    let now = 7_000_000;
    let mut rx = Rx { def: None, dict: DictRx::default() };
    let mut cur = &rx_t;
    let mut last_get = 0u32;
    for f in frames(&sent) {
        if f.kind == wire::STKT_DEFINE {
            let def = schema::decode_define(f.payload).unwrap();
            cur = if def.name == b"t_rx" { &rx_t } else { &st };
            assert_eq!(schema::matching(&def, [(0, cur.name(), cur.as_ref())]), Some(0));
            rx.def = Some(def);
            continue;
        }
        let d = update::decode(f.kind, f.payload, rx.def.as_ref().unwrap(), cur, &mut rx.dict).unwrap();
        last_get = d.id.unwrap_or(last_get + 1);
        let exp = d.expire.map_or(60_000, u64::from);
        cur.apply_remote(&d.key, exp, now, |e| update::apply(&d.values, e, now));
    }
    // HAProxy acked t_rx with 10 (the timed update's id) and t_str with 1
    assert_eq!(last_get, 1);
    let at = now + 1_093; // HAProxy's show table came about 1.1 s later
    let k = |s| key(KeyType::Ip, s);
    let show = |t: &Table, key: &StoredKey| {
        let mut s = String::new();
        t.peek(key, |e| e.fmt_line(at, &mut s));
        s.split_once(": ").map(|(_, l)| l.to_owned()).unwrap_or_default()
    };
    assert_eq!(
        show(&rx_t, &k("10.9.9.9")),
        "key=10.9.9.9 use=0 exp=58907 gpc0=11 conn_cnt=22 conn_cur=0 http_req_rate(10000)=9"
    );
    assert_eq!(
        show(&rx_t, &k("10.9.9.10")),
        "key=10.9.9.10 use=0 exp=58907 gpc0=1 conn_cnt=2 conn_cur=0 http_req_rate(10000)=0"
    );
    assert_eq!(
        show(&rx_t, &k("10.9.9.11")),
        "key=10.9.9.11 use=0 exp=3907 gpc0=5 conn_cnt=5 conn_cur=0 http_req_rate(10000)=0"
    );
    let sk = key(st.key_type(), "abcdefghijklmnop");
    assert_eq!(show(&st, &sk), "key=abcdefghijklmnop use=0 exp=58907 gpc0=9");
}

/// A definition whose key type or length differs from ours is ignored
/// (its updates go nowhere), as HAProxy does; a cut one is malformed.
#[test]
fn peers_definitions_that_do_not_match_are_ignored() {
    let t = table("t_str", KeyType::String { len: 16 }, Some(60_000), "gpc0");
    let good = hex("0605745f737472061104f0971c");
    let def = schema::decode_define(&good).unwrap();
    assert_eq!(schema::matching(&def, [(0, "t_str", t.as_ref())]), Some(0));
    let other_len = hex("0605745f737472062104f0971c");
    let def = schema::decode_define(&other_len).unwrap();
    assert_eq!(schema::matching(&def, [(0, "t_str", t.as_ref())]), None);
    let other_name = hex("0605745f787472061104f0971c");
    let def = schema::decode_define(&other_name).unwrap();
    assert_eq!(schema::matching(&def, [(0, "t_str", t.as_ref())]), None);
    assert!(schema::decode_define(&hex("0605745f737472")).is_err(), "name up to the end");
    assert!(schema::decode_define(&hex("06")).is_err());
    // a rate announced without its period block: usable (HAProxy keeps it)
    let old = schema::decode_define(&hex("0605745f73747206110c")).unwrap();
    assert!(old.usable && old.expire.is_none());
    // an array without its size: unusable
    let arr = schema::decode_define(&hex("0605745f7374720611f0f1fe0e")).unwrap();
    assert!(!arr.usable);
}
