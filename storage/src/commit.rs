//! The one commit protocol for every change to the part sets of a database.
//!
//! New parts are first written completely under `tmp_` names (see `TableStore::write_part`).
//! A commit appends one checksummed record — per table, the parts added and removed — to the
//! database-wide `commit.log` and fsyncs it: that append is the single commit point. Then the
//! parts are renamed to their final names and new snapshots published. Now and then the log
//! is checkpointed into per-table `manifest.json` files and truncated.
//!
//! On open the manifests are loaded and the log replayed up to the first torn record; committed
//! parts still under their `tmp_` name are renamed, and every directory no commit mentions is
//! deleted. A crash before the append leaves nothing; after it, everything.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::{io_at, Result, StorageError};
use crate::part::{sync_dir, Part, TableLayout};
use crate::table::{part_block_range, NewPart, Snapshot, TableStore, TMP_PREFIX};

const LOG_FILE: &str = "commit.log";
const MANIFEST_FILE: &str = "manifest.json";
const DETACHED_DIR: &str = "detached";
/// The log is folded into the manifests once it grows past this size.
const CHECKPOINT_BYTES: u64 = 1 << 20;

/// One table's share of a commit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableEdit {
    /// `TableStore::id`.
    pub table: String,
    /// Parts that become active.
    pub add: Vec<String>,
    /// Parts that stop being active.
    pub remove: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    edits: Vec<TableEdit>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    parts: BTreeSet<String>,
}

/// A part found damaged at open and moved to `detached/`.
#[derive(Debug, Clone)]
pub struct BrokenPart {
    /// Table id.
    pub table: String,
    /// Part name.
    pub name: String,
    /// What was wrong.
    pub reason: String,
}

/// The storage of one database: its commit log and the tables attached to it.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    log: Mutex<LogState>,
}

#[derive(Debug)]
struct LogState {
    file: File,
    len: u64,
    /// Records read at open, consumed by `attach_table`, dropped at `finish_recovery`.
    replay: Vec<TableEdit>,
    tables: HashMap<String, Arc<TableStore>>,
}

impl Store {
    /// Opens (or creates) the store in `dir` and reads its commit log, cutting off a torn tail.
    pub fn open(dir: &Path) -> Result<Store> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let path = dir.join(LOG_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_at(&path)(e)),
        };
        let (records, good) = parse_log(&bytes);
        if good < bytes.len() {
            tracing::warn!("commit log: dropping a torn tail of {} bytes", bytes.len() - good);
        }
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io_at(&path))?;
        file.set_len(good as u64).map_err(io_at(&path))?;
        file.sync_all().map_err(io_at(&path))?;
        let replay = records.into_iter().flat_map(|r| r.edits).collect();
        Ok(Store { dir: dir.to_path_buf(), log: Mutex::new(LogState { file, len: good as u64, replay, tables: HashMap::new() }) })
    }

    /// Creates the storage of a new, empty table in `dir`.
    pub fn create_table(&self, id: &str, dir: &Path, layout: TableLayout) -> Result<Arc<TableStore>> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        write_manifest(dir, &Manifest::default())?;
        let table = Arc::new(TableStore::new(id.to_string(), dir.to_path_buf(), layout, Vec::new(), 1));
        self.log.lock().expect("log lock").tables.insert(id.to_string(), table.clone());
        Ok(table)
    }

    /// Recovers an existing table: applies the log to its manifest, finishes interrupted
    /// renames, deletes uncommitted and retired part directories, and opens its parts.
    /// Parts that fail to open are moved to `detached/broken-<name>` and reported.
    pub fn attach_table(&self, id: &str, dir: &Path, layout: TableLayout) -> Result<(Arc<TableStore>, Vec<BrokenPart>)> {
        let mut log = self.log.lock().expect("log lock");
        let mut active = read_manifest(dir)?.parts;
        for edit in log.replay.iter().filter(|e| e.table == id) {
            for name in &edit.remove {
                active.remove(name);
            }
            active.extend(edit.add.iter().cloned());
        }
        let mut broken = Vec::new();
        let mut parts = Vec::new();
        let mut next_block = 1;
        for entry in fs::read_dir(dir).map_err(io_at(dir))? {
            let entry = entry.map_err(io_at(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if !is_dir || name == DETACHED_DIR {
                continue;
            }
            let final_name = name.strip_prefix(TMP_PREFIX).unwrap_or(&name).to_string();
            if !active.contains(&final_name) || (name != final_name && dir.join(&final_name).exists()) {
                fs::remove_dir_all(entry.path()).map_err(io_at(entry.path()))?;
                continue;
            }
            if name != final_name {
                fs::rename(entry.path(), dir.join(&final_name)).map_err(io_at(entry.path()))?;
            }
        }
        sync_dir(dir)?;
        for name in &active {
            if let Some((_, max)) = part_block_range(name) {
                next_block = next_block.max(max + 1);
            }
            let path = dir.join(name);
            match Part::open(&path) {
                Ok(part) => parts.push(Arc::new(part)),
                Err(e) => {
                    tracing::error!("table {id}: part {name} is broken and is detached: {e}");
                    let detached = dir.join(DETACHED_DIR);
                    fs::create_dir_all(&detached).map_err(io_at(&detached))?;
                    if path.exists() {
                        fs::rename(&path, detached.join(format!("broken-{name}"))).map_err(io_at(&path))?;
                    }
                    broken.push(BrokenPart { table: id.to_string(), name: name.clone(), reason: e.to_string() });
                }
            }
        }
        parts.sort_by_key(|p| part_block_range(&p.name).map(|r| r.0).unwrap_or(0));
        let table = Arc::new(TableStore::new(id.to_string(), dir.to_path_buf(), layout, parts, next_block));
        log.tables.insert(id.to_string(), table.clone());
        Ok((table, broken))
    }

    /// Ends recovery: writes every attached table's manifest and empties the log. Records of
    /// tables that were not attached (dropped ones) are discarded.
    pub fn finish_recovery(&self) -> Result<()> {
        let mut log = self.log.lock().expect("log lock");
        log.replay.clear();
        self.checkpoint(&mut log)
    }

    /// Forgets a table (after DROP TABLE); its directory is the caller's to delete.
    pub fn detach_table(&self, id: &str) {
        self.log.lock().expect("log lock").tables.remove(id);
    }

    /// Atomically makes `added` parts active and `removed` parts (table id, part names)
    /// inactive, across any number of tables. Either all of it happens, or none.
    pub fn commit(&self, mut added: Vec<NewPart>, removed: Vec<(Arc<TableStore>, Vec<String>)>) -> Result<()> {
        let mut edits: Vec<TableEdit> = Vec::new();
        for part in &added {
            edit_for(&mut edits, &part.table.id).add.push(part.name.clone());
        }
        for (table, names) in &removed {
            edit_for(&mut edits, &table.id).remove.extend(names.iter().cloned());
        }
        if edits.is_empty() {
            return Ok(());
        }
        let mut log = self.log.lock().expect("log lock");
        if let Some(edit) = edits.iter().find(|e| !log.tables.contains_key(&e.table)) {
            return Err(StorageError::Invalid(format!("table {} was dropped", edit.table)));
        }
        for (table, names) in &removed {
            let snapshot = table.snapshot();
            if let Some(missing) = names.iter().find(|n| !snapshot.parts.iter().any(|p| &p.name == *n)) {
                return Err(StorageError::Invalid(format!("part {missing} of table {} is no longer active", table.id)));
            }
        }
        let payload = serde_json::to_vec(&Record { edits }).expect("commit record serializes");
        let mut frame = Vec::with_capacity(payload.len() + 8);
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        let path = self.dir.join(LOG_FILE);
        log.file.write_all(&frame).map_err(io_at(&path))?;
        log.file.sync_data().map_err(io_at(&path))?;
        log.len += frame.len() as u64;
        // Committed. From here on a failure is repaired by recovery, which replays the record.
        let mut opened: HashMap<String, Vec<Arc<Part>>> = HashMap::new();
        let mut dirs = BTreeSet::new();
        for part in &mut added {
            let dest = part.table.dir().join(&part.name);
            fs::rename(part.tmp_path(), &dest).map_err(io_at(&dest))?;
            part.committed = true;
            dirs.insert(part.table.dir().to_path_buf());
            opened.entry(part.table.id.clone()).or_default().push(Arc::new(Part::open(&dest)?));
        }
        for dir in dirs {
            sync_dir(&dir)?;
        }
        let mut tables: Vec<Arc<TableStore>> = added.iter().map(|p| p.table.clone()).collect();
        tables.extend(removed.iter().map(|(t, _)| t.clone()));
        tables.sort_by(|a, b| a.id.cmp(&b.id));
        tables.dedup_by(|a, b| a.id == b.id);
        for table in tables {
            let gone: BTreeSet<&String> = removed.iter().filter(|(t, _)| t.id == table.id).flat_map(|(_, n)| n).collect();
            let current = table.snapshot();
            for part in current.parts.iter().filter(|p| gone.contains(&p.name)) {
                part.retire();
            }
            let mut parts: Vec<Arc<Part>> = current.parts.iter().filter(|p| !gone.contains(&p.name)).cloned().collect();
            parts.extend(opened.remove(&table.id).unwrap_or_default());
            table.publish(Snapshot { parts });
        }
        if log.len > CHECKPOINT_BYTES {
            self.checkpoint(&mut log)?;
        }
        Ok(())
    }

    fn checkpoint(&self, log: &mut LogState) -> Result<()> {
        for table in log.tables.values() {
            let parts = table.snapshot().parts.iter().map(|p| p.name.clone()).collect();
            write_manifest(table.dir(), &Manifest { parts })?;
        }
        let path = self.dir.join(LOG_FILE);
        log.file.set_len(0).map_err(io_at(&path))?;
        log.file.sync_all().map_err(io_at(&path))?;
        log.len = 0;
        Ok(())
    }
}

fn edit_for<'a>(edits: &'a mut Vec<TableEdit>, id: &str) -> &'a mut TableEdit {
    match edits.iter().position(|e| e.table == id) {
        Some(i) => &mut edits[i],
        None => {
            edits.push(TableEdit { table: id.to_string(), ..Default::default() });
            edits.last_mut().expect("just pushed")
        }
    }
}

fn parse_log(bytes: &[u8]) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap());
        let Some(payload) = bytes.get(pos + 8..pos + 8 + len) else { break };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let Ok(record) = serde_json::from_slice::<Record>(payload) else { break };
        records.push(record);
        pos += 8 + len;
    }
    (records, pos)
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StorageError::Corrupt { path, reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(io_at(&path)(e)),
    }
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
    let bytes = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    let mut f = File::create(&tmp).map_err(io_at(&tmp))?;
    f.write_all(&bytes).and_then(|_| f.sync_all()).map_err(io_at(&tmp))?;
    fs::rename(&tmp, dir.join(MANIFEST_FILE)).map_err(io_at(&tmp))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::Block;
    use crate::codec::Codec;
    use crate::column::Column;
    use crate::part::ColumnSpec;
    use crate::types::DataType;
    use crate::value::Value;

    fn layout() -> TableLayout {
        TableLayout { columns: vec![ColumnSpec { name: "x".into(), ty: DataType::Int64, codec: Codec::Lz4, filter: None }], sort_key: vec![0], granularity: 4, mode: Default::default(), skip_indexes: Vec::new() }
    }

    fn block(values: &[i64]) -> Block {
        Block::new(vec![Arc::new(Column::from_values(DataType::Int64, &values.iter().map(|v| Value::Int(*v)).collect::<Vec<_>>()).unwrap())])
    }

    #[test]
    fn an_insert_larger_than_a_sorted_slice_is_written_sorted_whole() {
        // Granules of 4 rows: the 1,000 rows are copied into order 32 at a time.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = store.create_table("t1", &dir.path().join("t"), layout()).unwrap();
        let values: Vec<i64> = (0..1000).map(|i| (i * 7919) % 1000 - 500).collect();
        let p = t.write_part(&block(&values), None, vec![]).unwrap().unwrap();
        store.commit(vec![p], vec![]).unwrap();
        let part = &t.snapshot().parts[0];
        let column = part.read_column(0, 0..part.meta.granules()).unwrap();
        let read: Vec<Value> = (0..column.len()).map(|r| column.value(r)).collect();
        let expected: Vec<Value> = (-500..500).map(Value::Int).collect();
        assert_eq!(read, expected);
    }

    #[test]
    fn commit_survives_reopen_and_uncommitted_parts_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let tdir = dir.path().join("t");
        {
            let store = Store::open(dir.path()).unwrap();
            let t = store.create_table("t1", &tdir, layout()).unwrap();
            let p = t.write_part(&block(&[3, 1, 2]), None, vec![]).unwrap().unwrap();
            store.commit(vec![p], vec![]).unwrap();
            let orphan = t.write_part(&block(&[9]), None, vec![]).unwrap().unwrap();
            std::mem::forget(orphan); // as if the process died before committing
            assert_eq!(t.snapshot().rows(), 3);
        }
        let store = Store::open(dir.path()).unwrap();
        let (t, broken) = store.attach_table("t1", &tdir, layout()).unwrap();
        store.finish_recovery().unwrap();
        assert!(broken.is_empty());
        let snap = t.snapshot();
        assert_eq!(snap.rows(), 3);
        assert_eq!(snap.parts[0].read_column(0, 0..1).unwrap().value(0), Value::Int(1));
        assert_eq!(fs::read_dir(&tdir).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(TMP_PREFIX)).count(), 0);
        let p = t.write_part(&block(&[5]), None, vec![]).unwrap().unwrap();
        // The uncommitted part's number is free again: its directory was removed on open.
        assert_eq!(p.name, "all_2_2_0");
    }

    #[test]
    fn torn_log_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let tdir = dir.path().join("t");
        {
            let store = Store::open(dir.path()).unwrap();
            let t = store.create_table("t1", &tdir, layout()).unwrap();
            store.commit(vec![t.write_part(&block(&[1]), None, vec![]).unwrap().unwrap()], vec![]).unwrap();
        }
        let mut f = OpenOptions::new().append(true).open(dir.path().join(LOG_FILE)).unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let store = Store::open(dir.path()).unwrap();
        let (t, _) = store.attach_table("t1", &tdir, layout()).unwrap();
        assert_eq!(t.snapshot().rows(), 1);
    }
}

#[cfg(test)]
mod merge_tests {
    use super::*;
    use crate::block::Block;
    use crate::codec::Codec;
    use crate::column::Column;
    use crate::merge::{select_merge, MergePolicy};
    use crate::part::ColumnSpec;
    use crate::types::DataType;
    use crate::value::Value;

    #[test]
    fn merged_parts_replace_their_sources_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let tdir = dir.path().join("t");
        let layout = TableLayout { columns: vec![ColumnSpec { name: "x".into(), ty: DataType::Int64, codec: Codec::Lz4, filter: None }], sort_key: vec![0], granularity: 2, mode: Default::default(), skip_indexes: Vec::new() };
        let store = Store::open(dir.path()).unwrap();
        let t = store.create_table("t1", &tdir, layout.clone()).unwrap();
        for batch in [[5i64, 1, 9], [4, 8, 0], [7, 3, 6]] {
            let col = Column::from_values(DataType::Int64, &batch.iter().map(|v| Value::Int(*v)).collect::<Vec<_>>()).unwrap();
            store.commit(vec![t.write_part(&Block::new(vec![Arc::new(col)]), None, vec![]).unwrap().unwrap()], vec![]).unwrap();
        }
        let before = t.snapshot();
        let chosen = select_merge(&before, &MergePolicy::default(), Default::default()).unwrap();
        assert_eq!(chosen.len(), 3);
        let merged = t.merge_parts(&chosen).unwrap().expect("rows remain");
        assert_eq!(merged.name, "all_1_3_1");
        let names: Vec<String> = chosen.iter().map(|p| p.name.clone()).collect();
        store.commit(vec![merged], vec![(t.clone(), names.clone())]).unwrap();
        let after = t.snapshot();
        assert_eq!(after.parts.len(), 1);
        let col = after.parts[0].read_column(0, 0..5).unwrap();
        let expected = [0, 1, 3, 4, 5, 6, 7, 8, 9].map(Value::Int);
        assert_eq!((0..9).map(|i| col.value(i)).collect::<Vec<_>>(), expected);
        // A reader of the old snapshot still sees the old parts; their files go when it lets go.
        assert!(tdir.join(&names[0]).exists());
        assert_eq!(before.parts[0].read_column(0, 0..1).unwrap().value(0), Value::Int(1));
        drop((before, chosen));
        assert!(!tdir.join(&names[0]).exists());
        // Removing a part that is no longer active is refused.
        assert!(store.commit(vec![], vec![(t.clone(), vec![names[0].clone()])]).is_err());
        drop((store, t, after));
        let store = Store::open(dir.path()).unwrap();
        let (t, _) = store.attach_table("t1", &tdir, layout).unwrap();
        assert_eq!(t.snapshot().parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["all_1_3_1"]);
    }
}
