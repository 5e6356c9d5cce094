//! `compression algo|type|offload|minsize-res` and `filter compression|cache`.

use super::args::Res;
use super::section::Open;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{CompAlgo, Compression, Filter, Loc};

/// `compression algo A...`, `compression type T...`, `compression offload`,
/// `compression minsize-res N` (HAProxy 3.0's; 2.6 compresses any size).
pub(super) fn compression(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let what = words.get(1).map_or("", String::as_str);
    let comp = o.px.compression.get_or_insert_with(Compression::default);
    match what {
        "algo" => {
            if words.len() < 3 {
                return Err("'compression algo' expects at least one algorithm.".into());
            }
            for a in &words[2..] {
                let algo = match a.as_str() {
                    "identity" => CompAlgo::Identity,
                    "gzip" => CompAlgo::Gzip,
                    "deflate" => CompAlgo::Deflate,
                    "raw-deflate" => CompAlgo::RawDeflate,
                    other => {
                        return Err(format!("'compression algo' : '{other}' is not a supported algorithm."));
                    }
                };
                comp.algos.insert(0, algo); // HAProxy prepends: the last one is tried first on `*`
            }
            Ok(())
        }
        "type" => {
            if words.len() < 3 {
                return Err("'compression type' expects mime types.".into());
            }
            comp.types.extend(words[2..].iter().cloned());
            Ok(())
        }
        "offload" => {
            if o.kind == super::section::Kind::Defaults {
                diags.push(Diag::warning(loc, "'compression offload' ignored in 'defaults' section."));
                return Ok(());
            }
            comp.offload = true;
            super::args::no_extra("compression offload", words, 2)
        }
        "minsize-res" => {
            comp.minsize_res = super::args::int("compression minsize-res", words.get(2))?;
            super::args::no_extra("compression minsize-res", words, 3)
        }
        _ => Err("'compression' expects 'algo', 'type', 'offload' or 'minsize-res'.".into()),
    }
}

/// `filter compression`, `filter cache NAME`.
pub(super) fn filter(o: &mut Open, words: &[String]) -> Res {
    let f = match words.get(1).map(String::as_str) {
        Some("compression") => {
            super::args::no_extra("filter compression", words, 2)?;
            Filter::Compression
        }
        Some("cache") => {
            let name = words.get(2).ok_or("'filter cache' expects a cache name.")?;
            super::args::no_extra("filter cache", words, 3)?;
            Filter::Cache(name.clone())
        }
        Some(other) => {
            return Err(format!(
                "'filter {other}' is not supported by strata (only 'compression' and 'cache')."
            ));
        }
        None => return Err("'filter' expects a filter name.".into()),
    };
    if o.px.filters.contains(&f) {
        return Err("only one 'filter compression' (or 'filter cache' per cache) per proxy.".into());
    }
    o.px.filters.push(f);
    Ok(())
}
