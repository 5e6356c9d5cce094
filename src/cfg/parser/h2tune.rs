//! `tune.h2.*` in `global`: the HTTP/2 settings strata announces to
//! clients (and uses with `proto h2` servers).

use super::args::{Res, int, no_extra};
use crate::cfg::model::H2Tune;

/// Applies one `tune.h2.*` line; `words[0]` is the keyword.
pub(super) fn keyword(t: &mut H2Tune, words: &[String]) -> Res {
    let kw = words[0].as_str();
    let n: u64 = int(kw, words.get(1))?;
    let (slot, min, max) = match kw {
        "tune.h2.header-table-size" => (&mut t.header_table_size, 0, 65_535),
        "tune.h2.initial-window-size" => (&mut t.initial_window_size, 0, (1 << 31) - 1),
        "tune.h2.max-concurrent-streams" => (&mut t.max_concurrent_streams, 1, H2Tune::MAX_STREAMS as u64),
        "tune.h2.max-frame-size" => (&mut t.max_frame_size, 16_384, (1 << 24) - 1),
        "tune.h2.max-header-list-size" => (&mut t.max_header_list_size, 4096, (1 << 31) - 1),
        _ => return Err(format!("unknown keyword '{kw}' in 'global' section")),
    };
    if n < min || n > max {
        return Err(format!("'{kw}' expects a value between {min} and {max}."));
    }
    *slot = n as u32;
    no_extra(kw, words, 2)
}
