//! Sorting a block by a table's sort key, as every insert does before it writes a part.
//!
//! Comparing rows column by column (strings by `memcmp`) costs most of an insert. Instead each
//! row gets its key packed into one `u128`, most significant column first: a low-cardinality
//! string becomes its rank among the block's distinct values, another string its leading
//! bytes, an integer its offset from the block's minimum in as few bits as the block's range
//! needs. Rows then sort as integers. Only when the key did not fit (or a column cannot be
//! packed: floats, NULLs, arrays) do rows whose packed prefixes tie compare column by column.

use std::cmp::Ordering;

use hashbrown::HashMap;

use crate::column::{Column, ColumnData};
use crate::Block;

/// Strings with at most this many distinct values in a block are packed as ranks.
const MAX_RANKED: usize = 4096;

/// Sorts a block by the given key columns (stable, so equal keys keep insertion order).
pub fn sort_block(block: &Block, key: &[usize]) -> Block {
    match sort_order(block, key, None) {
        Some(order) => block.take(&order),
        None => block.clone(),
    }
}

/// The numbers of `block`'s rows `rows` (all of them when `None`; else ascending row
/// numbers, such as one partition's rows) sorted by the key columns (stable), or `None` when
/// they are all the block's rows and in that order already. A caller can then copy the rows
/// over in slices of its own size rather than the whole block at once.
pub fn sort_order(block: &Block, key: &[usize], rows: Option<&[u32]>) -> Option<Vec<u32>> {
    let cols: Vec<&Column> = key.iter().map(|&k| block.columns[k].as_ref()).collect();
    let compare = |a: u32, b: u32| {
        cols.iter().map(|c| c.cmp_rows(a as usize, c, b as usize)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
    };
    let in_order = |a: u32, b: u32| compare(a, b).is_le();
    match rows {
        None if key.is_empty() || (1..block.rows() as u32).all(|r| in_order(r - 1, r)) => return None,
        Some(rows) if key.is_empty() || rows.windows(2).all(|w| in_order(w[0], w[1])) => return Some(rows.to_vec()),
        _ => {}
    }
    let (prefixes, exact) = pack(&cols, block.rows());
    // The row number in the low bits of the pair keeps equal keys in insertion order.
    let mut order: Vec<(u128, u32)> = match rows {
        None => prefixes.into_iter().zip(0u32..).collect(),
        Some(rows) => rows.iter().map(|&r| (prefixes[r as usize], r)).collect(),
    };
    order.sort_unstable();
    let mut perm: Vec<u32> = order.iter().map(|&(_, row)| row).collect();
    if !exact {
        let mut start = 0;
        while start < order.len() {
            let end = start + order[start..].iter().take_while(|p| p.0 == order[start].0).count();
            if end - start > 1 {
                perm[start..end].sort_by(|&a, &b| compare(a, b));
            }
            start = end;
        }
    }
    Some(perm)
}

/// Each row's packed key prefix, and whether the prefixes order the rows exactly as the
/// columns do (else ties must be broken by comparing the columns).
fn pack(cols: &[&Column], rows: usize) -> (Vec<u128>, bool) {
    let mut prefixes = vec![0u128; rows];
    let mut free = 128u32;
    for column in cols {
        if free == 0 {
            return (prefixes, false);
        }
        let Some(packed) = (if column.nulls.is_some() || column.ty.element().is_some() { None } else { Packed::of(column, free) }) else {
            return (prefixes, false);
        };
        let bits = packed.bits.min(free);
        let drop = packed.bits - bits;
        if bits > 0 {
            for (prefix, &v) in prefixes.iter_mut().zip(&packed.values) {
                *prefix = (*prefix << bits) | (v >> drop) as u128;
            }
        }
        free -= bits;
        if drop > 0 || !packed.exact {
            // The rest of the prefix stays zero; ties are resolved by comparing columns.
            align(&mut prefixes, free);
            return (prefixes, false);
        }
    }
    align(&mut prefixes, free);
    (prefixes, true)
}

/// Moves the packed columns to the top of the prefixes, so that all rows compare alike.
fn align(prefixes: &mut [u128], free: u32) {
    for prefix in prefixes.iter_mut() {
        *prefix = prefix.checked_shl(free).unwrap_or(0);
    }
}

/// One column's values as order-preserving unsigned integers of `bits` bits.
struct Packed {
    values: Vec<u64>,
    bits: u32,
    /// The integers order the rows exactly as the column does.
    exact: bool,
}

impl Packed {
    /// Packs a non-Nullable scalar column, in at most 64 bits; `None` for floats (whose
    /// comparison has NaN and signed zeros) and other layouts the packing does not know.
    fn of(column: &Column, free: u32) -> Option<Packed> {
        let keys: Vec<u64> = match &column.data {
            ColumnData::U8(v) => v.iter().map(|&x| x as u64).collect(),
            ColumnData::U16(v) => v.iter().map(|&x| x as u64).collect(),
            ColumnData::U32(v) => v.iter().map(|&x| x as u64).collect(),
            ColumnData::U64(v) => v.clone(),
            ColumnData::I8(v) => v.iter().map(|&x| (x as i64 as u64) ^ (1 << 63)).collect(),
            ColumnData::I16(v) => v.iter().map(|&x| (x as i64 as u64) ^ (1 << 63)).collect(),
            ColumnData::I32(v) => v.iter().map(|&x| (x as i64 as u64) ^ (1 << 63)).collect(),
            ColumnData::I64(v) => v.iter().map(|&x| (x as u64) ^ (1 << 63)).collect(),
            ColumnData::F32(_) | ColumnData::F64(_) => return None,
            ColumnData::Bytes(_) => return Some(Packed::strings(column, free)),
        };
        let (min, max) = keys.iter().fold((u64::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
        let bits = 64 - (max - min).leading_zeros();
        let mut values = keys;
        values.iter_mut().for_each(|k| *k -= min);
        Some(Packed { values, bits, exact: true })
    }

    /// Ranks when the block holds few distinct strings, else the leading bytes (big-endian,
    /// zero-padded) in what is left of the prefix, exact when every string fits and none
    /// holds a zero byte (which padding could not tell apart).
    fn strings(column: &Column, free: u32) -> Packed {
        let ColumnData::Bytes(data) = &column.data else { unreachable!("a string column") };
        let rows = data.len();
        let mut ids: HashMap<&[u8], u32> = HashMap::new();
        let mut row_ids = Vec::with_capacity(rows);
        for value in data.iter() {
            let next = ids.len() as u32;
            row_ids.push(*ids.entry(value).or_insert(next));
            if ids.len() > MAX_RANKED {
                break;
            }
        }
        if ids.len() <= MAX_RANKED {
            let mut distinct: Vec<(&[u8], u32)> = ids.into_iter().collect();
            distinct.sort_unstable();
            let mut rank = vec![0u64; distinct.len()];
            for (r, (_, id)) in distinct.iter().enumerate() {
                rank[*id as usize] = r as u64;
            }
            let bits = 64 - (distinct.len() as u64 - 1).leading_zeros();
            return Packed { values: row_ids.into_iter().map(|id| rank[id as usize]).collect(), bits, exact: true };
        }
        let longest = data.iter().map(<[u8]>::len).max().unwrap_or(0);
        let width = longest.min(8).min(free as usize / 8);
        let values = data
            .iter()
            .map(|v| {
                let mut bytes = [0u8; 8];
                let n = v.len().min(width);
                bytes[..n].copy_from_slice(&v[..n]);
                u64::from_be_bytes(bytes).checked_shr(64 - 8 * width as u32).unwrap_or(0)
            })
            .collect();
        let exact = longest <= width && memchr::memchr(0, &data.bytes).is_none();
        Packed { values, bits: 8 * width as u32, exact }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::column::StringData;
    use crate::DataType;

    fn strings(values: &[&str]) -> Column {
        let mut data = StringData::with_capacity(values.len());
        for v in values {
            data.push(v.as_bytes());
        }
        Column::new(DataType::String, ColumnData::Bytes(data))
    }

    /// The packed sort gives the order of a plain column-by-column stable sort, for keys that
    /// fit the prefix and keys that do not.
    #[test]
    fn packed_sort_matches_a_comparison_sort() {
        let n = 5000usize;
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let tenants: Vec<String> = (0..n).map(|_| format!("t{:02}", next() % 20)).collect();
        let users: Vec<String> = (0..n).map(|_| format!("user-{}", next() % 70_000)).collect();
        let ids: Vec<String> = (0..n).map(|_| format!("{:x}", next() % 1_000_000)).collect();
        let long: Vec<String> = (0..n).map(|_| format!("a-very-long-common-prefix-{}", next() % 50)).collect();
        let days: Vec<u16> = (0..n).map(|_| 20_000 + (next() % 40) as u16).collect();
        let ts: Vec<i64> = (0..n).map(|_| next() as i64 - 1_000_000).collect();
        let block = Block::new(vec![
            Arc::new(strings(&tenants.iter().map(String::as_str).collect::<Vec<_>>())),
            Arc::new(strings(&users.iter().map(String::as_str).collect::<Vec<_>>())),
            Arc::new(strings(&long.iter().map(String::as_str).collect::<Vec<_>>())),
            Arc::new(Column::new(DataType::Date, ColumnData::U16(days))),
            Arc::new(Column::new(DataType::Int64, ColumnData::I64(ts))),
            Arc::new(Column::new(DataType::UInt32, ColumnData::U32((0..n as u32).collect()))),
            Arc::new(strings(&ids.iter().map(String::as_str).collect::<Vec<_>>())),
        ]);
        // Ranked strings, leading bytes that hold whole strings (6) or not (1), numbers, and
        // keys too wide for the prefix.
        for key in [vec![0, 3, 1, 4], vec![0, 2, 4], vec![1, 4], vec![3, 0], vec![2, 1], vec![6, 4], vec![0, 6, 3, 4], vec![6, 1, 2]] {
            let sorted = sort_block(&block, &key);
            let mut perm: Vec<u32> = (0..n as u32).collect();
            perm.sort_by(|&a, &b| {
                key.iter()
                    .map(|&k| block.columns[k].cmp_rows(a as usize, &block.columns[k], b as usize))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            });
            assert_eq!(sorted, block.take(&perm), "key {key:?}");
            // One partition's rows (two of every three) sort as the whole block's do.
            let subset: Vec<u32> = (0..n as u32).filter(|r| r % 3 != 1).collect();
            let expected: Vec<u32> = perm.iter().copied().filter(|r| r % 3 != 1).collect();
            assert_eq!(sort_order(&block, &key, Some(&subset)), Some(expected), "key {key:?}, a subset");
        }
        // Rows in order already: all of them need no order, a subset is its own.
        let ordered = Block::new(vec![Arc::new(Column::new(DataType::UInt32, ColumnData::U32((0..10).collect())))]);
        assert_eq!(sort_order(&ordered, &[0], None), None);
        assert_eq!(sort_order(&ordered, &[0], Some(&[2, 5, 9])), Some(vec![2, 5, 9]));
    }
}
