//! How a column of a scan block holds its values when it does not hold them as they are.
//!
//! The scan may hand a String column to the GROUP BY as `UInt32` codes into its part's
//! dictionary, or as the numbers of ids made of one text and a number (`u1489982`), when
//! every consumer of the column can work on those (`AggregatePlan::columns_read_as_keys`,
//! `columns_read_as_numbers`): equal codes, or equal numbers after one text, are equal
//! strings, so grouping and distinct counts need never build the strings.

use std::sync::Arc;

use granary_storage::dict::{number_after, push_numbered};
use granary_storage::{Column, ColumnData, ColumnRef, DataType, StringData};

/// The form of one column of a block.
#[derive(Clone, Debug, Default)]
pub enum Coding {
    /// The values themselves.
    #[default]
    Plain,
    /// `UInt32` codes into a dictionary: its entries, as a column.
    Dict(ColumnRef),
    /// `UInt32` numbers, each standing for this text followed by the number's digits.
    Numbers(Arc<[u8]>),
}

impl Coding {
    /// The text before the numbers of a `Numbers` column.
    pub fn prefix(&self) -> Option<&Arc<[u8]>> {
        match self {
            Coding::Numbers(prefix) => Some(prefix),
            _ => None,
        }
    }

    /// The dictionary of a `Dict` column.
    pub fn dict(&self) -> Option<&ColumnRef> {
        match self {
            Coding::Dict(dict) => Some(dict),
            _ => None,
        }
    }

    /// The values a column in this form stands for.
    pub fn decode(&self, column: &ColumnRef) -> ColumnRef {
        match self {
            Coding::Plain => column.clone(),
            Coding::Dict(dict) => Arc::new(dict.take(numbers(column))),
            Coding::Numbers(prefix) => Arc::new(numbered_strings(prefix, numbers(column))),
        }
    }
}

/// The codes or numbers of a coded column.
pub fn numbers(column: &Column) -> &[u32] {
    match &column.data {
        ColumnData::U32(values) => values,
        _ => unreachable!("coded columns hold UInt32 values"),
    }
}

/// The rows of a String column that are `prefix` and a number in canonical form
/// (`dict::number_after`), with their numbers, and the other rows: a string read as text that
/// stands for the same id as a number read as a number must meet it.
pub fn split_numbered(column: &Column, prefix: &[u8]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let ColumnData::Bytes(strings) = &column.data else { unreachable!("numbered values are strings") };
    let (mut numbers, mut numbered_rows, mut other_rows) = (Vec::new(), Vec::new(), Vec::new());
    for row in 0..strings.len() {
        match number_after(strings.get(row), prefix) {
            Some(n) => {
                numbers.push(n);
                numbered_rows.push(row as u32);
            }
            None => other_rows.push(row as u32),
        }
    }
    (numbers, numbered_rows, other_rows)
}

/// The String column of `prefix` followed by each number's digits.
pub fn numbered_strings(prefix: &[u8], numbers: &[u32]) -> Column {
    let mut strings = StringData::default();
    push_numbered(&mut strings, prefix, numbers);
    Column::new(DataType::String, ColumnData::Bytes(strings))
}
