//! The dataset as CSV files (`granary bench gen`): `user_behaviors.csv` with the `context`
//! Nested flattened into four columns and `items.csv`, in the columns of `docs/dataset.md`,
//! in text forms that ClickHouse, DuckDB and Granary's COPY all read (empty strings quoted).
//! Same row count, same bytes. Also the one CSV field splitter the INSERT ingest uses to turn lines into rows.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use granary_engine::time::civil_from_days;

use crate::dataset::{items, Event, Generator, Vocabulary, ACTIONS, BENCH_END_DAY, CATEGORIES, DEVICE_OS, SCENARIOS};

/// The header of `user_behaviors.csv`, its column names in order.
pub const EVENTS_HEADER: &str = "event_id,tenant_id,scenario_id,user_id,item_id,action_type,device_type,os,location,ip,extra_data,watch_duration,completion_rate,experiment_id,experiment_group,timestamp,date";
/// The events file's name in a data directory.
pub const EVENTS_FILE: &str = "user_behaviors.csv";
/// The items file's name in a data directory.
pub const ITEMS_FILE: &str = "items.csv";
/// Events formatted per chunk handed between the generating and the formatting thread.
const CHUNK: usize = 1 << 16;

/// What `generate` wrote.
#[derive(Debug, Clone)]
pub struct GenReport {
    /// Events written.
    pub rows: usize,
    /// Size of `user_behaviors.csv`.
    pub bytes: u64,
    /// Seconds for both files.
    pub seconds: f64,
    /// The events file.
    pub path: PathBuf,
}

/// Writes `rows` events (ending on 2026-11-20) and the items into `dir`, calling `progress`
/// with the rows written so far.
pub fn generate(dir: &Path, rows: usize, mut progress: impl FnMut(usize)) -> anyhow::Result<GenReport> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let path = dir.join(EVENTS_FILE);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    writeln!(out, "{EVENTS_HEADER}")?;
    // One thread draws the events, this one formats and writes them.
    let (tx, rx) = mpsc::sync_channel::<Vec<Event>>(4);
    let written = std::thread::scope(|scope| -> anyhow::Result<usize> {
        scope.spawn(move || {
            let mut events = Generator::new(rows, BENCH_END_DAY);
            loop {
                let chunk: Vec<Event> = events.by_ref().take(CHUNK).collect();
                if chunk.is_empty() || tx.send(chunk).is_err() {
                    break;
                }
            }
        });
        let mut row = RowWriter::default();
        let mut buf = Vec::with_capacity(CHUNK * 200);
        let mut done = 0;
        for chunk in rx {
            buf.clear();
            for e in &chunk {
                row.event(e, &mut buf);
            }
            out.write_all(&buf)?;
            done += chunk.len();
            progress(done);
        }
        Ok(done)
    })?;
    out.flush()?;
    write_items(&dir.join(ITEMS_FILE))?;
    Ok(GenReport { rows: written, bytes: std::fs::metadata(&path)?.len(), seconds: started.elapsed().as_secs_f64(), path })
}

fn write_items(path: &Path) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "item_id,category,brand,price")?;
    for it in items() {
        writeln!(out, "i{},{},brand_{:03},{}", it.item, CATEGORIES[it.category as usize], it.brand, it.price_cents as f64 / 100.0)?;
    }
    Ok(out.flush()?)
}

/// Formats events as CSV lines; remembers the text of the current day.
#[derive(Default)]
struct RowWriter {
    vocabulary: Vocabulary,
    /// The `extra_data` strings quoted for CSV.
    extra: Vec<String>,
    day: Option<(i64, [u8; 10])>,
}

impl RowWriter {
    fn event(&mut self, e: &Event, out: &mut Vec<u8>) {
        if self.extra.is_empty() {
            self.extra = self.vocabulary.extra.iter().map(|x| format!("\"{}\"", x.replace('"', "\"\""))).collect();
        }
        push_hex16(e.event_id, out);
        out.extend_from_slice(b",t");
        push_2digits(e.tenant as u32, out);
        out.push(b',');
        out.extend_from_slice(SCENARIOS[e.scenario as usize].0.as_bytes());
        out.extend_from_slice(b",u");
        push_u64(e.user as u64, out);
        out.extend_from_slice(b",i");
        push_u64(e.item as u64, out);
        out.push(b',');
        out.extend_from_slice(ACTIONS[e.action as usize].0.as_bytes());
        let (device, os, _) = DEVICE_OS[e.device_os as usize];
        out.push(b',');
        out.extend_from_slice(device.as_bytes());
        out.push(b',');
        out.extend_from_slice(os.as_bytes());
        out.push(b',');
        out.extend_from_slice(self.vocabulary.cities[e.city as usize].as_bytes());
        out.push(b',');
        for (n, octet) in e.ip.iter().enumerate() {
            if n > 0 {
                out.push(b'.');
            }
            push_u64(*octet as u64, out);
        }
        out.push(b',');
        out.extend_from_slice(self.extra[e.extra as usize].as_bytes());
        out.push(b',');
        if e.watch_duration < 0 {
            out.push(b'-');
        }
        push_u64(e.watch_duration.unsigned_abs() as u64, out);
        out.push(b',');
        // Three decimals at most, printed the shortest way (`0`, `0.5`, `0.123`).
        let thousandths = (e.completion_rate as f64 * 1000.0).round() as u64;
        push_u64(thousandths / 1000, out);
        if !thousandths.is_multiple_of(1000) {
            let frac = format!("{:03}", thousandths % 1000);
            out.push(b'.');
            out.extend_from_slice(frac.trim_end_matches('0').as_bytes());
        }
        // Empty strings are quoted, so that no reader takes them for NULL.
        if e.experiment > 0 {
            out.extend_from_slice(b",exp");
            push_u64(e.experiment as u64, out);
        } else {
            out.extend_from_slice(b",\"\"");
        }
        out.extend_from_slice([",\"\"", ",control", ",treatment"][e.group as usize].as_bytes());
        let day = e.timestamp_ms.div_euclid(86_400_000);
        let date = self.date(day);
        out.push(b',');
        out.extend_from_slice(&date);
        let ms = e.timestamp_ms.rem_euclid(86_400_000) as u32;
        out.push(b' ');
        push_2digits(ms / 3_600_000, out);
        out.push(b':');
        push_2digits(ms / 60_000 % 60, out);
        out.push(b':');
        push_2digits(ms / 1000 % 60, out);
        out.push(b'.');
        push_2digits(ms % 1000 / 10, out);
        out.push(b'0' + (ms % 10) as u8);
        out.push(b',');
        out.extend_from_slice(&date);
        out.push(b'\n');
    }

    fn date(&mut self, day: i64) -> [u8; 10] {
        match self.day {
            Some((d, text)) if d == day => text,
            _ => {
                let (y, m, d) = civil_from_days(day);
                let mut text = [0u8; 10];
                text.copy_from_slice(format!("{y:04}-{m:02}-{d:02}").as_bytes());
                self.day = Some((day, text));
                text
            }
        }
    }
}

fn push_hex16(v: u64, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(HEX[(v >> (shift * 4)) as usize & 15]);
    }
}

fn push_2digits(v: u32, out: &mut Vec<u8>) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

fn push_u64(mut v: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut n = digits.len();
    loop {
        n -= 1;
        digits[n] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[n..]);
}

/// The fields of one CSV line (no line break), quotes removed and `""` unescaped.
pub fn fields(line: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut tail = quoted;
            while let Some(q) = tail.find('"') {
                value.push_str(&tail[..q]);
                if tail[q + 1..].starts_with('"') {
                    value.push('"');
                    tail = &tail[q + 2..];
                } else {
                    tail = &tail[q + 1..];
                    break;
                }
            }
            out.push(Cow::Owned(value));
            match tail.strip_prefix(',') {
                Some(next) => rest = next,
                None => return out,
            }
        } else {
            match rest.find(',') {
                Some(c) => {
                    out.push(Cow::Borrowed(&rest[..c]));
                    rest = &rest[c + 1..];
                }
                None => {
                    out.push(Cow::Borrowed(rest));
                    return out;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_deterministic_and_well_formed() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let report = generate(a.path(), 30_000, |_| {}).unwrap();
        generate(b.path(), 30_000, |_| {}).unwrap();
        let text = std::fs::read_to_string(&report.path).unwrap();
        assert_eq!(text, std::fs::read_to_string(b.path().join(EVENTS_FILE)).unwrap());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!((lines.len(), lines[0]), (30_001, EVENTS_HEADER));
        for line in &lines[1..] {
            let f = fields(line);
            assert_eq!(f.len(), 17, "{line}");
            assert!(f[10].starts_with("{\"ref\":"), "{line}");
            assert_eq!(&f[15][..10], &*f[16], "{line}");
        }
        assert!(lines[1].ends_with(",2026-08-23"), "{}", lines[1]);
        assert!(lines[30_000].ends_with(",2026-11-20"), "{}", lines[30_000]);
        let items = std::fs::read_to_string(a.path().join(ITEMS_FILE)).unwrap();
        assert_eq!(items.lines().count(), 200_001);
    }

    #[test]
    fn fields_unquote() {
        assert_eq!(fields(r#"a,"b,""c""",,"""#), vec!["a", "b,\"c\"", "", ""]);
    }
}
