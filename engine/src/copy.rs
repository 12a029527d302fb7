//! `COPY … FROM STDIN`: rows a client streams in Postgres's text or CSV format, parsed straight
//! into column vectors, handed block by block to the writer threads (`write_pool`) that sort
//! and write them as parts while the next block parses, and committed in one go at the end. A COPY that fails,
//! or is dropped unfinished, leaves no row behind.

use std::sync::Arc;

use granary_query::error::bail;
use granary_query::parse::CopyOptions;
use granary_query::{ErrorKind, QueryError, Result};
use granary_storage::types::EnumType;
use granary_storage::{time, Block, Column, ColumnData, ColumnRef, DataType, Value};

use crate::database::{Database, TableEntry};
use crate::insert;
use crate::write_pool::Writer;

/// Bytes of field text per block, so that wide rows keep memory bounded too.
const BLOCK_BYTES: usize = 256 << 20;

/// A `COPY … FROM STDIN` a client is about to stream: the table, the columns the data holds
/// and its format. `Session::execute` returns it; `Session::copy_in` starts the load.
#[derive(Debug, Clone)]
pub struct CopySpec {
    /// The table's database.
    pub database: String,
    /// The table.
    pub table: String,
    /// The columns each data line holds, in order (all the table's when the statement named none).
    pub columns: Vec<String>,
    /// Text or CSV, and their options.
    pub options: CopyOptions,
    /// Rows per block handed to the part writer (the session's `max_insert_block_size`).
    pub block_rows: usize,
}

/// A COPY in progress: feed it the data with `write`, in chunks cut anywhere, then `finish`.
pub struct CopyIn {
    db: Arc<Database>,
    entry: TableEntry,
    targets: Vec<usize>,
    options: CopyOptions,
    fields: Vec<FieldBuilder>,
    /// The unfinished record at the end of the data so far.
    carry: Vec<u8>,
    /// The line the next record starts on (1-based, as Postgres counts).
    line: u64,
    skip_header: bool,
    rows: u64,
    block_rows: usize,
    block_bytes: usize,
    max_block_rows: usize,
    spans: Vec<Span>,
    scratch: Vec<u8>,
    writer: Writer,
    failed: bool,
}

/// One field of the record being parsed: where it is in the buffer and how to read it.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    /// CSV: the field was quoted (so never NULL); text: irrelevant.
    quoted: bool,
    /// The bytes hold escapes (a doubled quote, a backslash) to undo.
    escaped: bool,
}

impl CopyIn {
    /// Starts a COPY into the table of `spec`.
    pub fn start(db: &Arc<Database>, spec: &CopySpec) -> Result<CopyIn> {
        let Some(entry) = db.resolve(&spec.database, &spec.table) else {
            bail!(UndefinedTable, "table {}.{} does not exist", spec.database, spec.table);
        };
        let targets = insert::target_columns(&entry.def, &spec.columns)?;
        let fields = targets.iter().map(|&i| FieldBuilder::new(&entry.def.layout.columns[i].ty)).collect();
        let writer = Writer::new(db.clone(), entry.clone());
        Ok(CopyIn {
            db: db.clone(),
            entry,
            targets,
            options: spec.options.clone(),
            fields,
            carry: Vec::new(),
            line: 1,
            skip_header: spec.options.header,
            rows: 0,
            block_rows: 0,
            block_bytes: 0,
            max_block_rows: spec.block_rows.max(1),
            spans: Vec::new(),
            scratch: Vec::new(),
            writer,
            failed: false,
        })
    }

    /// Parses the next piece of data. After an error the COPY is dead: later calls fail too,
    /// and nothing it read is ever committed.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        if self.failed {
            bail!(BadCopyFormat, "COPY {} already failed", self.entry.def.name);
        }
        // The unfinished record stays at the front of `carry`, whose memory is reused.
        let result = if self.carry.is_empty() {
            self.parse(data, false).map(|used| self.carry.extend_from_slice(&data[used..]))
        } else {
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(data);
            let parsed = self.parse(&buf, false);
            if let Ok(used) = parsed {
                buf.drain(..used);
            }
            self.carry = buf;
            parsed.map(|_| ())
        };
        self.failed = result.is_err();
        result
    }

    /// Reads the last record (which may lack its newline), writes what is left and commits
    /// every part of the COPY at once; returns the number of rows loaded.
    pub fn finish(mut self) -> Result<u64> {
        if self.failed {
            bail!(BadCopyFormat, "COPY {} already failed", self.entry.def.name);
        }
        let rest = std::mem::take(&mut self.carry);
        let used = self.parse(&rest, true)?;
        if used < rest.len() {
            return Err(self.format_error("unterminated CSV quoted field"));
        }
        self.flush()?;
        let parts = self.writer.finish()?;
        insert::commit_parts(&self.db, parts)?;
        Ok(self.rows)
    }

    /// Parses every complete record of `buf`; returns how many bytes they took. At `eof` a
    /// last record without a newline counts as complete.
    fn parse(&mut self, buf: &[u8], eof: bool) -> Result<usize> {
        let mut pos = 0;
        while pos < buf.len() {
            let Some((end, newlines)) = self.split_record(buf, pos, eof)? else { break };
            let record_line = self.line;
            self.line += newlines;
            if self.skip_header {
                self.skip_header = false;
            } else if !self.is_end_marker(buf) {
                self.push_record(buf, record_line)?;
            }
            pos = end;
        }
        Ok(pos)
    }

    /// Text format's `\.` end-of-data line, which older clients still send.
    fn is_end_marker(&self, buf: &[u8]) -> bool {
        !self.options.csv && self.spans.len() == 1 && &buf[self.spans[0].start..self.spans[0].end] == b"\\."
    }

    /// Finds the fields of the record starting at `pos` (into `self.spans`); returns the
    /// position after its newline and the number of lines it spans, or `None` when the data
    /// ends before the record does.
    fn split_record(&mut self, buf: &[u8], pos: usize, eof: bool) -> Result<Option<(usize, u64)>> {
        self.spans.clear();
        let (delimiter, quote, escape) = (self.options.delimiter, self.options.quote, self.options.escape);
        let mut i = pos;
        let mut newlines = 1;
        loop {
            if self.options.csv && buf.get(i) == Some(&quote) {
                // A quoted field runs to the quote that is not escaped.
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                let close = loop {
                    let Some(k) = memchr::memchr3(quote, escape, b'\n', &buf[j..]).map(|k| j + k) else {
                        return Ok(None);
                    };
                    match buf[k] {
                        b'\n' => {
                            newlines += 1;
                            j = k + 1;
                        }
                        // A doubled quote is one quote; a lone one closes the field.
                        _ if escape == quote => match buf.get(k + 1) {
                            Some(&next) if next == quote => {
                                escaped = true;
                                j = k + 2;
                            }
                            Some(_) => break k,
                            None if eof => break k,
                            None => return Ok(None),
                        },
                        c if c == escape => {
                            if k + 1 >= buf.len() {
                                return Ok(None);
                            }
                            escaped = true;
                            j = k + 2;
                        }
                        _ => break k,
                    }
                };
                self.spans.push(Span { start, end: close, quoted: true, escaped });
                i = close + 1;
                match buf.get(i) {
                    Some(&c) if c == delimiter => i += 1,
                    Some(b'\n') => return Ok(Some((i + 1, newlines))),
                    Some(b'\r') if buf.get(i + 1) == Some(&b'\n') => return Ok(Some((i + 2, newlines))),
                    Some(b'\r') if i + 1 == buf.len() && !eof => return Ok(None),
                    None if eof => return Ok(Some((i, newlines))),
                    None => return Ok(None),
                    Some(_) => {
                        return Err(self.format_error_at(self.line + newlines - 1, "unexpected character after a closing quote"));
                    }
                }
                continue;
            }
            // An unquoted field runs to the delimiter or the end of the line; in the text
            // format a backslash escapes the next byte, delimiters and newlines included.
            let start = i;
            let mut escaped = false;
            let found = loop {
                let next = if self.options.csv {
                    memchr::memchr2(delimiter, b'\n', &buf[i..])
                } else {
                    memchr::memchr3(delimiter, b'\n', b'\\', &buf[i..])
                };
                match next.map(|k| i + k) {
                    Some(k) if buf[k] == b'\\' && !self.options.csv => {
                        if k + 1 >= buf.len() && !eof {
                            return Ok(None);
                        }
                        escaped = true;
                        i = (k + 2).min(buf.len());
                    }
                    other => break other,
                }
            };
            match found {
                Some(k) if buf[k] == delimiter => {
                    self.spans.push(Span { start, end: k, quoted: false, escaped });
                    i = k + 1;
                }
                Some(k) => {
                    let end = if k > start && buf[k - 1] == b'\r' { k - 1 } else { k };
                    self.spans.push(Span { start, end, quoted: false, escaped });
                    return Ok(Some((k + 1, newlines)));
                }
                None if eof => {
                    let end = buf.len();
                    if end == pos && self.spans.is_empty() {
                        return Ok(None); // nothing after the last newline
                    }
                    self.spans.push(Span { start, end, quoted: false, escaped });
                    return Ok(Some((end, newlines)));
                }
                None => return Ok(None),
            }
        }
    }

    /// Appends the fields in `self.spans` to the column builders.
    fn push_record(&mut self, buf: &[u8], line: u64) -> Result<()> {
        if self.spans.len() < self.fields.len() {
            let name = &self.entry.def.layout.columns[self.targets[self.spans.len()]].name;
            return Err(self.format_error_at(line, &format!("missing data for column \"{name}\"")));
        }
        if self.spans.len() > self.fields.len() {
            return Err(self.format_error_at(line, "extra data after last expected column"));
        }
        for (c, span) in self.spans.iter().enumerate() {
            let raw = &buf[span.start..span.end];
            let null = !span.quoted && raw == self.options.null.as_bytes();
            let text = match (null, span.escaped) {
                (true, _) | (false, false) => raw,
                (false, true) => {
                    unescape(raw, &self.options, &mut self.scratch);
                    &self.scratch[..]
                }
            };
            self.block_bytes += text.len();
            if let Err(reason) = self.fields[c].push(text, null) {
                let name = &self.entry.def.layout.columns[self.targets[c]].name;
                let shown = String::from_utf8_lossy(text);
                return Err(QueryError::new(
                    ErrorKind::InvalidText,
                    format!("COPY {}, line {line}, column {name}: {reason}: \"{shown}\"", self.entry.def.name),
                ));
            }
        }
        self.rows += 1;
        self.block_rows += 1;
        if self.block_rows >= self.max_block_rows || self.block_bytes >= BLOCK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the rows parsed so far to the writer as one block of the table.
    fn flush(&mut self) -> Result<()> {
        if self.block_rows == 0 {
            return Ok(());
        }
        let columns = &self.entry.def.layout.columns;
        let mut parsed: Vec<Option<Column>> = self.fields.iter_mut().map(|f| Some(f.take())).collect();
        let block_columns: Vec<ColumnRef> = (0..columns.len())
            .map(|i| match self.targets.iter().position(|&t| t == i) {
                Some(pos) => Arc::new(parsed[pos].take().expect("each target once")),
                None => Arc::new(Column::defaults(columns[i].ty.clone(), self.block_rows)),
            })
            .collect();
        let block = Block::with_rows(block_columns, self.block_rows);
        self.block_rows = 0;
        self.block_bytes = 0;
        let sent = self.writer.send(block);
        self.failed = sent.is_err();
        sent
    }

    fn format_error(&self, what: &str) -> QueryError {
        self.format_error_at(self.line, what)
    }

    fn format_error_at(&self, line: u64, what: &str) -> QueryError {
        QueryError::new(ErrorKind::BadCopyFormat, format!("COPY {}, line {line}: {what}", self.entry.def.name))
    }
}

/// Undoes CSV's doubled quotes (or its escape character) or the text format's backslash
/// escapes, into `out`.
fn unescape(raw: &[u8], options: &CopyOptions, out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if options.csv {
            if c == options.escape && i + 1 < raw.len() {
                out.push(raw[i + 1]);
                i += 2;
            } else {
                out.push(c);
                i += 1;
            }
            continue;
        }
        if c != b'\\' || i + 1 >= raw.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let next = raw[i + 1];
        i += 2;
        match next {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut value = (next - b'0') as u32;
                let mut digits = 1;
                while digits < 3 && i < raw.len() && (b'0'..=b'7').contains(&raw[i]) {
                    value = value * 8 + (raw[i] - b'0') as u32;
                    i += 1;
                    digits += 1;
                }
                out.push(value as u8);
            }
            b'x' if i < raw.len() && raw[i].is_ascii_hexdigit() => {
                let mut value = 0u32;
                let mut digits = 0;
                while digits < 2 && i < raw.len() && raw[i].is_ascii_hexdigit() {
                    value = value * 16 + (raw[i] as char).to_digit(16).expect("hex digit");
                    i += 1;
                    digits += 1;
                }
                out.push(value as u8);
            }
            other => out.push(other),
        }
    }
}

/// How a column's text turns into its values: a fast path for the common types, and the
/// type's own text parser for the rest.
#[derive(Debug, Clone, PartialEq)]
enum Reader {
    String,
    Int,
    UInt,
    Float,
    Date,
    /// `DateTime` (precision 0) or `DateTime64(p)`.
    DateTime(u8),
    Enum(Arc<EnumType>),
    General,
}

/// The values of one column of the block being parsed.
struct FieldBuilder {
    column: Column,
    reader: Reader,
    /// What a NULL becomes in a non-Nullable column: the type's default, as ClickHouse
    /// (`input_format_null_as_default`) does.
    default: Column,
}

impl FieldBuilder {
    fn new(ty: &DataType) -> FieldBuilder {
        let value_type = ty.value_type();
        let reader = match value_type.non_null() {
            DataType::String => Reader::String,
            t if t.is_integer() && t.is_unsigned() => Reader::UInt,
            t if t.is_integer() => Reader::Int,
            t if t.is_float() => Reader::Float,
            DataType::Date => Reader::Date,
            DataType::DateTime => Reader::DateTime(0),
            DataType::DateTime64(p) => Reader::DateTime(*p),
            DataType::Enum(e) => Reader::Enum(e.clone()),
            _ => Reader::General,
        };
        FieldBuilder { column: Column::empty(value_type.clone()), reader, default: Column::defaults(value_type, 1) }
    }

    /// The values so far, leaving the builder empty with room for as many again (blocks are
    /// alike, and growing a vector by doubling copies it over and over).
    fn take(&mut self) -> Column {
        let mut next = Column::with_capacity(self.column.ty.clone(), self.column.len());
        if let (ColumnData::Bytes(next), ColumnData::Bytes(now)) = (&mut next.data, &self.column.data) {
            next.bytes.reserve(now.bytes.len() + now.bytes.len() / 8);
        }
        std::mem::replace(&mut self.column, next)
    }

    /// Appends one field; the error says why the text is not a value of the type.
    fn push(&mut self, text: &[u8], null: bool) -> std::result::Result<(), String> {
        if null {
            match &mut self.column.nulls {
                Some(_) => self.column.push_value(&Value::Null).map_err(|e| e.to_string())?,
                None => self.column.append(&self.default),
            }
            return Ok(());
        }
        let pushed = match (&self.reader, &mut self.column.data) {
            (Reader::String, ColumnData::Bytes(s)) => {
                s.push(text);
                true
            }
            (Reader::Int, data) => match parse_int(text) {
                Some(n) => push_integer(data, n as i128),
                None => false,
            },
            (Reader::UInt, data) => match parse_uint(text) {
                Some(n) => push_integer(data, n as i128),
                None => false,
            },
            (Reader::Float, ColumnData::F64(v)) => match parse_float(text) {
                Some(f) => {
                    v.push(f);
                    true
                }
                None => false,
            },
            (Reader::Float, ColumnData::F32(v)) => match parse_float(text) {
                Some(f) => {
                    v.push(f as f32);
                    true
                }
                None => false,
            },
            (Reader::Date, ColumnData::U16(v)) => match std::str::from_utf8(text).ok().and_then(time::parse_date) {
                Some(d) if (0..=u16::MAX as i64).contains(&d) => {
                    v.push(d as u16);
                    true
                }
                _ => false,
            },
            (Reader::DateTime(precision), data) => {
                match (std::str::from_utf8(text).ok().and_then(|t| time::parse_datetime(t, *precision)), data) {
                    (Some(t), ColumnData::I64(v)) => {
                        v.push(t);
                        true
                    }
                    (Some(t), ColumnData::U32(v)) if (0..=u32::MAX as i64).contains(&t) => {
                        v.push(t as u32);
                        true
                    }
                    _ => false,
                }
            }
            (Reader::Enum(e), data) => match std::str::from_utf8(text).ok().and_then(|name| e.number(name)) {
                Some(n) => push_integer(data, n as i128),
                None => false,
            },
            _ => false,
        };
        if pushed {
            if let Some(nulls) = &mut self.column.nulls {
                nulls.push(0);
            }
            return Ok(());
        }
        if matches!(self.reader, Reader::Int | Reader::UInt) {
            // No other spelling of an integer: the text is not one, or it does not fit.
            return Err(format!("invalid input or out of range for type {}", self.column.ty.non_null()));
        }
        // The general path: the type's own text parser, which also knows the spellings the
        // fast paths skip (`inf`, Unix-second timestamps, enum numbers).
        let text = std::str::from_utf8(text).map_err(|_| "invalid UTF-8".to_string())?;
        let ty = self.column.ty.non_null();
        let value = ty.parse_text(text).map_err(|_| format!("invalid input for type {ty}"))?;
        self.column.push_value(&value).map_err(|e| e.to_string())
    }
}

/// Pushes an integer into whichever integer vector the column has, if it fits there.
fn push_integer(data: &mut ColumnData, n: i128) -> bool {
    macro_rules! fit {
        ($v:expr) => {
            match n.try_into() {
                Ok(x) => {
                    $v.push(x);
                    true
                }
                Err(_) => false,
            }
        };
    }
    match data {
        ColumnData::I8(v) => fit!(v),
        ColumnData::I16(v) => fit!(v),
        ColumnData::I32(v) => fit!(v),
        ColumnData::I64(v) => fit!(v),
        ColumnData::U8(v) => fit!(v),
        ColumnData::U16(v) => fit!(v),
        ColumnData::U32(v) => fit!(v),
        ColumnData::U64(v) => fit!(v),
        _ => false,
    }
}

/// Decimal digits with an optional sign; `None` on anything else or overflow.
fn parse_int(text: &[u8]) -> Option<i64> {
    match text.split_first()? {
        (b'-', digits) => parse_uint(digits).and_then(|n| 0i64.checked_sub_unsigned(n)),
        (b'+', digits) => parse_uint(digits).and_then(|n| i64::try_from(n).ok()),
        _ => parse_uint(text).and_then(|n| i64::try_from(n).ok()),
    }
}

/// Decimal digits; `None` on anything else or overflow.
fn parse_uint(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in text {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(d as u64)?;
    }
    Some(n)
}

/// A float in plain decimal or exponent notation (`inf` and `nan` go the general path).
fn parse_float(text: &[u8]) -> Option<f64> {
    if let Some(n) = parse_int(text) {
        if n.unsigned_abs() < (1 << 53) {
            return Some(n as f64);
        }
    }
    std::str::from_utf8(text).ok()?.parse().ok().filter(|f: &f64| f.is_finite())
}
