//! placeholder until the cfg resolver lands
use super::{Config, Diagnostics};
pub fn resolve(_cfg: &mut Config, _diags: &mut Diagnostics) {}
