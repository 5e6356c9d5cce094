//! Micro-benchmark of the HPACK decoder on a browser's header blocks:
//! a first request (every field a Huffman-coded literal with incremental
//! indexing, as browsers send it, so each decode also inserts into the
//! dynamic table and evicts) and a repeat request (indexed fields). The
//! budget is < 1 µs per browser block. `loona-hpack` decodes the same
//! blocks for comparison. `cargo bench --bench hpack_decode`

#[path = "harness.rs"]
mod harness;

use strata::l7_http::h2::hpack::{Decoder, huffman, table::STATIC};

const BROWSER: &[(&str, &str)] = &[
    (":method", "GET"),
    (":authority", "www.example.com"),
    (":scheme", "https"),
    (":path", "/static/app/main.3f9a1c.js?v=12"),
    ("sec-ch-ua", "\"Chromium\";v=\"128\", \"Not;A=Brand\";v=\"24\", \"Google Chrome\";v=\"128\""),
    ("sec-ch-ua-mobile", "?0"),
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    ),
    ("sec-ch-ua-platform", "\"Linux\""),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
    ("sec-fetch-site", "same-origin"),
    ("sec-fetch-mode", "no-cors"),
    ("sec-fetch-dest", "script"),
    ("referer", "https://www.example.com/"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("accept-language", "en-US,en;q=0.9"),
    ("cookie", "session=6b1f0c2e9a7d4e3b8c5a1f0e; theme=dark; lang=en"),
];

fn integer(out: &mut Vec<u8>, flags: u8, prefix: u32, value: usize) {
    let mask = (1usize << prefix) - 1;
    if value < mask {
        return out.push(flags | value as u8);
    }
    out.push(flags | mask as u8);
    let mut rest = value - mask;
    while rest >= 0x80 {
        out.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// The first request as a browser codes it: literals with incremental
/// indexing, names from the static table where it has them, Huffman.
fn first_request() -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in BROWSER {
        match STATIC.iter().position(|(n, v)| n == &name.as_bytes() && v == &value.as_bytes()) {
            Some(i) => integer(&mut b, 0x80, 7, i + 1),
            None => {
                match STATIC.iter().position(|(n, _)| n == &name.as_bytes()) {
                    Some(i) => integer(&mut b, 0x40, 6, i + 1),
                    None => {
                        b.push(0x40);
                        integer(&mut b, 0x80, 7, huffman::encoded_len(name.as_bytes()));
                        huffman::encode(name.as_bytes(), &mut b);
                    }
                }
                integer(&mut b, 0x80, 7, huffman::encoded_len(value.as_bytes()));
                huffman::encode(value.as_bytes(), &mut b);
            }
        }
    }
    b
}

fn main() {
    let first = first_request();
    println!("browser block: {} fields, {} bytes coded", BROWSER.len(), first.len());
    let mut d = Decoder::new(4096);
    harness::bench("strata: browser first request (Huffman)", 200_000, |_| {
        let mut n = 0;
        d.decode(&first, 65536, |name, value| n += name.len() + value.len()).map(|_| n).ok()
    });
    // The repeat request: every field indexed from the dynamic table.
    let mut d = Decoder::new(4096);
    let _ = d.decode(&first, 65536, |_, _| {});
    let repeat: Vec<u8> = (0..BROWSER.len()).map(|i| 0x80 | (62 + i) as u8).collect();
    harness::bench("strata: browser repeat request (indexed)", 1_000_000, |_| {
        let mut n = 0;
        d.decode(&repeat, 65536, |name, value| n += name.len() + value.len()).map(|_| n).ok()
    });
    // The Huffman decoding alone, of the same values.
    let coded: Vec<Vec<u8>> = BROWSER
        .iter()
        .map(|(_, v)| {
            let mut b = Vec::new();
            huffman::encode(v.as_bytes(), &mut b);
            b
        })
        .collect();
    let total: usize = coded.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(4096);
    harness::bench(&format!("strata: Huffman decoding alone ({total} bytes)"), 200_000, |_| {
        out.clear();
        coded.iter().all(|c| huffman::decode(c, &mut out).is_ok())
    });
    let mut o = loona_hpack::Decoder::new();
    harness::bench("loona-hpack: browser first request", 20_000, |_| o.decode(&first).map(|f| f.len()).ok());
}
