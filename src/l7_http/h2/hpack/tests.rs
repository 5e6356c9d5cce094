//! RFC 7541 Appendix C vectors, round trips through the encoder, and
//! malformed blocks (each an error, never a panic).

use super::huffman::HuffmanError;
use super::{Decoder, Encoder, HpackError};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
}

fn decode(d: &mut Decoder, block: &[u8]) -> Result<Vec<(String, String)>, HpackError> {
    let mut fields = Vec::new();
    d.decode(block, usize::MAX, |n, v| {
        fields.push((String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
    })?;
    Ok(fields)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

#[test]
fn c2_single_representations() {
    let mut d = Decoder::new(4096);
    let got = decode(&mut d, &hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    assert_eq!(got.unwrap(), pairs(&[("custom-key", "custom-header")]));
    assert_eq!(d.table().size(), 55);
    let got = decode(&mut d, &hex("040c 2f73 616d 706c 652f 7061 7468"));
    assert_eq!(got.unwrap(), pairs(&[(":path", "/sample/path")]));
    let got = decode(&mut d, &hex("1008 7061 7373 776f 7264 0673 6563 7265 74"));
    assert_eq!(got.unwrap(), pairs(&[("password", "secret")]));
    assert_eq!(decode(&mut d, &hex("82")).unwrap(), pairs(&[(":method", "GET")]));
    assert_eq!(d.table().len(), 1, "only the first was indexed");
}

/// C.3 (raw) and C.4 (Huffman): three requests on one connection.
#[test]
fn c3_c4_requests() {
    let first =
        pairs(&[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]);
    let mut second = first.clone();
    second.push(("cache-control".into(), "no-cache".into()));
    let third = pairs(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ]);
    let raw = [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ];
    let huff = [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ];
    for blocks in [raw, huff] {
        let mut d = Decoder::new(4096);
        for (block, (want, size)) in blocks.iter().zip([(&first, 57), (&second, 110), (&third, 164)]) {
            assert_eq!(&decode(&mut d, &hex(block)).unwrap(), want);
            assert_eq!(d.table().size(), size);
        }
    }
}

/// C.5 (raw) and C.6 (Huffman): three responses with a 256-byte table,
/// which evicts.
#[test]
fn c5_c6_responses_with_eviction() {
    let loc = ("location", "https://www.example.com");
    let first = pairs(&[
        (":status", "302"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        loc,
    ]);
    let second = pairs(&[
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        loc,
    ]);
    let third = pairs(&[
        (":status", "200"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        loc,
        ("content-encoding", "gzip"),
        ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
    ]);
    let raw = [
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31",
    ];
    let huff = [
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ];
    for blocks in [raw, huff] {
        let mut d = Decoder::new(256);
        // The table starts at 4096 bytes; the encoder used 256 from the start.
        d.decode(&hex("3fe1 01"), 0, |_, _| {}).unwrap();
        for (block, (want, size)) in blocks.iter().zip([(&first, 222), (&second, 222), (&third, 215)]) {
            assert_eq!(&decode(&mut d, &hex(block)).unwrap(), want);
            assert_eq!(d.table().size(), size);
        }
    }
}

#[test]
fn the_encoder_round_trips_through_the_decoder() {
    let mut e = Encoder::new();
    let fields = pairs(&[
        (":status", "200"),
        ("content-type", "text/html; charset=utf-8"),
        ("content-length", "1234"),
        ("x-custom-header", "some value with Spaces and ~punctuation~"),
        ("set-cookie", ""),
        ("accept-encoding", "gzip, deflate"),
        ("x-binary", "\u{7f}\u{1}"),
    ]);
    for status in [100u16, 200, 204, 206, 302, 304, 400, 404, 500, 503] {
        let mut block = Vec::new();
        e.begin(&mut block);
        e.status(status, &mut block);
        for (n, v) in &fields[1..] {
            e.field(n.as_bytes(), v.as_bytes(), &mut block);
        }
        let mut d = Decoder::new(4096);
        let got = decode(&mut d, &block).unwrap();
        assert_eq!(got[0], (":status".to_string(), status.to_string()));
        assert_eq!(&got[1..], &fields[1..]);
        assert_eq!(d.table().len(), 0, "the encoder never indexes");
    }
    // A peer lowering its table size gets a size update first.
    e.peer_table_size(0);
    let mut block = Vec::new();
    e.begin(&mut block);
    e.status(200, &mut block);
    assert_eq!(block, [0x20, 0x88]);
}

/// Malformed blocks: each is an error (a COMPRESSION_ERROR), never a panic.
#[test]
fn malformed_blocks_are_errors() {
    let cases: &[(&str, HpackError)] = &[
        ("3f", HpackError::Truncated), // size update whose integer is cut
        ("80", HpackError::ZeroIndex), // indexed field 0
        ("be", HpackError::BadIndex),  // 62: the dynamic table is empty
        ("ff80 8080 8080 01", HpackError::IntegerOverflow), // an endless integer
        ("3fe2 1f", HpackError::SizeUpdateTooLarge), // 4097: above SETTINGS
        ("823f e101", HpackError::SizeUpdateMisplaced), // after a field
        ("2020 2020", HpackError::SizeUpdateMisplaced), // three in a row
        ("0085 1f", HpackError::Truncated), // name of 5 bytes, 1 present
        ("0081 18", HpackError::Huffman(HuffmanError::Padding)), // padded with zeros
        ("0082 1fff 00", HpackError::Huffman(HuffmanError::Padding)), // 8 bits of padding
        ("0084 ffff ffff 00", HpackError::Huffman(HuffmanError::Eos)), // EOS in a name
        ("407f ffff ff7f", HpackError::Truncated), // a 2^28-byte string with no data
        ("41", HpackError::Truncated), // literal with no value
        ("0f", HpackError::Truncated), // literal whose name index is cut
    ];
    for (block, want) in cases {
        let mut d = Decoder::new(4096);
        assert_eq!(d.decode(&hex(block), usize::MAX, |_, _| {}), Err(*want), "block {block}");
    }
    // Every prefix of a valid block and every one-byte block: no panic.
    let good = hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");
    for n in 0..good.len() {
        let _ = Decoder::new(4096).decode(&good[..n], usize::MAX, |_, _| {});
    }
    for b in 0..=255u8 {
        let _ = Decoder::new(4096).decode(&[b], usize::MAX, |_, _| {});
        let _ = Decoder::new(4096).decode(&[b, b], usize::MAX, |_, _| {});
    }
}

/// A bomb: one large entry referenced many times. Past the budget no field
/// is handed out, and the block is still decoded to its end.
#[test]
fn fields_past_the_budget_are_not_handed_out() {
    let mut block = vec![0x40, 0x01, b'x', 0x7f, 0xa1, 0x1e]; // x: 4000 bytes, indexed
    block.extend(std::iter::repeat_n(b'v', 4000));
    block.extend(std::iter::repeat_n(0xbe, 1000)); // 1000 references to it
    let mut d = Decoder::new(4096);
    let mut handed = 0usize;
    let out = d.decode(&block, 65536, |n, v| handed += n.len() + v.len()).unwrap();
    assert!(out.over_budget);
    assert!(handed <= 65536, "handed out {handed} bytes");
    assert_eq!(out.list_size, 1001 * (4001 + 32));
    assert_eq!(d.table().len(), 1);
}
