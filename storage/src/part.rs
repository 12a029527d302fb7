//! One immutable part on disk: a directory holding, per column, a compressed data file
//! (`.bin`) and its marks (`.mrk`), plus the sparse primary index (`primary.idx`), the
//! metadata (`meta.json`) and a checksum list covering every other file (`checksums.json`).
//!
//! A part is written once under a temporary name, fsynced, and never changed afterwards.
//! Its rows are sorted by the table's sort key; granule `g` holds rows
//! `g * granularity .. min((g + 1) * granularity, rows)`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use memmap2::Mmap;
use serde::{Deserialize, Serialize};

use crate::block::Block;
use crate::codec::{read_frame, Codec, Filter};
use crate::collapse::MergeMode;
use crate::column::{Column, ColumnData, ColumnRef, StringData};
use crate::dict::{decode_codes, decode_dictionary, decode_granule, decode_numbers, entry_numbers, granule_equals, granule_passes, is_dictionary_capable, DictWriter};
use crate::error::{io_at, Result, StorageError};
use crate::index::{granule_may_match, ColumnRange};
use crate::skip::{SkipIndex, SkipIndexSpec, SkipIndexWriter};
use crate::types::DataType;
use crate::value::Value;

/// The part format this code writes (4: the numbers of decimal ids bit-packed, see `dict`).
pub const FORMAT_VERSION: u32 = 4;
/// The oldest part format this code reads (3: dictionary codes bit-packed, decimal ids as
/// 4-byte numbers).
const OLDEST_READABLE_FORMAT: u32 = 3;
/// Uncompressed bytes gathered before a frame is compressed (frames end on granule edges).
const MIN_FRAME_BYTES: usize = 64 * 1024;
const META_FILE: &str = "meta.json";
const CHECKSUMS_FILE: &str = "checksums.json";
const INDEX_FILE: &str = "primary.idx";

/// A column as a table declares it to storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSpec {
    /// Column name (may contain any character; file names are escaped).
    pub name: String,
    /// Declared type.
    pub ty: DataType,
    /// Compression of its data file.
    #[serde(default)]
    pub codec: Codec,
    /// Transform applied before compression (`Delta`, `DoubleDelta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

/// The physical layout of a table: what every part of it stores and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableLayout {
    /// All stored columns, in table order.
    pub columns: Vec<ColumnSpec>,
    /// Indexes into `columns` of the sort key, most significant first.
    pub sort_key: Vec<usize>,
    /// Rows per granule (one primary index entry and one mark each).
    pub granularity: usize,
    /// What merges do with rows of equal keys.
    #[serde(default)]
    pub mode: MergeMode,
    /// Data-skipping indexes every part carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_indexes: Vec<SkipIndexSpec>,
}

/// Per-column statistics of a part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    /// Smallest value (NaN ignored).
    pub min: Value,
    /// Largest value.
    pub max: Value,
}

/// What `meta.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartMeta {
    /// Format version of the files.
    pub format_version: u32,
    /// Number of rows.
    pub rows: usize,
    /// Rows per granule this part was written with.
    pub granularity: usize,
    /// The partition value (one entry per partition expression; empty when unpartitioned).
    pub partition: Vec<Value>,
    /// Columns stored in the part.
    pub columns: Vec<ColumnSpec>,
    /// Sort key column indexes.
    pub sort_key: Vec<usize>,
    /// Min/max per column (same order as `columns`); `None` where all values were NaN.
    pub stats: Vec<Option<ColumnStats>>,
    /// Unix seconds when written.
    pub created: u64,
    /// The skip indexes the part has files for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_indexes: Vec<SkipIndexSpec>,
}

impl PartMeta {
    /// Number of granules.
    pub fn granules(&self) -> usize {
        self.rows.div_ceil(self.granularity)
    }

    /// Rows in granule `g`.
    pub fn granule_rows(&self, g: usize) -> usize {
        self.granularity.min(self.rows - g * self.granularity)
    }

    /// Rows in granules `granules`.
    pub fn rows_in(&self, granules: Range<usize>) -> usize {
        granules.map(|g| self.granule_rows(g)).sum()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct FileChecksum {
    size: u64,
    crc32: u32,
}

/// A file name for a column that is safe on every filesystem (`context.ip` → `context%2Eip`).
pub fn escape_file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Granules of a column's rows copied into sorted order at a time by `write_part` (64K rows
/// at the default granularity: a slice stays small enough for the allocator to reuse its
/// memory).
const SORTED_SLICE_GRANULES: usize = 8;

/// Writes `block`'s rows in `order` (row numbers sorted by the layout's sort key; `None`: the
/// block is sorted already) as a new part in directory `dir` (which must not exist), fsyncing
/// every file and the directory. Returns the metadata. Rows are copied into order a column
/// and a few granules at a time: a block-sized sorted copy would be fresh memory the kernel
/// zeroes first, for every insert.
pub fn write_part(dir: &Path, layout: &TableLayout, block: &Block, order: Option<&[u32]>, partition: Vec<Value>) -> Result<PartMeta> {
    let mut writer = PartWriter::create(dir, layout, partition)?;
    match order {
        Some(order) => writer.push_in_order(block, order)?,
        None => writer.push(block)?,
    }
    writer.finish()
}

/// Writes one part from a stream of blocks that together are sorted by the sort key, so a
/// merge never holds more than a few granules of its output in memory.
///
/// Rows are cut into granules as they arrive; a column's frame is compressed and written as
/// soon as it holds `MIN_FRAME_BYTES`. Nothing is visible until the caller commits the part.
pub struct PartWriter {
    dir: PathBuf,
    layout: TableLayout,
    partition: Vec<Value>,
    columns: Vec<ColumnWriter>,
    skip_indexes: Vec<SkipIndexWriter>,
    /// Rows not yet cut into a granule (fewer than the granularity).
    pending: Option<Block>,
    /// Sort key of every granule's first row, then of the last row (one column per key column).
    index: Vec<Column>,
    last_row: Option<Block>,
    rows: usize,
}

struct ColumnWriter {
    file: std::io::BufWriter<File>,
    name: String,
    written: u64,
    hasher: crc32fast::Hasher,
    marks: Vec<u8>,
    raw: Vec<u8>,
    frame: Vec<u8>,
    stats: Option<(Value, Value)>,
    /// For String and FixedString columns: the part's dictionary being built.
    dict: Option<DictWriter>,
    /// The codec of the next frame: the column's, except that `Auto` settles on what its
    /// first frame chose, so the rest of the part is compressed once, not tried both ways.
    codec: Codec,
}

impl PartWriter {
    /// Creates the part directory (which must not exist) and its column files.
    pub fn create(dir: &Path, layout: &TableLayout, partition: Vec<Value>) -> Result<PartWriter> {
        // Not create_dir_all: a table directory removed by DROP TABLE must not come back.
        fs::create_dir(dir).map_err(io_at(dir))?;
        let mut columns = Vec::with_capacity(layout.columns.len());
        for spec in &layout.columns {
            let name = format!("{}.bin", escape_file_name(&spec.name));
            let path = dir.join(&name);
            let file = File::create(&path).map_err(io_at(&path))?;
            columns.push(ColumnWriter {
                file: std::io::BufWriter::with_capacity(256 * 1024, file),
                name,
                written: 0,
                hasher: crc32fast::Hasher::new(),
                marks: Vec::new(),
                raw: Vec::new(),
                frame: Vec::new(),
                stats: None,
                dict: is_dictionary_capable(&spec.ty).then(|| DictWriter::new(&spec.ty)),
                codec: spec.codec,
            });
        }
        let index = layout.sort_key.iter().map(|&k| Column::empty(layout.columns[k].ty.clone())).collect();
        let skip_indexes = layout.skip_indexes.iter().map(|s| SkipIndexWriter::new(s.clone(), &layout.columns[s.column].ty)).collect();
        Ok(PartWriter {
            dir: dir.to_path_buf(),
            layout: layout.clone(),
            partition,
            columns,
            skip_indexes,
            pending: None,
            index,
            last_row: None,
            rows: 0,
        })
    }

    /// Appends rows; they must sort after (or equal to) every row pushed before.
    pub fn push(&mut self, block: &Block) -> Result<()> {
        let granularity = self.layout.granularity.max(1);
        let mut start = 0;
        // Complete the granule left over from earlier pushes; only that short head is copied.
        if let Some(pending) = self.pending.take() {
            let need = granularity - pending.rows();
            if block.rows() < need {
                self.pending = Some(Block::concat(&[pending, block.clone()]).expect("two blocks"));
                return Ok(());
            }
            let head = Block::concat(&[pending, block.slice(0, need)]).expect("two blocks");
            self.write_granule(&head, 0, granularity)?;
            start = need;
        }
        while block.rows() - start >= granularity {
            self.write_granule(block, start, granularity)?;
            start += granularity;
        }
        if start < block.rows() {
            self.pending = Some(block.slice(start, block.rows() - start));
        }
        Ok(())
    }

    /// Appends `block`'s rows in `order` to a writer that has no rows yet, a column at a
    /// time: each column's rows are gathered a few granules at a time and written before
    /// the next column is read. Gathering row by row across all columns would reach into the
    /// whole block for every slice; one column of a 1M-row block (8 MB of offsets and a few
    /// to tens of MB of text) is mostly held by the CPU's last-level cache, so its scattered
    /// rows come from there more often than from memory (COPY's user time −7%).
    fn push_in_order(&mut self, block: &Block, order: &[u32]) -> Result<()> {
        assert!(self.rows == 0 && self.pending.is_none(), "rows pushed in order start a part");
        let granularity = self.layout.granularity.max(1);
        let whole = order.len() / granularity * granularity;
        let (sorted, tail) = order.split_at(whole);
        if !sorted.is_empty() {
            for (c, (writer, spec)) in self.columns.iter_mut().zip(&self.layout.columns).enumerate() {
                for slice in sorted.chunks(granularity * SORTED_SLICE_GRANULES) {
                    let column = block.columns[c].take(slice);
                    for start in (0..slice.len()).step_by(granularity) {
                        writer.write_granule(spec, &column, start..start + granularity, &self.dir)?;
                        for index in self.skip_indexes.iter_mut().filter(|i| i.column() == c) {
                            index.push_granule(&column, start, start + granularity);
                        }
                    }
                }
            }
            let firsts: Vec<u32> = sorted.iter().step_by(granularity).copied().collect();
            for (k, &col) in self.index.iter_mut().zip(&self.layout.sort_key) {
                k.append(&block.columns[col].take(&firsts));
            }
            self.last_row = Some(block.take(&sorted[whole - 1..]));
            self.rows = whole;
        }
        if !tail.is_empty() {
            self.pending = Some(block.take(tail));
        }
        Ok(())
    }

    fn write_granule(&mut self, block: &Block, start: usize, rows: usize) -> Result<()> {
        for (k, &col) in self.index.iter_mut().zip(&self.layout.sort_key) {
            k.append_range(&block.columns[col], start..start + 1);
        }
        for (writer, (spec, column)) in self.columns.iter_mut().zip(self.layout.columns.iter().zip(&block.columns)) {
            writer.write_granule(spec, column, start..start + rows, &self.dir)?;
        }
        for index in &mut self.skip_indexes {
            let column = index.column();
            index.push_granule(&block.columns[column], start, start + rows);
        }
        self.last_row = Some(block.slice(start + rows - 1, 1));
        self.rows += rows;
        Ok(())
    }

    /// Writes the last granule, marks, index, metadata and checksums, and fsyncs them all.
    pub fn finish(mut self) -> Result<PartMeta> {
        if let Some(p) = self.pending.take() {
            self.write_granule(&p, 0, p.rows())?;
        }
        if self.rows == 0 {
            return Err(StorageError::Invalid("a part must have rows".into()));
        }
        let mut checksums = BTreeMap::new();
        let mut stats = Vec::with_capacity(self.columns.len());
        for (mut writer, spec) in std::mem::take(&mut self.columns).into_iter().zip(&self.layout.columns) {
            writer.flush_frame(spec, &self.dir)?;
            if let Some((min, max)) = writer.dict.as_ref().filter(|_| !spec.ty.value_type().is_nullable()).and_then(DictWriter::bounds) {
                let (min, max) = (Value::String(String::from_utf8_lossy(min).into_owned()), Value::String(String::from_utf8_lossy(max).into_owned()));
                writer.widen_stats(min, max);
            }
            let path = self.dir.join(&writer.name);
            let file = writer.file.into_inner().map_err(|e| StorageError::Io { path: path.clone(), source: e.into_error() })?;
            file.sync_all().map_err(io_at(&path))?;
            checksums.insert(writer.name.clone(), FileChecksum { size: writer.written, crc32: writer.hasher.finalize() });
            let base = escape_file_name(&spec.name);
            write_file(&self.dir, &format!("{base}.mrk"), &writer.marks, &mut checksums)?;
            if let Some(dict) = writer.dict.take().and_then(DictWriter::finish) {
                let mut frame = Vec::new();
                spec.codec.write_frame(None, None, &dict, &mut frame)?;
                write_file(&self.dir, &format!("{base}.dict"), &frame, &mut checksums)?;
            }
            stats.push(writer.stats.map(|(min, max)| ColumnStats { min, max }));
        }
        // Primary index: the key of each granule's first row, then the key of the last row.
        let last = self.last_row.take().expect("at least one granule");
        let mut index = Vec::new();
        for (k, &col) in self.index.iter_mut().zip(&self.layout.sort_key) {
            k.append(&last.columns[col]);
            k.encode(0, k.len(), &mut index);
        }
        write_file(&self.dir, INDEX_FILE, &index, &mut checksums)?;
        let mut skip_indexes = Vec::with_capacity(self.skip_indexes.len());
        for writer in std::mem::take(&mut self.skip_indexes) {
            let (spec, bytes) = writer.finish();
            write_file(&self.dir, &spec.file_name(), &bytes, &mut checksums)?;
            skip_indexes.push(spec);
        }
        let meta = PartMeta {
            format_version: FORMAT_VERSION,
            rows: self.rows,
            granularity: self.layout.granularity.max(1),
            partition: std::mem::take(&mut self.partition),
            columns: self.layout.columns.clone(),
            sort_key: self.layout.sort_key.clone(),
            stats,
            skip_indexes,
            created: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        };
        let meta_json = serde_json::to_vec_pretty(&meta).expect("part metadata serializes");
        write_file(&self.dir, META_FILE, &meta_json, &mut checksums)?;
        let sums = serde_json::to_vec_pretty(&checksums).expect("checksums serialize");
        write_file(&self.dir, CHECKSUMS_FILE, &sums, &mut BTreeMap::new())?;
        sync_dir(&self.dir)?;
        Ok(meta)
    }
}

impl ColumnWriter {
    /// Appends rows `rows` of `column` as the column's next granule: its mark, its encoding
    /// (dictionary codes or plain), and its values in the part's bounds.
    fn write_granule(&mut self, spec: &ColumnSpec, column: &Column, rows: Range<usize>, dir: &Path) -> Result<()> {
        if self.raw.len() >= MIN_FRAME_BYTES {
            self.flush_frame(spec, dir)?;
        }
        self.marks.extend_from_slice(&self.written.to_le_bytes());
        self.marks.extend_from_slice(&(self.raw.len() as u64).to_le_bytes());
        let coded = match &mut self.dict {
            Some(dict) => dict.encode_granule(column, rows.start, rows.end, &mut self.raw),
            None => {
                column.encode(rows.start, rows.end, &mut self.raw);
                false
            }
        };
        // A coded granule's values are all dictionary entries, whose bounds the dictionary
        // keeps; NULL rows hold a default that is in the dictionary but no value.
        if !coded || column.nulls.is_some() {
            if let Some((min, max)) = column.min_max_in(rows) {
                self.widen_stats(min, max);
            }
        }
        Ok(())
    }

    /// Takes `min` and `max` into the part's bounds of this column.
    fn widen_stats(&mut self, min: Value, max: Value) {
        self.stats = Some(match self.stats.take() {
            Some((lo, hi)) => (if min.compare(&lo).is_lt() { min } else { lo }, if max.compare(&hi).is_gt() { max } else { hi }),
            None => (min, max),
        });
    }

    fn flush_frame(&mut self, spec: &ColumnSpec, dir: &Path) -> Result<()> {
        if self.raw.is_empty() {
            return Ok(());
        }
        self.frame.clear();
        self.codec = self.codec.write_frame(spec.filter, spec.ty.physical().ints(), &self.raw, &mut self.frame)?;
        self.file.write_all(&self.frame).map_err(io_at(dir.join(&self.name)))?;
        self.hasher.update(&self.frame);
        self.written += self.frame.len() as u64;
        self.raw.clear();
        Ok(())
    }
}

fn write_file(dir: &Path, name: &str, bytes: &[u8], checksums: &mut BTreeMap<String, FileChecksum>) -> Result<()> {
    let path = dir.join(name);
    let mut f = File::create(&path).map_err(io_at(&path))?;
    f.write_all(bytes).map_err(io_at(&path))?;
    f.sync_all().map_err(io_at(&path))?;
    checksums.insert(name.to_string(), FileChecksum { size: bytes.len() as u64, crc32: crc32fast::hash(bytes) });
    Ok(())
}

/// Fsyncs a directory so that entries created or renamed in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(io_at(dir))
}

/// An open, immutable part.
#[derive(Debug)]
pub struct Part {
    /// Directory name, unique within the table (`{partition}_{min block}_{max block}_{level}`).
    pub name: String,
    /// Its directory.
    pub path: PathBuf,
    /// Its metadata.
    pub meta: PartMeta,
    /// Sort key values at each granule start plus the last row, one column per key column.
    index: Vec<Column>,
    /// The part's skip indexes, read at open (they are small).
    skip_indexes: Vec<SkipIndex>,
    /// Memory maps of the `.bin` files and decoded marks, opened on first use.
    files: Vec<OnceLock<ColumnFile>>,
    /// Set when a commit removed the part: its directory goes once no snapshot holds it.
    retired: AtomicBool,
}

impl Drop for Part {
    fn drop(&mut self) {
        if self.retired.load(Ordering::Acquire) {
            if let Err(e) = fs::remove_dir_all(&self.path) {
                tracing::warn!("cannot remove retired part {}: {e}", self.path.display());
            }
        }
    }
}

#[derive(Debug)]
struct ColumnFile {
    data: Mmap,
    /// (frame offset, offset inside the decompressed frame) per granule.
    marks: Vec<(u64, u64)>,
    /// The part's dictionary for a String column whose granules use one, as a column of the
    /// column's type.
    dict: Option<ColumnRef>,
    /// The dictionary's entries as numbers after one text (`dict::entry_numbers`), once a read
    /// of numbers needed them.
    entry_numbers: OnceLock<Option<(Vec<u8>, Vec<u32>)>>,
}

impl ColumnFile {
    /// The dictionary's entries.
    fn entries(&self) -> Option<&StringData> {
        match self.dict.as_deref().map(|d| &d.data) {
            Some(ColumnData::Bytes(entries)) => Some(entries),
            _ => None,
        }
    }
}

impl Part {
    /// Opens a part directory: reads metadata and index, checks that every file exists with
    /// the size the checksum list records. Content checksums are verified by `verify`.
    pub fn open(path: &Path) -> Result<Part> {
        let corrupt = |reason: String| StorageError::Corrupt { path: path.to_path_buf(), reason };
        let sums = read_checksums(path)?;
        for (file, sum) in &sums {
            let len = fs::metadata(path.join(file)).map_err(|e| corrupt(format!("{file}: {e}")))?.len();
            if len != sum.size {
                return Err(corrupt(format!("{file} has {len} bytes, expected {}", sum.size)));
            }
        }
        let meta_bytes = fs::read(path.join(META_FILE)).map_err(io_at(path.join(META_FILE)))?;
        let meta: PartMeta = serde_json::from_slice(&meta_bytes).map_err(|e| corrupt(format!("meta.json: {e}")))?;
        if !(OLDEST_READABLE_FORMAT..=FORMAT_VERSION).contains(&meta.format_version) {
            return Err(corrupt(format!("unsupported format version {}", meta.format_version)));
        }
        let index_bytes = fs::read(path.join(INDEX_FILE)).map_err(io_at(path.join(INDEX_FILE)))?;
        let mut index = Vec::with_capacity(meta.sort_key.len());
        let mut pos = 0;
        for &k in &meta.sort_key {
            let mut col = Column::empty(meta.columns[k].ty.clone());
            pos += col.decode_append(&index_bytes[pos..], meta.granules() + 1).map_err(|e| corrupt(e.to_string()))?;
            index.push(col);
        }
        let mut skip_indexes = Vec::with_capacity(meta.skip_indexes.len());
        for spec in &meta.skip_indexes {
            let file = path.join(spec.file_name());
            let bytes = fs::read(&file).map_err(io_at(&file))?;
            let ty = &meta.columns.get(spec.column).ok_or_else(|| corrupt(format!("skip index {} names no column", spec.name)))?.ty;
            skip_indexes.push(SkipIndex::decode(spec.clone(), ty, &bytes).map_err(|e| corrupt(e.to_string()))?);
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let files = meta.columns.iter().map(|_| OnceLock::new()).collect();
        Ok(Part { name, path: path.to_path_buf(), meta, index, skip_indexes, files, retired: AtomicBool::new(false) })
    }

    /// Marks the part as no longer active; its files are deleted when the last reader lets go.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }

    /// The id of the part's partition: the first field of its name, so that grouping parts by
    /// partition needs no re-encoding of partition values.
    pub fn partition_id(&self) -> &str {
        self.name.rsplitn(4, '_').last().unwrap_or_default()
    }

    /// The block numbers and merge level in the part's name.
    pub fn level(&self) -> u32 {
        self.name.rsplit('_').next().and_then(|l| l.parse().ok()).unwrap_or(0)
    }

    /// Re-reads every file and compares its checksum; returns the first mismatch as an error.
    pub fn verify(&self) -> Result<()> {
        verify_dir(&self.path)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.meta.rows
    }

    /// Bytes of all files of the part.
    pub fn bytes_on_disk(&self) -> u64 {
        read_checksums(&self.path).map(|s| s.values().map(|c| c.size).sum()).unwrap_or(0)
    }

    /// Index of a column by name in this part.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.meta.columns.iter().position(|c| c.name == name)
    }

    /// False when the part's min/max prove no row can satisfy all `ranges`.
    pub fn may_match(&self, ranges: &[ColumnRange]) -> bool {
        ranges.iter().all(|r| match self.meta.stats.get(r.column).and_then(|s| s.as_ref()) {
            Some(s) => r.overlaps(&s.min, &s.max),
            None => true,
        })
    }

    /// The granule ranges that may hold rows satisfying all `ranges`, judged by the sparse
    /// primary index and the skip indexes; adjacent granules are merged into one range.
    pub fn select_granules(&self, ranges: &[ColumnRange]) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = Vec::new();
        let key_ranges: Vec<(usize, &ColumnRange)> = ranges
            .iter()
            .filter_map(|r| self.meta.sort_key.iter().position(|&k| k == r.column).map(|pos| (pos, r)))
            .collect();
        let skip_ranges: Vec<(&SkipIndex, &ColumnRange)> = self
            .skip_indexes
            .iter()
            .flat_map(|index| ranges.iter().filter(|r| r.column == index.spec().column).map(move |r| (index, r)))
            .collect();
        for g in 0..self.meta.granules() {
            let keep = (key_ranges.is_empty() || granule_may_match(&self.index, g, &key_ranges))
                && skip_ranges.iter().all(|(index, r)| index.granule_may_match(g, r));
            if keep {
                match out.last_mut() {
                    Some(last) if last.end == g => last.end = g + 1,
                    _ => out.push(g..g + 1),
                }
            }
        }
        out
    }

    /// Reads column `col` (an index into the part's columns) for the given granules.
    pub fn read_column(&self, col: usize, granules: Range<usize>) -> Result<ColumnRef> {
        self.read_column_kept(col, granules, None)
    }

    /// Reads column `col` for the given granules, only the rows whose `keep` byte is non-zero
    /// when there is a mask (one byte per row of the granules): late materialisation, where
    /// a granule with no kept row is neither decompressed nor decoded.
    pub fn read_column_kept(&self, col: usize, granules: Range<usize>, keep: Option<&[u8]>) -> Result<ColumnRef> {
        let spec = &self.meta.columns[col];
        let mut out = Column::empty(spec.ty.clone());
        if let (crate::column::ColumnData::Bytes(s), None) = (&mut out.data, keep) {
            s.offsets.reserve(self.meta.rows_in(granules.clone()));
        }
        let coded = is_dictionary_capable(&spec.ty);
        self.visit_granules(col, granules, keep, |file, src, rows, mask| {
            match coded {
                true => decode_granule(&mut out, src, rows.len(), file.entries(), mask),
                false => out.decode_append_kept(src, rows.len(), mask),
            }
            .map(|_| true)
        })?;
        Ok(Arc::new(out))
    }

    /// The kept rows (as `read_column_kept` takes them) of the non-Nullable String column
    /// `col` as codes into the part's dictionary, and the dictionary as a column, when every
    /// granule with a kept row is coded and the dictionary has at most `max_entries` entries:
    /// a condition on the column then runs once per entry instead of once per row. `None`
    /// otherwise.
    pub fn read_codes(&self, col: usize, granules: Range<usize>, keep: Option<&[u8]>, max_entries: usize) -> Result<Option<(Vec<u32>, ColumnRef)>> {
        let spec = &self.meta.columns[col];
        if !is_dictionary_capable(&spec.ty) || spec.ty.is_nullable() {
            return Ok(None);
        }
        let file = self.column_file(col)?;
        let Some(dict) = file.dict.as_ref().filter(|d| d.len() <= max_entries) else { return Ok(None) };
        let mut codes = Vec::new();
        let all_coded = self.visit_granules(col, granules, keep, |_, src, rows, mask| decode_codes(&mut codes, src, rows.len(), dict.len(), mask))?;
        Ok(all_coded.then(|| (codes, dict.clone())))
    }

    /// The kept rows (as `read_column_kept` takes them) of the non-Nullable String column
    /// `col` as numbers after one common text, and that text, when every granule with a kept
    /// row is a `DECIMAL` one of that text (ids such as `u1489982`), or a coded one whose
    /// dictionary holds only such ids (the first granules of a part, written before the
    /// dictionary gave up): such ids then group and count as numbers, never made into
    /// strings. `None` otherwise.
    pub fn read_numbers(&self, col: usize, granules: Range<usize>, keep: Option<&[u8]>) -> Result<Option<(Vec<u32>, Vec<u8>)>> {
        let spec = &self.meta.columns[col];
        if spec.ty.value_type() != DataType::String || spec.ty.is_nullable() {
            return Ok(None);
        }
        let (mut numbers, mut prefix) = (Vec::new(), None);
        let all = self.visit_granules(col, granules, keep, |file, src, rows, mask| {
            if decode_numbers(&mut numbers, &mut prefix, src, rows.len(), mask)? {
                return Ok(true);
            }
            let by_code = file.entry_numbers.get_or_init(|| file.entries().and_then(entry_numbers));
            let Some((text, by_code)) = by_code.as_ref().filter(|(text, _)| prefix.get_or_insert_with(|| text.clone()) == text) else {
                return Ok(false);
            };
            let start = numbers.len();
            let coded = decode_codes(&mut numbers, src, rows.len(), by_code.len(), mask)?;
            numbers[start..].iter_mut().for_each(|code| *code = by_code[*code as usize]);
            debug_assert!(!coded || prefix.as_ref() == Some(text));
            Ok(coded)
        })?;
        Ok(prefix.filter(|_| all).map(|prefix| (numbers, prefix)))
    }

    /// The part's dictionary of String column `col` (its entries as a column), when its
    /// granules use one.
    pub fn dictionary(&self, col: usize) -> Result<Option<ColumnRef>> {
        Ok(self.column_file(col)?.dict.clone())
    }

    /// For each row of granules `granules`, 1 when `keep` keeps it (all rows without a mask)
    /// and `passes` (one byte per entry of the dictionary of the non-Nullable String column
    /// `col`: a condition decided on the dictionary) is non-zero for its code, else 0, when
    /// every granule with a kept row is coded: the codes are never gathered. `None` otherwise.
    pub fn rows_passing(&self, col: usize, granules: Range<usize>, keep: Option<&[u8]>, passes: &[u8]) -> Result<Option<Vec<u8>>> {
        if self.meta.columns[col].ty.is_nullable() || self.dictionary(col)?.is_none_or(|d| d.len() != passes.len()) {
            return Ok(None);
        }
        let passes: Vec<u8> = passes.iter().map(|&p| (p != 0) as u8).collect();
        let mut mask = vec![0; self.meta.rows_in(granules.clone())];
        let all = self.visit_granules(col, granules, keep, |_, src, rows, mask_of_granule| granule_passes(src, &passes, mask_of_granule, &mut mask[rows]))?;
        Ok(all.then_some(mask))
    }

    /// For each row of granules `granules`, 1 when `keep` keeps it (all rows without a mask)
    /// and the non-Nullable String column `col` holds `value` there, else 0: compared in the
    /// encoded granules without decoding a string (`dict::granule_equals`). `None` for a
    /// column of another type.
    pub fn rows_equal(&self, col: usize, granules: Range<usize>, keep: Option<&[u8]>, value: &[u8]) -> Result<Option<Vec<u8>>> {
        let spec = &self.meta.columns[col];
        if spec.ty.value_type() != DataType::String || spec.ty.is_nullable() {
            return Ok(None);
        }
        let entries = self.column_file(col)?.entries();
        let mut found = None;
        let mut code = || *found.get_or_insert_with(|| entries.and_then(|e| e.iter().position(|entry| entry == value)).map(|c| c as u32));
        let mut mask = vec![0; self.meta.rows_in(granules.clone())];
        self.visit_granules(col, granules, keep, |_, src, rows, mask_of_granule| {
            granule_equals(src, value, &mut code, mask_of_granule, &mut mask[rows]).map(|_| true)
        })?;
        Ok(Some(mask))
    }

    /// Calls `visit(file, bytes, rows, mask)` for each granule of the range with a kept row
    /// (all of them without `keep`): the granule's bytes in its decompressed frame, its rows
    /// (numbered from the range's first row) and its slice of `keep` (`None` when it keeps
    /// every row). Stops early, returning false, when `visit` does.
    fn visit_granules(&self, col: usize, granules: Range<usize>, keep: Option<&[u8]>, mut visit: impl FnMut(&ColumnFile, &[u8], Range<usize>, Option<&[u8]>) -> Result<bool>) -> Result<bool> {
        let name = &self.meta.columns[col].name;
        let file = self.column_file(col)?;
        let mut frame = Vec::new();
        let mut current = None;
        let mut first_row = 0;
        for g in granules {
            let rows = self.meta.granule_rows(g);
            let mask = keep.map(|k| &k[first_row..first_row + rows]);
            first_row += rows;
            // A mask that keeps every row of the granule is no mask. (One pass without an
            // early exit, which vectorizes: it runs once per column and granule.)
            let mask = match mask.map(|m| m.iter().fold((0u8, 1u8), |(any, all), &b| ((any | (b != 0) as u8), all & (b != 0) as u8))) {
                Some((0, _)) => continue,
                Some((_, 1)) => None,
                _ => mask,
            };
            let (frame_off, in_frame) = file.marks[g];
            if current != Some(frame_off) {
                let bytes = file.data.get(frame_off as usize..).ok_or_else(|| self.corrupt("mark past end of file"))?;
                read_frame(bytes, &mut frame).map_err(|e| self.corrupt(&format!("{name}: {e}")))?;
                current = Some(frame_off);
            }
            let src = frame.get(in_frame as usize..).ok_or_else(|| self.corrupt("mark past end of frame"))?;
            if !visit(file, src, first_row - rows..first_row, mask).map_err(|e| self.corrupt(&format!("{name}: {e}")))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn column_file(&self, col: usize) -> Result<&ColumnFile> {
        if let Some(f) = self.files[col].get() {
            return Ok(f);
        }
        let base = escape_file_name(&self.meta.columns[col].name);
        let bin = self.path.join(format!("{base}.bin"));
        let file = File::open(&bin).map_err(io_at(&bin))?;
        // SAFETY: part files are immutable once written; nothing truncates them while mapped.
        let data = unsafe { Mmap::map(&file) }.map_err(io_at(&bin))?;
        let mrk = self.path.join(format!("{base}.mrk"));
        let mark_bytes = fs::read(&mrk).map_err(io_at(&mrk))?;
        if mark_bytes.len() != self.meta.granules() * 16 {
            return Err(self.corrupt("marks file size does not match the granule count"));
        }
        let marks = mark_bytes
            .chunks_exact(16)
            .map(|c| (u64::from_le_bytes(c[..8].try_into().unwrap()), u64::from_le_bytes(c[8..].try_into().unwrap())))
            .collect();
        let dict_path = self.path.join(format!("{base}.dict"));
        let dict = match fs::read(&dict_path) {
            Ok(bytes) => {
                let mut raw = Vec::new();
                let entries = read_frame(&bytes, &mut raw).and_then(|_| decode_dictionary(&raw)).map_err(|e| self.corrupt(&format!("{base}.dict: {e}")))?;
                Some(Arc::new(Column::new(self.meta.columns[col].ty.non_null().clone(), ColumnData::Bytes(entries))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(StorageError::Io { path: dict_path, source: e }),
        };
        Ok(self.files[col].get_or_init(|| ColumnFile { data, marks, dict, entry_numbers: OnceLock::new() }))
    }

    fn corrupt(&self, reason: &str) -> StorageError {
        StorageError::Corrupt { path: self.path.clone(), reason: reason.to_string() }
    }
}

fn read_checksums(dir: &Path) -> Result<BTreeMap<String, FileChecksum>> {
    let path = dir.join(CHECKSUMS_FILE);
    let bytes = fs::read(&path).map_err(|e| StorageError::Corrupt { path: dir.to_path_buf(), reason: format!("{CHECKSUMS_FILE}: {e}") })?;
    serde_json::from_slice(&bytes).map_err(|e| StorageError::Corrupt { path: dir.to_path_buf(), reason: format!("{CHECKSUMS_FILE}: {e}") })
}

/// Checks every file of the part directory against its recorded size and CRC.
pub fn verify_dir(dir: &Path) -> Result<()> {
    for (file, sum) in read_checksums(dir)? {
        let bytes = fs::read(dir.join(&file)).map_err(io_at(dir.join(&file)))?;
        if bytes.len() as u64 != sum.size || crc32fast::hash(&bytes) != sum.crc32 {
            return Err(StorageError::Corrupt { path: dir.to_path_buf(), reason: format!("checksum mismatch in {file}") });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::ColumnRange;
    use std::ops::Bound;

    fn layout() -> TableLayout {
        TableLayout {
            columns: vec![
                ColumnSpec { name: "k".into(), ty: DataType::UInt64, codec: Codec::Lz4, filter: None },
                ColumnSpec { name: "s.x".into(), ty: DataType::String, codec: Codec::Zstd(1), filter: None },
            ],
            sort_key: vec![0],
            granularity: 100,
            mode: MergeMode::Ordinary,
            skip_indexes: Vec::new(),
        }
    }

    #[test]
    fn a_part_written_in_order_a_column_at_a_time_equals_one_written_from_sorted_rows() {
        // 1,050 rows (10 whole granules and a tail of 50), keys shuffled, a string column
        // that goes plain, a dictionary column, and a skip index on the strings: every file
        // must match the part written row by row from the block sorted first.
        let dir = tempfile::tempdir().unwrap();
        let mut layout = layout();
        layout.columns.push(ColumnSpec { name: "city".into(), ty: DataType::String, codec: Codec::Lz4, filter: None });
        layout.skip_indexes.push(SkipIndexSpec { name: "s_set".into(), column: 1, kind: crate::skip::SkipIndexKind::Set { max_values: 0 }, granularity: 2 });
        let n = 1050u64;
        let keys: Vec<u64> = (0..n).map(|i| (i * 7919) % n).collect();
        let block = |keys: &[u64]| {
            let k = Column::from_values(DataType::UInt64, &keys.iter().map(|&i| Value::UInt(i)).collect::<Vec<_>>()).unwrap();
            let s = Column::from_values(DataType::String, &keys.iter().map(|i| Value::String(format!("value {}", i * 31))).collect::<Vec<_>>()).unwrap();
            let city = Column::from_values(DataType::String, &keys.iter().map(|i| Value::String(format!("city{}", i % 7))).collect::<Vec<_>>()).unwrap();
            Block::new(vec![Arc::new(k), Arc::new(s), Arc::new(city)])
        };
        let shuffled = block(&keys);
        let order = crate::sort::sort_order(&shuffled, &layout.sort_key, None).unwrap();
        let (a, b) = (dir.path().join("all_1_1_0"), dir.path().join("all_2_2_0"));
        write_part(&a, &layout, &shuffled, Some(&order), vec![]).unwrap();
        write_part(&b, &layout, &block(&(0..n).collect::<Vec<_>>()), None, vec![]).unwrap();
        let mut names: Vec<_> = fs::read_dir(&a).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert!(names.iter().any(|f| f == "city.dict") && names.iter().any(|f| *f == *SkipIndexSpec::file_name(&layout.skip_indexes[0])));
        for name in names.iter().filter(|f| *f != META_FILE && *f != CHECKSUMS_FILE) {
            assert!(fs::read(a.join(name)).unwrap() == fs::read(b.join(name)).unwrap(), "{name:?} differs");
        }
        let (pa, pb) = (Part::open(&a).unwrap(), Part::open(&b).unwrap());
        pa.verify().unwrap();
        assert_eq!((pa.meta.rows, &pa.meta.stats), (pb.meta.rows, &pb.meta.stats));
        assert_eq!(pa.read_column(0, 10..11).unwrap().value(49), Value::UInt(n - 1));
    }

    #[test]
    fn write_read_and_prune() {
        let dir = tempfile::tempdir().unwrap();
        let n = 1050u64;
        let k = Column::from_values(DataType::UInt64, &(0..n).map(|i| Value::UInt(i * 2)).collect::<Vec<_>>()).unwrap();
        let s = Column::from_values(DataType::String, &(0..n).map(|i| Value::String(format!("v{i}"))).collect::<Vec<_>>()).unwrap();
        let block = Block::new(vec![Arc::new(k), Arc::new(s)]);
        let path = dir.path().join("all_1_1_0");
        write_part(&path, &layout(), &block, None, vec![]).unwrap();
        let part = Part::open(&path).unwrap();
        part.verify().unwrap();
        assert_eq!(part.meta.granules(), 11);
        assert_eq!((part.partition_id(), part.level()), ("all", 0));
        let col = part.read_column(1, 10..11).unwrap();
        assert_eq!(col.len(), 50);
        assert_eq!(col.value(0), Value::String("v1000".into()));
        let r = ColumnRange { column: 0, lo: Bound::Included(Value::UInt(400)), hi: Bound::Excluded(Value::UInt(600)) };
        // Granule 1 spans keys 200..=398, but the index only knows it ends at or before 400
        // (granule 2's first key), so it must be kept: pruning is conservative, never lossy.
        assert_eq!(part.select_granules(std::slice::from_ref(&r)), vec![1..3]);
        assert!(part.may_match(&[r]));
        let none = ColumnRange { column: 0, lo: Bound::Included(Value::UInt(5000)), hi: Bound::Unbounded };
        assert!(!part.may_match(std::slice::from_ref(&none)));
        assert!(part.select_granules(&[none]).is_empty());
    }

    #[test]
    fn pushes_of_any_size_cut_into_whole_granules() {
        let dir = tempfile::tempdir().unwrap();
        let mut layout = layout();
        layout.granularity = 3;
        let path = dir.path().join("all_1_1_0");
        let mut writer = PartWriter::create(&path, &layout, vec![]).unwrap();
        let mut next = 0u64;
        for size in [1, 2, 5, 1, 0, 4] {
            let k = Column::from_values(DataType::UInt64, &(next..next + size).map(Value::UInt).collect::<Vec<_>>()).unwrap();
            let s = Column::from_values(DataType::String, &(next..next + size).map(|i| Value::String(format!("v{i}"))).collect::<Vec<_>>()).unwrap();
            writer.push(&Block::with_rows(vec![Arc::new(k), Arc::new(s)], size as usize)).unwrap();
            next += size;
        }
        let meta = writer.finish().unwrap();
        assert_eq!((meta.rows, meta.granules()), (13, 5));
        assert_eq!(meta.stats[0], Some(ColumnStats { min: Value::UInt(0), max: Value::UInt(12) }));
        let part = Part::open(&path).unwrap();
        part.verify().unwrap();
        let keys = part.read_column(0, 0..5).unwrap();
        assert_eq!((0..13).map(|i| keys.value(i)).collect::<Vec<_>>(), (0..13).map(Value::UInt).collect::<Vec<_>>());
        assert_eq!(part.read_column(1, 4..5).unwrap().value(0), Value::String("v12".into()));
        // Granule 2 starts at key 6: the index lets a lookup of 7 read only that granule.
        let r = ColumnRange { column: 0, lo: Bound::Included(Value::UInt(7)), hi: Bound::Included(Value::UInt(7)) };
        assert_eq!(part.select_granules(&[r]), vec![2..3]);
    }

    #[test]
    fn corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let k = Column::from_values(DataType::UInt64, &[Value::UInt(1), Value::UInt(2)]).unwrap();
        let s = Column::from_values(DataType::String, &[Value::String("a".into()), Value::String("b".into())]).unwrap();
        let path = dir.path().join("p");
        write_part(&path, &layout(), &Block::new(vec![Arc::new(k), Arc::new(s)]), None, vec![]).unwrap();
        let bin = path.join("k.bin");
        let mut bytes = fs::read(&bin).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&bin, bytes).unwrap();
        assert!(verify_dir(&path).is_err());
        assert!(Part::open(&path).unwrap().read_column(0, 0..1).is_err());
    }

    #[test]
    fn low_cardinality_strings_get_a_dictionary_and_unique_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut layout = layout();
        layout.columns.push(ColumnSpec { name: "city".into(), ty: DataType::String, codec: Codec::Lz4, filter: None });
        let n = 1000u64;
        let k = Column::from_values(DataType::UInt64, &(0..n).map(Value::UInt).collect::<Vec<_>>()).unwrap();
        let ids = Column::from_values(DataType::String, &(0..n).map(|i| Value::String(format!("id{i}x"))).collect::<Vec<_>>()).unwrap();
        let city = Column::from_values(DataType::String, &(0..n).map(|i| Value::String(format!("city{}", i % 7))).collect::<Vec<_>>()).unwrap();
        let path = dir.path().join("all_1_1_0");
        write_part(&path, &layout, &Block::new(vec![Arc::new(k), Arc::new(ids.clone()), Arc::new(city.clone())]), None, vec![]).unwrap();
        assert!(path.join("city.dict").exists());
        // The unique column's first granule was coded before the writer gave up on it.
        assert!(path.join("s%2Ex.dict").exists());
        let part = Part::open(&path).unwrap();
        part.verify().unwrap();
        assert_eq!(*part.read_column(2, 0..10).unwrap(), city);
        assert_eq!(*part.read_column(1, 0..10).unwrap(), ids);
        assert_eq!(part.read_column(2, 3..4).unwrap().value(0), Value::String("city6".into()));
        let plain_bytes = fs::metadata(path.join("s%2Ex.bin")).unwrap().len();
        let coded_bytes = fs::metadata(path.join("city.bin")).unwrap().len();
        assert!(coded_bytes < plain_bytes / 2, "{coded_bytes} vs {plain_bytes}");
    }
}
