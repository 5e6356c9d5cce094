//! The HTTP/1 request parser and the body framing state machine never
//! panic: the head parses, is incomplete, or is refused; the body after it
//! is fed in arbitrary pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::l7_http::body::BodyState;
use strata::l7_http::parse::parse_request;

fuzz_target!(|data: &[u8]| {
    // First byte: where to cut the body into two writes.
    let Some((&cut, input)) = data.split_first() else { return };
    if let Ok(Some(head)) = parse_request(input) {
        let mut body = BodyState::new(head.framing);
        let rest = &input[head.len.min(input.len())..];
        let cut = usize::from(cut).min(rest.len());
        for part in [&rest[..cut], &rest[cut..]] {
            if body.advance(part).is_err() {
                break;
            }
        }
    }
});
