//! The data types a stick table can store (`store <type>[,<type>...]`).
//!
//! Only the stored types take room in an entry: `Layout` gives each stored
//! type an offset (in 32-bit words) into the entry's data block, computed once
//! per table. Widths: `server_id` signed 32 bits (1 word), counters unsigned
//! 32 bits (1 word), byte counters unsigned 64 bits (2 words), rates a
//! [`FreqCtr`](super::FreqCtr) (3 words).
//!
//! `server_key` (HAProxy's dictionary type) is one word: the id of a string
//! interned in [`dict`](super::dict) (0: none).
//!
//! Not supported (yet): the 2.5+ arrays `gpt(n)`, `gpc(n)`, `gpc_rate(n,p)`;
//! their names are unknown types here.

use std::fmt;

/// A storable data type. The discriminant is HAProxy's internal index
/// (`STKTABLE_DT_*`), which is also the order `show table` prints them in
/// and the bit number of the peers protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum DataType {
    ServerId = 0,
    Gpt0 = 1,
    Gpc0 = 2,
    Gpc0Rate = 3,
    ConnCnt = 4,
    ConnRate = 5,
    ConnCur = 6,
    SessCnt = 7,
    SessRate = 8,
    HttpReqCnt = 9,
    HttpReqRate = 10,
    HttpErrCnt = 11,
    HttpErrRate = 12,
    BytesInCnt = 13,
    BytesInRate = 14,
    BytesOutCnt = 15,
    BytesOutRate = 16,
    Gpc1 = 17,
    Gpc1Rate = 18,
    ServerKey = 19,
    HttpFailCnt = 20,
    HttpFailRate = 21,
}

/// Number of slots in per-type arrays indexed by discriminant.
pub(crate) const NB_TYPES: usize = 22;

/// How a type is stored and printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    Sint, // signed 32-bit, printed signed
    Uint, // unsigned 32-bit
    Ull,  // unsigned 64-bit
    Rate, // frequency counter with a period
    Dict, // id of an interned string (`server_key`), printed as the string
}

impl DataType {
    /// Every type, in HAProxy's display order.
    pub const ALL: [DataType; 22] = [
        DataType::ServerId,
        DataType::Gpt0,
        DataType::Gpc0,
        DataType::Gpc0Rate,
        DataType::ConnCnt,
        DataType::ConnRate,
        DataType::ConnCur,
        DataType::SessCnt,
        DataType::SessRate,
        DataType::HttpReqCnt,
        DataType::HttpReqRate,
        DataType::HttpErrCnt,
        DataType::HttpErrRate,
        DataType::BytesInCnt,
        DataType::BytesInRate,
        DataType::BytesOutCnt,
        DataType::BytesOutRate,
        DataType::Gpc1,
        DataType::Gpc1Rate,
        DataType::ServerKey,
        DataType::HttpFailCnt,
        DataType::HttpFailRate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DataType::ServerId => "server_id",
            DataType::Gpt0 => "gpt0",
            DataType::Gpc0 => "gpc0",
            DataType::Gpc0Rate => "gpc0_rate",
            DataType::ConnCnt => "conn_cnt",
            DataType::ConnRate => "conn_rate",
            DataType::ConnCur => "conn_cur",
            DataType::SessCnt => "sess_cnt",
            DataType::SessRate => "sess_rate",
            DataType::HttpReqCnt => "http_req_cnt",
            DataType::HttpReqRate => "http_req_rate",
            DataType::HttpErrCnt => "http_err_cnt",
            DataType::HttpErrRate => "http_err_rate",
            DataType::BytesInCnt => "bytes_in_cnt",
            DataType::BytesInRate => "bytes_in_rate",
            DataType::BytesOutCnt => "bytes_out_cnt",
            DataType::BytesOutRate => "bytes_out_rate",
            DataType::Gpc1 => "gpc1",
            DataType::Gpc1Rate => "gpc1_rate",
            DataType::ServerKey => "server_key",
            DataType::HttpFailCnt => "http_fail_cnt",
            DataType::HttpFailRate => "http_fail_rate",
        }
    }

    /// The type named `name` (as in `store` lists and `data.<name>`).
    pub fn from_name(name: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn width(self) -> Width {
        match self {
            DataType::ServerId => Width::Sint,
            DataType::ServerKey => Width::Dict,
            DataType::BytesInCnt | DataType::BytesOutCnt => Width::Ull,
            DataType::Gpc0Rate
            | DataType::ConnRate
            | DataType::SessRate
            | DataType::HttpReqRate
            | DataType::HttpErrRate
            | DataType::BytesInRate
            | DataType::BytesOutRate
            | DataType::Gpc1Rate
            | DataType::HttpFailRate => Width::Rate,
            _ => Width::Uint,
        }
    }

    pub fn is_rate(self) -> bool {
        self.width() == Width::Rate
    }

    /// 32-bit words this type takes in an entry.
    pub(crate) fn words(self) -> usize {
        match self.width() {
            Width::Sint | Width::Uint | Width::Dict => 1,
            Width::Ull => 2,
            Width::Rate => 3,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `store` list error. `Display` gives HAProxy's text after
/// `parsing [file:line] : `; the config layer adds that prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// `foo` is no data type.
    Unknown(String),
    /// The type was already given. HAProxy only warns (`store option '%s'
    /// already enabled, ignored.`); strata refuses it, with the same words.
    Duplicate(String),
    /// A rate without `(period)`.
    MissingArg(String),
    /// A `(...)` after a type that takes none.
    UnexpectedArg(String),
    /// `(` without `)`.
    MissingParen(String),
    /// A period that is not a time (bad character, zero, or too large).
    BadPeriod { name: String, arg: String },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unknown(n) => write!(f, "stick-table: unknown store option '{n}'."),
            StoreError::Duplicate(n) => {
                write!(f, "stick-table: store option '{n}' already enabled, ignored.")
            }
            StoreError::MissingArg(n) => write!(f, "stick-table: missing argument to store option '{n}'."),
            StoreError::UnexpectedArg(n) => {
                write!(f, "stick-table: unexpected argument to store option '{n}'.")
            }
            StoreError::MissingParen(n) => {
                write!(f, "stick-table: missing closing parenthesis after store option '{n}'.")
            }
            StoreError::BadPeriod { name, arg } => {
                write!(f, "stick-table: invalid period '{arg}' in argument to store option '{name}'.")
            }
        }
    }
}

/// The stored types of one table with their periods (ms, rates only), in
/// the order given. Build with [`Store::add_list`] once per `store` keyword.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Store {
    items: Vec<(DataType, u32)>, // (type, period in ms; 0 for non-rates)
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Parses one `store` argument: a comma list such as
    /// `conn_cur,conn_rate(10s),http_req_cnt`.
    pub fn parse(list: &str) -> Result<Store, StoreError> {
        let mut s = Store::new();
        s.add_list(list)?;
        Ok(s)
    }

    /// Adds the types of one more `store` argument.
    pub fn add_list(&mut self, list: &str) -> Result<(), StoreError> {
        let mut rest = list;
        while !rest.is_empty() {
            // one item: name, or name(arg); no comma inside the parentheses
            let (name, arg, next) = match (rest.find('('), rest.find(',')) {
                (Some(p), c) if c.is_none_or(|c| p < c) => {
                    let name = &rest[..p];
                    let close = rest[p..].find(')').ok_or_else(|| StoreError::MissingParen(name.into()))?;
                    let arg = &rest[p + 1..p + close];
                    let after = &rest[p + close + 1..];
                    // HAProxy ignores anything between `)` and the next comma
                    let next = after.find(',').map_or("", |c| &after[c + 1..]);
                    (name, Some(arg), next)
                }
                (_, Some(c)) => (&rest[..c], None, &rest[c + 1..]),
                (_, None) => (rest, None, ""),
            };
            rest = next;
            if name.is_empty() {
                continue;
            }
            let ty = DataType::from_name(name).ok_or_else(|| StoreError::Unknown(name.into()))?;
            let period = match (ty.is_rate(), arg) {
                (true, None) => return Err(StoreError::MissingArg(name.into())),
                (false, Some(_)) => return Err(StoreError::UnexpectedArg(name.into())),
                (false, None) => None,
                (true, Some(a)) => Some(
                    parse_period_ms(a)
                        .ok_or_else(|| StoreError::BadPeriod { name: name.into(), arg: a.into() })?,
                ),
            };
            self.add(ty, period)?;
        }
        Ok(())
    }

    /// Adds one type; `period` (ms, > 0) is required for rates and refused
    /// otherwise.
    pub fn add(&mut self, ty: DataType, period: Option<u32>) -> Result<(), StoreError> {
        if self.contains(ty) {
            return Err(StoreError::Duplicate(ty.name().into()));
        }
        let period = match (ty.is_rate(), period) {
            (true, Some(p)) if p > 0 => p,
            (true, Some(p)) => {
                return Err(StoreError::BadPeriod { name: ty.name().into(), arg: p.to_string() });
            }
            (true, None) => return Err(StoreError::MissingArg(ty.name().into())),
            (false, Some(_)) => return Err(StoreError::UnexpectedArg(ty.name().into())),
            (false, None) => 0,
        };
        self.items.push((ty, period));
        Ok(())
    }

    pub fn contains(&self, ty: DataType) -> bool {
        self.items.iter().any(|&(t, _)| t == ty)
    }

    /// The period of a stored rate.
    pub fn period(&self, ty: DataType) -> Option<u32> {
        self.items.iter().find(|&&(t, _)| t == ty).map(|&(_, p)| p)
    }

    /// Stored types with periods, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (DataType, u32)> + '_ {
        self.items.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// HAProxy's time format with milliseconds as default unit: `10s`, `500`,
/// `1m`, `2h`, `1d`, `1500ms`, `100us` (rounded up). `None` for anything
/// else, for 0, and for periods of 2^31 ms or more.
pub fn parse_period_ms(text: &str) -> Option<u32> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let value: u64 = text[..digits].parse().ok()?;
    let ms = match &text[digits..] {
        "" | "ms" => Some(value),
        "us" => Some(value.div_ceil(1000)),
        "s" => value.checked_mul(1000),
        "m" => value.checked_mul(60_000),
        "h" => value.checked_mul(3_600_000),
        "d" => value.checked_mul(86_400_000),
        _ => None,
    }?;
    if ms == 0 || ms >= 1 << 31 {
        return None;
    }
    u32::try_from(ms).ok()
}

/// Where each stored type lives in an entry's data block, computed once per
/// table. Offsets are in 32-bit words from the start of the data block.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    offs: [u16; NB_TYPES],    // word offset, NONE if not stored
    periods: [u32; NB_TYPES], // rate periods in ms
    words: usize,             // size of the data block in words
}

const NONE: u16 = u16::MAX;

impl Layout {
    /// Packs the stored types in display order: 64-bit counters are kept as
    /// two 32-bit words, so no padding is ever needed.
    pub(crate) fn new(store: &Store) -> Layout {
        let mut l = Layout { offs: [NONE; NB_TYPES], periods: [0; NB_TYPES], words: 0 };
        for ty in DataType::ALL {
            if let Some(p) = store.period(ty) {
                l.offs[ty.index()] = l.words as u16;
                l.periods[ty.index()] = p;
                l.words += ty.words();
            }
        }
        l
    }

    pub(crate) fn off(&self, ty: DataType) -> Option<usize> {
        match self.offs[ty.index()] {
            NONE => None,
            o => Some(usize::from(o)),
        }
    }

    pub(crate) fn period(&self, ty: DataType) -> u32 {
        self.periods[ty.index()]
    }

    pub(crate) fn words(&self) -> usize {
        self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stick_store_parses_lists_and_periods() {
        let mut s = Store::parse("conn_cur,conn_cnt,http_req_rate(10s)").unwrap();
        s.add_list("gpc0,bytes_out_rate(1m)").unwrap();
        assert_eq!(s.period(DataType::HttpReqRate), Some(10_000));
        assert_eq!(s.period(DataType::BytesOutRate), Some(60_000));
        assert_eq!(s.period(DataType::ConnCur), Some(0));
        assert!(!s.contains(DataType::HttpErrCnt));
        let l = Layout::new(&s);
        // display order: gpc0, conn_cnt, conn_cur, http_req_rate, bytes_out_rate
        assert_eq!(l.off(DataType::Gpc0), Some(0));
        assert_eq!(l.off(DataType::ConnCnt), Some(1));
        assert_eq!(l.off(DataType::ConnCur), Some(2));
        assert_eq!(l.off(DataType::HttpReqRate), Some(3));
        assert_eq!(l.off(DataType::BytesOutRate), Some(6));
        assert_eq!(l.words(), 9);
        assert_eq!(l.off(DataType::SessCnt), None);
    }

    #[test]
    fn stick_store_errors_have_haproxy_wording() {
        let e = |l: &str| Store::parse(l).unwrap_err().to_string();
        assert_eq!(e("conn_cur,foo"), "stick-table: unknown store option 'foo'.");
        assert_eq!(e("conn_cur,conn_cur"), "stick-table: store option 'conn_cur' already enabled, ignored.");
        assert_eq!(e("conn_rate"), "stick-table: missing argument to store option 'conn_rate'.");
        assert_eq!(e("conn_cnt(10s)"), "stick-table: unexpected argument to store option 'conn_cnt'.");
        assert_eq!(
            e("conn_rate(10s"),
            "stick-table: missing closing parenthesis after store option 'conn_rate'."
        );
        assert_eq!(
            e("conn_rate(10x)"),
            "stick-table: invalid period '10x' in argument to store option 'conn_rate'."
        );
        assert_eq!(
            e("conn_rate(0)"),
            "stick-table: invalid period '0' in argument to store option 'conn_rate'."
        );
        let mut s = Store::parse("gpc0").unwrap();
        assert_eq!(s.add_list("gpc0").unwrap_err(), StoreError::Duplicate("gpc0".into()));
    }

    #[test]
    fn stick_periods() {
        assert_eq!(parse_period_ms("10s"), Some(10_000));
        assert_eq!(parse_period_ms("250"), Some(250));
        assert_eq!(parse_period_ms("250ms"), Some(250));
        assert_eq!(parse_period_ms("1500us"), Some(2));
        assert_eq!(parse_period_ms("2h"), Some(7_200_000));
        assert_eq!(parse_period_ms("1d"), Some(86_400_000));
        assert_eq!(parse_period_ms("30d"), None);
        assert_eq!(parse_period_ms("s"), None);
        assert_eq!(parse_period_ms("-1"), None);
    }

    #[test]
    fn stick_data_names_round_trip() {
        for t in DataType::ALL {
            assert_eq!(DataType::from_name(t.name()), Some(t));
        }
        assert!(DataType::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(DataType::from_name("server_key"), Some(DataType::ServerKey));
        assert_eq!(DataType::from_name("gpc"), None);
    }
}
