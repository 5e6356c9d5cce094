//! The process's stick tables, indexed the way their owner chooses (the
//! runtime uses proxy indices: a proxy has at most one table, named after
//! it).

use super::table::{Table, TableDef};
use std::sync::Arc;

/// Every table of the configuration. Shared read-only; the tables
/// themselves are `Send + Sync`.
#[derive(Default, Clone)]
pub struct Registry {
    by_index: Vec<Option<Arc<Table>>>,
}

impl Registry {
    /// Builds one table per `Some` definition, keeping the indices.
    pub fn new(defs: impl IntoIterator<Item = Option<TableDef>>) -> Registry {
        Registry { by_index: defs.into_iter().map(|d| d.map(Table::new)).collect() }
    }

    pub fn get(&self, index: usize) -> Option<&Arc<Table>> {
        self.by_index.get(index).and_then(Option::as_ref)
    }

    /// The table named `name`, with its index.
    pub fn find(&self, name: &str) -> Option<(usize, &Arc<Table>)> {
        self.by_index
            .iter()
            .enumerate()
            .find_map(|(i, t)| t.as_ref().filter(|t| t.name() == name).map(|t| (i, t)))
    }

    /// Tables in declaration order.
    pub fn tables(&self) -> impl Iterator<Item = &Arc<Table>> {
        self.by_index.iter().flatten()
    }

    /// Gives every table the current time (once per event-loop turn), so
    /// releases by `Drop` use a fresh clock.
    pub fn set_now(&self, now_ms: u64) {
        for t in self.tables() {
            t.set_now(now_ms);
        }
    }

    /// Purges expired unreferenced entries of every table; returns the
    /// earliest next purge date.
    pub fn purge(&self, now_ms: u64) -> Option<u64> {
        self.tables()
            .filter_map(|t| {
                t.purge(now_ms);
                t.next_purge()
            })
            .min()
    }
}
