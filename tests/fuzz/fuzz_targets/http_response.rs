//! The HTTP/1 response parser and the body framing state machine never
//! panic, for GET, HEAD and CONNECT requests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::l7_http::body::BodyState;
use strata::l7_http::parse::parse_response;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else { return };
    if let Ok(Some(head)) = parse_response(input, flags & 1 != 0, flags & 2 != 0) {
        let mut body = BodyState::new(head.framing);
        let rest = &input[head.len.min(input.len())..];
        let _ = body.advance(rest);
    }
});
