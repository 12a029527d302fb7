//! Which parts to merge: a size-tiered choice among adjacent parts of one partition.
//!
//! Merging keeps the number of active parts small, so that queries open few files and the
//! sparse index stays effective. Small parts merge first; a merged part never exceeds
//! `MergePolicy::max_rows`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::part::Part;
use crate::table::{part_block_range, partition_id, Snapshot};

/// Limits of the merge selection.
#[derive(Debug, Clone, Copy)]
pub struct MergePolicy {
    /// At most this many parts go into one merge.
    pub max_parts: usize,
    /// A merge result may not have more rows than this.
    pub max_rows: usize,
    /// A partition with at most this many parts is left alone (OPTIMIZE ignores it).
    pub min_parts: usize,
}

impl Default for MergePolicy {
    fn default() -> Self {
        MergePolicy { max_parts: 10, max_rows: 64 * 1024 * 1024, min_parts: 1 }
    }
}

/// Picks the next merge: in the partition with the most parts, the window of adjacent parts
/// (by block number) with the fewest rows among the longest windows that fit `max_rows`.
/// With `whole_partition`, every part of that partition that fits is taken (OPTIMIZE).
pub fn select_merge(snapshot: &Snapshot, policy: &MergePolicy, whole_partition: bool) -> Option<Vec<Arc<Part>>> {
    let mut partitions: BTreeMap<String, Vec<Arc<Part>>> = BTreeMap::new();
    for part in &snapshot.parts {
        partitions.entry(partition_id(&part.meta.partition)).or_default().push(part.clone());
    }
    let mut best: Option<Vec<Arc<Part>>> = None;
    for (_, mut parts) in partitions {
        if parts.len() <= policy.min_parts {
            continue;
        }
        parts.sort_by_key(|p| part_block_range(&p.name).map_or(0, |r| r.0));
        let max_len = if whole_partition { parts.len() } else { policy.max_parts.min(parts.len()) };
        let mut chosen: Option<(usize, usize, usize)> = None; // (len, rows, start)
        for len in (2..=max_len).rev() {
            for start in 0..=parts.len() - len {
                let rows: usize = parts[start..start + len].iter().map(|p| p.rows()).sum();
                if rows <= policy.max_rows && chosen.is_none_or(|(_, r, _)| rows < r) {
                    chosen = Some((len, rows, start));
                }
            }
            if chosen.is_some() {
                break;
            }
        }
        if let Some((len, _, start)) = chosen {
            let window = parts[start..start + len].to_vec();
            if best.as_ref().is_none_or(|b| window.len() > b.len()) {
                best = Some(window);
            }
        }
    }
    best
}
