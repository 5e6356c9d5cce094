//! Converters that reach outside the sample: `set-var(name)` and
//! `unset-var(name)` (pass the sample on), `table_X(table)` and
//! `in_table(table)` (stick-table lookups of the sample as a key),
//! `nbsrv` (usable servers of the backend named by the sample), `debug`
//! (passes the sample on).

use super::{In, Res, arity};
use crate::acl::fetch::SmpType;
use crate::acl::source::{Sample, SampleSource};
use crate::acl::value::{assign_var, remove_var};
use crate::acl::vars::{VarName, VarTarget};

#[derive(Clone, Debug)]
pub(crate) enum MiscConv {
    SetVar(VarTarget),
    UnsetVar(VarName),
    Table { what: Box<str>, table: Box<str> }, // `table_conn_cur(t)`: what = conn_cur
    InTable(Box<str>),
    Nbsrv,
    Debug,
}

pub(super) fn parse(name: &str, args: &[String]) -> Option<Result<MiscConv, String>> {
    let one = || -> Result<&str, String> {
        arity(args, 1, 1)?;
        Ok(args[0].as_str())
    };
    Some(match name {
        "set-var" => {
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            VarTarget::parse(&words).map(MiscConv::SetVar)
        }
        "unset-var" => one().and_then(VarName::parse).map(MiscConv::UnsetVar),
        "in_table" => one().map(|t| MiscConv::InTable(t.into())),
        "nbsrv" => Ok(MiscConv::Nbsrv),
        "debug" => Ok(MiscConv::Debug),
        _ => {
            let what = name.strip_prefix("table_")?;
            if what != "trackers" && crate::stick::DataType::from_name(what).is_none() {
                return None;
            }
            one().map(|t| MiscConv::Table { what: what.into(), table: t.into() })
        }
    })
}

impl MiscConv {
    pub(super) fn input(&self) -> In {
        match self {
            MiscConv::Nbsrv => In::Str,
            _ => In::Any,
        }
    }

    pub(super) fn output(&self, input: SmpType) -> SmpType {
        match self {
            MiscConv::Table { .. } | MiscConv::Nbsrv => SmpType::Int,
            MiscConv::InTable(_) => SmpType::Bool,
            _ => input,
        }
    }

    pub(super) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Res> {
        match self {
            MiscConv::SetVar(v) => assign_var(src, v, s),
            MiscConv::UnsetVar(v) => remove_var(src, v),
            MiscConv::Table { what, table } => return src.table_value(table, what, s).map(Res::Int),
            MiscConv::InTable(table) => {
                return Some(Res::Bool(src.table_value(table, "trackers", s).is_some()));
            }
            MiscConv::Nbsrv => {
                let name = std::str::from_utf8(super::bytes(&s)).ok()?;
                return src.nbsrv(name).map(|n| Res::Int(i64::from(n)));
            }
            MiscConv::Debug => {}
        }
        Some(match s {
            Sample::Bool(b) => Res::Bool(b),
            Sample::Int(i) => Res::Int(i),
            Sample::Ip(a) => Res::Ip(a),
            Sample::Str(b) => {
                out.extend_from_slice(b);
                Res::Str
            }
            Sample::Bin(b) => {
                out.extend_from_slice(b);
                Res::Bin
            }
        })
    }
}
