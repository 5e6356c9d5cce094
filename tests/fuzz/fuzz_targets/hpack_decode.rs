//! The HPACK decoder never panics and stays consistent: any input is
//! decoded or refused; a table size update between blocks is honoured;
//! the header list budget is never exceeded by the fields handed out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::l7_http::h2::hpack::Decoder;

fuzz_target!(|data: &[u8]| {
    // First byte: where to split the input into two header blocks of one
    // connection; second: the budget in KiB.
    let Some((&cut, rest)) = data.split_first() else { return };
    let Some((&budget, input)) = rest.split_first() else { return };
    let budget = usize::from(budget) * 1024;
    let cut = usize::from(cut).min(input.len());
    let mut d = Decoder::new(4096);
    for block in [&input[..cut], &input[cut..]] {
        let mut handed = 0usize;
        match d.decode(block, budget, |n, v| handed += n.len() + v.len() + 32) {
            Ok(out) => assert!(handed <= budget && (out.over_budget || handed == out.list_size)),
            Err(_) => break,
        }
        assert!(d.table().size() <= d.table().max());
    }
});
