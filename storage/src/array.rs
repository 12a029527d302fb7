//! `Array(T)` rows. An array column stores one byte string per row: the element count as
//! LEB128, then the elements in the column encoding of `T` (`Column::encode`). Rows stay
//! self-contained, so every byte-string operation (filter, take, append, part files) works on
//! arrays unchanged; element-wise work decodes a row into a `T` column.

use std::cmp::Ordering;

use crate::column::{read_varint, write_varint, Column};
use crate::error::{Result, StorageError};
use crate::types::DataType;

/// Appends the row encoding of all of `items` (one array) to `out`.
pub fn encode_row(items: &Column, out: &mut Vec<u8>) {
    write_varint(items.len() as u64, out);
    items.encode(0, items.len(), out);
}

/// Decodes one array row into a column of its elements.
pub fn decode_row(element: &DataType, bytes: &[u8]) -> Result<Column> {
    let (len, n) = read_varint(bytes).ok_or_else(|| StorageError::Invalid("array row has no length".into()))?;
    let mut items = Column::with_capacity(element.clone(), len as usize);
    items.decode_append(&bytes[n..], len as usize)?;
    Ok(items)
}

/// The number of elements of an array row (without decoding them).
pub fn row_len(bytes: &[u8]) -> usize {
    read_varint(bytes).map_or(0, |(len, _)| len as usize)
}

/// Orders two array rows element by element; a prefix sorts first.
pub fn cmp_rows(element: &DataType, a: &[u8], b: &[u8]) -> Ordering {
    let (Ok(x), Ok(y)) = (decode_row(element, a), decode_row(element, b)) else { return a.cmp(b) };
    (0..x.len().min(y.len())).map(|i| x.cmp_rows(i, &y, i)).find(|o| o.is_ne()).unwrap_or_else(|| x.len().cmp(&y.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn rows_round_trip_and_order() {
        let ty = DataType::Array(Box::new(DataType::String));
        let rows = [vec![], vec!["a", "b"], vec!["a"], vec!["it's"]];
        let values: Vec<Value> = rows.iter().map(|r| Value::Array(r.iter().map(|s| Value::String(s.to_string())).collect())).collect();
        let col = Column::from_values(ty, &values).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(&col.value(i), v);
        }
        assert_eq!(col.cmp_rows(0, &col, 2), Ordering::Less);
        assert_eq!(col.cmp_rows(2, &col, 1), Ordering::Less);
        assert_eq!(col.cmp_rows(1, &col, 3), Ordering::Less);
        let nums = Column::from_values(DataType::Array(Box::new(DataType::UInt32)), &[Value::Array(vec![Value::UInt(10)]), Value::Array(vec![Value::UInt(9), Value::UInt(1)])]).unwrap();
        assert_eq!(nums.cmp_rows(0, &nums, 1), Ordering::Greater);
    }
}
