//! The configuration lexer, parser and resolver never panic: any text gets
//! a configuration or diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::cfg::{Diagnostics, load_str};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut diags = Diagnostics::default();
    let _ = load_str(&[("fuzz.cfg".to_owned(), text)], &mut diags);
});
