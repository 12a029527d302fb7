//! Which parts to merge (a size-tiered choice among adjacent parts of one partition), and
//! the k-way merge that streams their rows in sort-key order.
//!
//! Merging keeps the number of active parts small, so that queries open few files and the
//! sparse index stays effective. Small parts merge first; a merged part never exceeds
//! `MergePolicy::max_rows`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;

use crate::block::Block;
use crate::column::Column;
use crate::error::{Result, StorageError};
use crate::part::{ColumnSpec, Part};
use crate::table::{part_block_range, Snapshot};

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

/// What a merge selection looks for beyond the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    /// Take every part of the partition that fits (OPTIMIZE … FINAL).
    pub whole_partition: bool,
    /// Also rewrite a partition's single part if no merge has folded it yet (level 0), so
    /// that OPTIMIZE … FINAL collapses rows of equal keys within one insert.
    pub fold_single: bool,
    /// Only this partition (by id).
    pub partition: Option<&'a str>,
}

/// Picks the next merge: in the partition with the most parts, the window of adjacent parts
/// (by block number) with the fewest rows among the longest windows that fit `max_rows`.
pub fn select_merge(snapshot: &Snapshot, policy: &MergePolicy, selection: Selection) -> Option<Vec<Arc<Part>>> {
    let mut partitions: BTreeMap<String, Vec<Arc<Part>>> = BTreeMap::new();
    for part in &snapshot.parts {
        partitions.entry(part.partition_id().to_string()).or_default().push(part.clone());
    }
    let mut best: Option<Vec<Arc<Part>>> = None;
    for (id, mut parts) in partitions {
        if selection.partition.is_some_and(|p| p != id) {
            continue;
        }
        if selection.fold_single && parts.len() == 1 && parts[0].level() == 0 {
            if best.is_none() {
                best = Some(parts);
            }
            continue;
        }
        if parts.len() <= policy.min_parts {
            continue;
        }
        parts.sort_by_key(|p| part_block_range(&p.name).map_or(0, |r| r.0));
        let max_len = if selection.whole_partition { parts.len() } else { policy.max_parts.min(parts.len()) };
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

/// One sorted input of a k-way merge: some granule ranges of a part.
#[derive(Debug, Clone)]
pub struct MergeSource {
    /// The part to read.
    pub part: Arc<Part>,
    /// Granule ranges to read, ascending.
    pub granules: Vec<Range<usize>>,
}

impl MergeSource {
    /// Every granule of `part`.
    pub fn whole(part: Arc<Part>) -> MergeSource {
        let granules = std::iter::once(0..part.meta.granules()).collect();
        MergeSource { part, granules }
    }
}

/// Rows read from one source at a time; bounds a merge's memory to a few chunks per source.
const CHUNK_ROWS: usize = 65_536;

/// Streams the rows of several sources, each sorted by the key, as one sorted sequence of
/// blocks of at most `CHUNK_ROWS` rows. Rows with equal keys come in source order, so a
/// later part's row follows an earlier part's row with the same key.
pub struct MergeStream {
    cursors: Vec<Cursor>,
    /// Live cursors, ordered by (current row's key, source position).
    order: Vec<usize>,
    columns: Vec<ColumnSpec>,
    key: Vec<usize>,
}

struct Cursor {
    part: Arc<Part>,
    /// The part's column index for each output column.
    columns: Vec<usize>,
    chunks: VecDeque<Range<usize>>,
    block: Block,
    pos: usize,
}

impl Cursor {
    /// Loads the next chunk; false when the source is exhausted.
    fn refill(&mut self) -> Result<bool> {
        let Some(granules) = self.chunks.pop_front() else { return Ok(false) };
        let mut columns = Vec::with_capacity(self.columns.len());
        for &c in &self.columns {
            columns.push(self.part.read_column(c, granules.clone())?);
        }
        let rows = self.part.meta.rows_in(granules);
        self.block = Block::with_rows(columns, rows);
        self.pos = 0;
        Ok(true)
    }
}

impl MergeStream {
    /// Opens a merge of `sources` (in the order that breaks key ties) over `columns`, whose
    /// positions `key` form the sort key. Every source must hold every column.
    pub fn new(sources: Vec<MergeSource>, columns: &[ColumnSpec], key: &[usize]) -> Result<MergeStream> {
        let mut cursors = Vec::with_capacity(sources.len());
        for source in sources {
            let mut indexes = Vec::with_capacity(columns.len());
            for spec in columns {
                indexes.push(source.part.column_index(&spec.name).ok_or_else(|| StorageError::Corrupt {
                    path: source.part.path.clone(),
                    reason: format!("missing column {}", spec.name),
                })?);
            }
            let mut chunks = VecDeque::new();
            for range in source.granules {
                let mut start = range.start;
                while start < range.end {
                    let mut end = start;
                    let mut rows = 0;
                    while end < range.end && (end == start || rows + source.part.meta.granule_rows(end) <= CHUNK_ROWS) {
                        rows += source.part.meta.granule_rows(end);
                        end += 1;
                    }
                    chunks.push_back(start..end);
                    start = end;
                }
            }
            let empty = Block::with_rows(Vec::new(), 0);
            cursors.push(Cursor { part: source.part, columns: indexes, chunks, block: empty, pos: 0 });
        }
        let mut stream = MergeStream { cursors, order: Vec::new(), columns: columns.to_vec(), key: key.to_vec() };
        for i in 0..stream.cursors.len() {
            if stream.cursors[i].refill()? {
                stream.insert(i);
            }
        }
        Ok(stream)
    }

    /// Compares row `a` of cursor `x` with the current row of cursor `y`, ties broken by
    /// source position.
    fn cmp_rows(&self, x: usize, a: usize, y: usize) -> Ordering {
        let (cx, cy) = (&self.cursors[x], &self.cursors[y]);
        self.key
            .iter()
            .map(|&k| cx.block.columns[k].cmp_rows(a, &cy.block.columns[k], cy.pos))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.cmp(&y))
    }

    /// Puts a live cursor into `order` at its place.
    fn insert(&mut self, i: usize) {
        let pos = self.cursors[i].pos;
        let at = self.order.iter().position(|&j| self.cmp_rows(i, pos, j).is_lt()).unwrap_or(self.order.len());
        self.order.insert(at, i);
    }

    fn next_block(&mut self) -> Result<Option<Block>> {
        let mut segments: Vec<(Block, Range<usize>)> = Vec::new();
        let mut rows = 0;
        while rows < CHUNK_ROWS && !self.order.is_empty() {
            let c = self.order.remove(0);
            let (start, len) = (self.cursors[c].pos, self.cursors[c].block.rows());
            // The run of `c` that sorts before the next cursor's current row.
            let end = match self.order.first() {
                None => len,
                Some(&d) if self.cmp_rows(c, len - 1, d).is_lt() => len,
                Some(&d) => {
                    let (mut lo, mut hi) = (start + 1, len - 1);
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if self.cmp_rows(c, mid, d).is_lt() {
                            lo = mid + 1;
                        } else {
                            hi = mid;
                        }
                    }
                    lo
                }
            };
            let end = end.min(start + CHUNK_ROWS - rows);
            segments.push((self.cursors[c].block.clone(), start..end));
            rows += end - start;
            self.cursors[c].pos = end;
            if end < len || self.cursors[c].refill()? {
                self.insert(c);
            }
        }
        if segments.is_empty() {
            return Ok(None);
        }
        if segments.len() == 1 {
            let (block, range) = segments.pop().expect("one segment");
            return Ok(Some(block.slice(range.start, range.len())));
        }
        let columns = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let mut out = Column::with_capacity(spec.ty.clone(), rows);
                for (block, range) in &segments {
                    out.append_range(&block.columns[i], range.clone());
                }
                Arc::new(out)
            })
            .collect();
        Ok(Some(Block::with_rows(columns, rows)))
    }
}

impl Iterator for MergeStream {
    type Item = Result<Block>;

    fn next(&mut self) -> Option<Result<Block>> {
        self.next_block().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::part::{write_part, TableLayout};
    use crate::types::DataType;
    use crate::value::Value;

    #[test]
    fn k_way_merge_is_sorted_and_stable_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let columns = vec![
            ColumnSpec { name: "k".into(), ty: DataType::UInt64, codec: Codec::Lz4, filter: None },
            ColumnSpec { name: "src".into(), ty: DataType::UInt8, codec: Codec::Lz4, filter: None },
        ];
        let layout = TableLayout { columns: columns.clone(), sort_key: vec![0], granularity: 1000, mode: Default::default(), skip_indexes: Vec::new() };
        // Two interleaved parts bigger than a chunk, and a third that repeats keys of the first.
        let inputs: [Vec<u64>; 3] = [(0..140_000).step_by(2).collect(), (1..140_001).step_by(2).collect(), (0..140_000).step_by(1000).collect()];
        let mut sources = Vec::new();
        for (i, keys) in inputs.iter().enumerate() {
            let k = Column::from_values(DataType::UInt64, &keys.iter().map(|&k| Value::UInt(k)).collect::<Vec<_>>()).unwrap();
            let src = Column::from_values(DataType::UInt8, &vec![Value::UInt(i as u64); keys.len()]).unwrap();
            let path = dir.path().join(format!("all_{i}_{i}_0"));
            write_part(&path, &layout, &Block::new(vec![Arc::new(k), Arc::new(src)]), None, vec![]).unwrap();
            sources.push(MergeSource::whole(Arc::new(Part::open(&path).unwrap())));
        }
        let mut rows = Vec::new();
        for block in MergeStream::new(sources, &columns, &[0]).unwrap() {
            let block = block.unwrap();
            assert!(block.rows() <= CHUNK_ROWS);
            rows.extend((0..block.rows()).map(|r| (block.columns[0].value(r), block.columns[1].value(r))));
        }
        assert_eq!(rows.len(), 140_000 + 140);
        assert!(rows.windows(2).all(|w| w[0].0.compare(&w[1].0).is_le()), "sorted by key");
        assert_eq!(rows[0], (Value::UInt(0), Value::UInt(0)));
        assert_eq!(rows[1], (Value::UInt(0), Value::UInt(2)), "an equal key keeps source order");
        assert_eq!(rows[2], (Value::UInt(1), Value::UInt(1)));
    }
}
