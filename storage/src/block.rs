//! A block: equal-length columns travelling together, the unit every operator passes on.

use std::sync::Arc;

use crate::column::{count_nonzero, Column, ColumnRef};

/// A batch of rows as columns. A block may have rows and no columns (`SELECT count()` reads
/// no column but must still count).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The columns, all `rows` long.
    pub columns: Vec<ColumnRef>,
    rows: usize,
}

impl Block {
    /// A block of columns; panics in debug builds if their lengths differ.
    pub fn new(columns: Vec<ColumnRef>) -> Block {
        let rows = columns.first().map_or(0, |c| c.len());
        debug_assert!(columns.iter().all(|c| c.len() == rows), "block columns differ in length");
        Block { columns, rows }
    }

    /// A block of `rows` rows and the given columns (which may be none).
    pub fn with_rows(columns: Vec<ColumnRef>, rows: usize) -> Block {
        debug_assert!(columns.iter().all(|c| c.len() == rows));
        Block { columns, rows }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// True when the block has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Column `i`.
    pub fn column(&self, i: usize) -> &ColumnRef {
        &self.columns[i]
    }

    /// Keeps the rows whose mask byte is non-zero.
    pub fn filter(&self, mask: &[u8]) -> Block {
        let rows = count_nonzero(mask);
        if rows == self.rows {
            return self.clone();
        }
        Block::with_rows(self.columns.iter().map(|c| Arc::new(c.filter(mask))).collect(), rows)
    }

    /// Gathers rows by index.
    pub fn take(&self, indices: &[u32]) -> Block {
        Block::with_rows(self.columns.iter().map(|c| Arc::new(c.take(indices))).collect(), indices.len())
    }

    /// Rows `start..start + len`.
    pub fn slice(&self, start: usize, len: usize) -> Block {
        if start == 0 && len == self.rows {
            return self.clone();
        }
        Block::with_rows(self.columns.iter().map(|c| Arc::new(c.slice(start, len))).collect(), len)
    }

    /// Concatenates blocks of the same shape into one.
    pub fn concat(blocks: &[Block]) -> Option<Block> {
        let first = blocks.first()?;
        if blocks.len() == 1 {
            return Some(first.clone());
        }
        let rows = blocks.iter().map(|b| b.rows).sum();
        let columns = (0..first.columns.len())
            .map(|i| {
                let parts: Vec<ColumnRef> = blocks.iter().map(|b| b.columns[i].clone()).collect();
                Arc::new(Column::concat(first.columns[i].ty.clone(), &parts))
            })
            .collect();
        Some(Block::with_rows(columns, rows))
    }
}
