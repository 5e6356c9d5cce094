//! `cache NAME` sections: `total-max-size`, `max-object-size`, `max-age`,
//! `process-vary`, `max-secondary-entries`, with HAProxy 2.6's limits.

use super::args::{Res, int, no_extra};
use crate::cfg::model::{CacheDef, Config, Loc};

/// The section header.
pub(super) fn open(cfg: &Config, words: &[String], loc: &Loc) -> Result<CacheDef, String> {
    let name = words.get(1).ok_or("'cache' expects a <name> argument")?;
    no_extra("cache", words, 2)?;
    if let Some(other) = cfg.caches.iter().find(|c| c.name == *name) {
        return Err(format!("Duplicate cache name '{name}' (previous declaration at {}).", other.loc));
    }
    Ok(CacheDef {
        name: name.clone(),
        loc: loc.clone(),
        total_max_size: 0,
        max_object_size: None,
        max_age: 60,
        process_vary: false,
        max_secondary_entries: 10,
    })
}

/// One line of the section.
pub(super) fn keyword(c: &mut CacheDef, words: &[String]) -> Res {
    let kw = words[0].as_str();
    match kw {
        "total-max-size" => {
            let mb: u64 = int(kw, words.get(1))?;
            if mb > 4095 {
                return Err(format!("'{kw}' must be at most 4095 (megabytes)."));
            }
            c.total_max_size = mb * 1024 * 1024;
            no_extra(kw, words, 2)
        }
        "max-object-size" => {
            c.max_object_size = Some(int(kw, words.get(1))?);
            no_extra(kw, words, 2)
        }
        "max-age" => {
            c.max_age = int(kw, words.get(1))?;
            no_extra(kw, words, 2)
        }
        "process-vary" => {
            c.process_vary = match words.get(1).map(String::as_str) {
                Some("on") => true,
                Some("off") => false,
                _ => {
                    return Err(format!(
                        "'{kw}' expects \"on\" or \"off\" (enable or disable vary processing)."
                    ));
                }
            };
            no_extra(kw, words, 2)
        }
        "max-secondary-entries" => {
            let n: u32 = int(kw, words.get(1))?;
            if n == 0 {
                return Err(format!("'{kw}' expects a strictly positive number."));
            }
            c.max_secondary_entries = n;
            no_extra(kw, words, 2)
        }
        other => Err(format!("unknown keyword '{other}' in 'cache' section")),
    }
}
