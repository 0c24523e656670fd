//! Names to symbol ids. The table holds ids only: a name is read from its symbol, so each name
//! is stored once (an `mlp` of 256-256-256-1 has 132k of them).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rustc_hash::FxBuildHasher;

use super::{Symbol, SymbolId};

/// Every symbol's id, found by its name. Symbols are never renamed once indexed.
#[derive(Clone, Debug, Default)]
pub(super) struct NameIndex {
    table: HashTable<SymbolId>,
}

fn hash(name: &str) -> u64 {
    FxBuildHasher.hash_one(name)
}

impl NameIndex {
    /// The symbol named `name`.
    pub fn get(&self, symbols: &[Symbol], name: &str) -> Option<SymbolId> {
        self.table
            .find(hash(name), |&id| symbols[id.index()].name == name)
            .copied()
    }

    /// Records that `id` is named `name` (its symbol may not be in `symbols` yet), unless the
    /// name is taken: then the id that has it.
    pub fn insert(&mut self, symbols: &[Symbol], name: &str, id: SymbolId) -> Result<(), SymbolId> {
        let entry = self.table.entry(
            hash(name),
            |&other| symbols[other.index()].name == name,
            |&other| hash(&symbols[other.index()].name),
        );
        match entry {
            Entry::Occupied(entry) => Err(*entry.get()),
            Entry::Vacant(entry) => {
                entry.insert(id);
                Ok(())
            }
        }
    }

    /// Makes room for `additional` more names.
    pub fn reserve(&mut self, symbols: &[Symbol], additional: usize) {
        self.table
            .reserve(additional, |&id| hash(&symbols[id.index()].name));
    }
}
