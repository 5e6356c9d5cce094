//! `data.<type> <op> <value>` filters of `show table` and `clear table`.

use super::error::{CliError, FilterError};
use crate::stick::data::DataType;
use crate::stick::table::{EntryMut, Table};

/// Maximum number of `data.` filters (HAProxy's `STKTABLE_FILTER_LEN`).
pub const MAX_FILTERS: usize = 4;

/// A comparison operator of a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
}

impl Op {
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "le" => Op::Le,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "gt" => Op::Gt,
            _ => return None,
        })
    }

    fn holds(self, data: i64, value: i64) -> bool {
        match self {
            Op::Eq => data == value,
            Op::Ne => data != value,
            Op::Le => data <= value,
            Op::Ge => data >= value,
            Op::Lt => data < value,
            Op::Gt => data > value,
        }
    }
}

/// `data.<type> <op> <value>`: an entry matches when its value of `ty`
/// (rates computed at the time of the dump) compares true with `value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    pub ty: DataType,
    pub op: Op,
    pub value: i64,
}

impl Filter {
    pub fn matches(&self, e: &EntryMut<'_>, now: u64) -> bool {
        e.value(self.ty, now).is_some_and(|d| self.op.holds(d, self.value))
    }
}

/// HAProxy's `strl2llrc()`: optional `-`, then decimal digits (strata also
/// refuses values that overflow 64 bits).
pub(super) fn parse_i64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses up to [`MAX_FILTERS`] filters from `args` (the words after the
/// table name, the first one starting with `data.`), with HAProxy's errors.
pub fn parse_filters(t: &Table, args: &[&str]) -> Result<Vec<Filter>, CliError> {
    let word = |i: usize| args.get(i).copied().unwrap_or("");
    let mut filters = Vec::new();
    let mut i = 0;
    while i < MAX_FILTERS {
        let w = 3 * i;
        if i > 0 && word(w).is_empty() {
            break;
        }
        let err = |error| CliError::Filter { entry: i + 1, error };
        // HAProxy skips five characters, assuming `data.`
        let ty = word(w).get(5..).and_then(DataType::from_name).ok_or(err(FilterError::UnknownType))?;
        if !t.stores(ty) {
            return Err(err(FilterError::NotStored));
        }
        let op = Op::parse(word(w + 1)).ok_or(err(FilterError::BadOperator))?;
        let value = parse_i64(word(w + 2)).ok_or(err(FilterError::BadValue))?;
        filters.push(Filter { ty, op, value });
        i += 1;
    }
    if !word(3 * i).is_empty() {
        return Err(CliError::ExtraFilterData { word: 3 + 3 * i + 1, after: word(3 * i - 1).to_owned() });
    }
    Ok(filters)
}
