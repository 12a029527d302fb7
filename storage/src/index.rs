//! Pruning: which parts and granules may hold rows a filter wants.
//!
//! The query layer turns its WHERE clause into `ColumnRange`s (one conjunction of per-column
//! intervals). A part is skipped when a range misses the part's min/max; a granule is skipped
//! when the sparse primary index proves its key values fall outside a range.

use std::cmp::Ordering;
use std::ops::Bound;

use crate::column::Column;
use crate::value::Value;

/// An interval of values one column must fall into.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRange {
    /// Index of the column in the table layout.
    pub column: usize,
    /// Lower bound.
    pub lo: Bound<Value>,
    /// Upper bound.
    pub hi: Bound<Value>,
}

impl ColumnRange {
    /// True when some value in `[min, max]` lies within the range.
    pub fn overlaps(&self, min: &Value, max: &Value) -> bool {
        let above_lo = match &self.lo {
            Bound::Unbounded => true,
            Bound::Included(lo) => max.compare(lo) != Ordering::Less,
            Bound::Excluded(lo) => max.compare(lo) == Ordering::Greater,
        };
        let below_hi = match &self.hi {
            Bound::Unbounded => true,
            Bound::Included(hi) => min.compare(hi) != Ordering::Greater,
            Bound::Excluded(hi) => min.compare(hi) == Ordering::Less,
        };
        above_lo && below_hi
    }

    /// The intersection of two ranges on the same column.
    pub fn intersect(&self, other: &ColumnRange) -> ColumnRange {
        let lo = tighter(&self.lo, &other.lo, Ordering::Greater);
        let hi = tighter(&self.hi, &other.hi, Ordering::Less);
        ColumnRange { column: self.column, lo, hi }
    }
}

/// Picks the more restrictive of two bounds: the larger lower bound (`want` = Greater) or
/// the smaller upper bound (`want` = Less); on a tie an excluded bound wins.
fn tighter(a: &Bound<Value>, b: &Bound<Value>, want: Ordering) -> Bound<Value> {
    let value = |x: &Bound<Value>| match x {
        Bound::Included(v) | Bound::Excluded(v) => Some(v.clone()),
        Bound::Unbounded => None,
    };
    match (value(a), value(b)) {
        (None, _) => b.clone(),
        (_, None) => a.clone(),
        (Some(x), Some(y)) => match x.compare(&y) {
            o if o == want => a.clone(),
            Ordering::Equal if matches!(a, Bound::Excluded(_)) => a.clone(),
            Ordering::Equal => b.clone(),
            _ => b.clone(),
        },
    }
}

/// Whether granule `g` may hold rows inside every range. `index[p]` holds key column `p` at
/// each granule start plus the last row; `ranges` pairs a key position with its range.
///
/// Rows are sorted by the whole key, so key column `p` is bounded by the granule's first row
/// and the next granule's first row only while all earlier key columns are equal at both ends.
pub fn granule_may_match(index: &[Column], g: usize, ranges: &[(usize, &ColumnRange)]) -> bool {
    ranges.iter().all(|(p, range)| {
        let prefix_constant = (0..*p).all(|q| index[q].cmp_rows(g, &index[q], g + 1) == Ordering::Equal);
        !prefix_constant || range.overlaps(&index[*p].value(g), &index[*p].value(g + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_and_intersection() {
        let r = ColumnRange { column: 0, lo: Bound::Excluded(Value::Int(10)), hi: Bound::Included(Value::Int(20)) };
        assert!(!r.overlaps(&Value::Int(0), &Value::Int(10)));
        assert!(r.overlaps(&Value::Int(20), &Value::Int(30)));
        assert!(!r.overlaps(&Value::Int(21), &Value::Int(30)));
        let s = ColumnRange { column: 0, lo: Bound::Included(Value::Int(10)), hi: Bound::Excluded(Value::Int(15)) };
        let both = r.intersect(&s);
        assert_eq!(both.lo, Bound::Excluded(Value::Int(10)));
        assert_eq!(both.hi, Bound::Excluded(Value::Int(15)));
    }
}
