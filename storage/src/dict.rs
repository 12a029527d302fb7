//! Dictionary encoding of string columns inside a part.
//!
//! Every granule of a String or FixedString column starts with a tag byte. `PLAIN` granules
//! hold the column encoding (`Column::encode`); `HEX` granules hold hexadecimal ids as their
//! bytes; decimal granules hold ids made of one text and a number as the numbers, bit-packed
//! after their smallest; `PACKED`
//! granules hold the null map (Nullable columns only) and then one code per row indexing the
//! part's dictionary for that column (`<col>.dict`: entry count, then each entry as LEB128
//! length and bytes, in one compressed frame). Codes are bit-packed, as few bits each as the
//! granule's largest code needs, in SIMD-friendly blocks (the `bitpacking` crate): a city out
//! of 300 costs 9 bits and unpacks at several billion codes a second, where bytes of codes
//! needed a general-purpose codec to get as small and took longer to decompress than the
//! filters on them took to run.
//!
//! The writer builds the dictionary while the part streams out. `LowCardinality` columns
//! keep coding until the dictionary holds `LOW_CARDINALITY_MAX_ENTRIES` values; other
//! columns start coding too but give up for the rest of the part as soon as the
//! dictionary holds more than one entry per `AUTO_MIN_ROWS_PER_ENTRY` rows written, or
//! `AUTO_MAX_ENTRIES` values: unique ids gain nothing from a dictionary, while a city or
//! device name costs one byte per row instead of its text. Codes never change once given,
//! so a granule written before the writer gives up stays readable.

use ahash::RandomState;
use bitpacking::{BitPacker, BitPacker8x};
use hashbrown::HashTable;

use crate::column::{cmp_strings, extend_kept, push_short, read_length, read_varint, write_varint, Column, ColumnData, StringData};
use crate::error::{Result, StorageError};
use crate::types::DataType;

const PLAIN: u8 = 0;
/// A granule of dictionary codes: the null map (Nullable columns only), the codes' bit width
/// in a byte, then the codes bit-packed in blocks of `BLOCK` (the last one padded with zeros).
const PACKED: u8 = 0x30;
/// Codes per bit-packed block.
const BLOCK: usize = BitPacker8x::BLOCK_LEN;
/// A granule of non-Nullable strings that are all lowercase hexadecimal of one even length
/// (hashes, trace and event ids): the half length in a byte, then each row's bytes, half the
/// size of the text and no entropy for the codec to model.
const HEX: u8 = 0x10;
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
/// A granule of non-Nullable strings that all are one text followed by a decimal number
/// below 2^32 without leading zeros (`u1489982`, `i47219`, `42`), as parts of format 3 wrote
/// it: the text's length in a byte and its bytes, then each row's number as 4 little-endian
/// bytes. Still read; `DECIMAL_PACKED` is written instead.
const DECIMAL: u8 = 0x20;
/// Such a granule as written now: the text's length in a byte and its bytes, the smallest
/// number as 4 little-endian bytes, then each row's number less the smallest, bit-packed as
/// the codes of a `PACKED` granule are. 200,000 item ids take 18 bits a row, fewer bytes
/// than a general-purpose codec got from the 4-byte numbers, and unpack without one; ids
/// take half their text's bytes or less, and `s = 'u42'` compares numbers.
const DECIMAL_PACKED: u8 = 0x21;
/// The longest text before the number of a decimal granule.
const DECIMAL_MAX_PREFIX: usize = 64;
const AUTO_MAX_ENTRIES: usize = 1 << 16;
const AUTO_MIN_ROWS_PER_ENTRY: usize = 4;
const LOW_CARDINALITY_MAX_ENTRIES: usize = 1 << 20;

/// True when granules of a column of this type carry a dictionary tag byte.
pub fn is_dictionary_capable(ty: &DataType) -> bool {
    ty.value_type().non_null().is_string()
}

/// Builds one column's dictionary while its granules are written.
pub struct DictWriter {
    /// Each entry's code, found by the entry's hash; the bytes are the entries' own.
    ids: HashTable<u32>,
    hasher: RandomState,
    entries: StringData,
    max_entries: usize,
    /// `LowCardinality`: code regardless of how many distinct values the data has.
    always: bool,
    /// False once the writer gave up; later granules are written plain.
    coding: bool,
    rows_coded: usize,
    codes: Vec<u32>,
    /// The smallest and largest entries: the part's min/max of every coded granule.
    bounds: Option<(u32, u32)>,
}

impl DictWriter {
    /// A writer for a column of type `ty` (which must be dictionary-capable).
    pub fn new(ty: &DataType) -> DictWriter {
        let always = ty.is_low_cardinality();
        DictWriter {
            ids: HashTable::new(),
            hasher: RandomState::new(),
            entries: StringData::default(),
            max_entries: if always { LOW_CARDINALITY_MAX_ENTRIES } else { AUTO_MAX_ENTRIES },
            always,
            coding: true,
            rows_coded: 0,
            codes: Vec::new(),
            bounds: None,
        }
    }

    /// Appends rows `start..end` of `column` as one granule: codes while the dictionary
    /// can hold the values, else the plain column encoding. True when the granule was coded
    /// (its values then count in `bounds`).
    pub fn encode_granule(&mut self, column: &Column, start: usize, end: usize, out: &mut Vec<u8>) -> bool {
        let ColumnData::Bytes(strings) = &column.data else {
            unreachable!("dictionary-capable columns hold bytes")
        };
        if self.coding && !self.code_rows(strings, start, end) {
            self.coding = false;
        }
        if !self.coding {
            if column.nulls.is_some() || !(encode_hex(strings, start, end, out) || encode_decimal(strings, start, end, out)) {
                out.push(PLAIN);
                column.encode(start, end, out);
            }
            return false;
        }
        out.push(PACKED);
        if let Some(nulls) = &column.nulls {
            out.extend_from_slice(&nulls[start..end]);
        }
        write_packed(&mut self.codes, out);
        self.rows_coded += end - start;
        if !self.always && self.entries.len() * AUTO_MIN_ROWS_PER_ENTRY > self.rows_coded {
            self.coding = false;
        }
        true
    }

    /// The smallest and largest value of the coded granules (compared once per distinct
    /// value, not once per row).
    pub fn bounds(&self) -> Option<(&[u8], &[u8])> {
        self.bounds.map(|(lo, hi)| (self.entries.get(lo as usize), self.entries.get(hi as usize)))
    }

    /// Fills `self.codes` for the rows; false when the dictionary would grow past its cap.
    fn code_rows(&mut self, strings: &StringData, start: usize, end: usize) -> bool {
        self.codes.clear();
        // Rows sorted by the column (a tenant, a scenario) repeat the row before.
        let mut last: Option<(&[u8], u32)> = None;
        for i in start..end {
            let value = strings.get(i);
            if let Some((_, code)) = last.filter(|&(before, _)| same_bytes(before, value)) {
                self.codes.push(code);
                continue;
            }
            let hash = self.hasher.hash_one(value);
            let entries = &self.entries;
            let code = match self.ids.find(hash, |&c| same_bytes(entries.get(c as usize), value)) {
                Some(&c) => c,
                None if self.entries.len() < self.max_entries => {
                    let c = self.entries.len() as u32;
                    self.entries.push(value);
                    let (entries, hasher) = (&self.entries, &self.hasher);
                    self.ids.insert_unique(hash, c, |&c| hasher.hash_one(entries.get(c as usize)));
                    self.bounds = Some(match self.bounds {
                        None => (c, c),
                        Some((lo, hi)) => (
                            if cmp_strings(value, self.entries.get(lo as usize)).is_lt() { c } else { lo },
                            if cmp_strings(value, self.entries.get(hi as usize)).is_gt() { c } else { hi },
                        ),
                    });
                    c
                }
                None => return false,
            };
            last = Some((value, code));
            self.codes.push(code);
        }
        true
    }

    /// The dictionary file's uncompressed content, or `None` when no granule used it.
    pub fn finish(self) -> Option<Vec<u8>> {
        if self.entries.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(self.entries.bytes.len() + self.entries.len() + 4);
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in self.entries.iter() {
            write_varint(e.len() as u64, &mut out);
            out.extend_from_slice(e);
        }
        Some(out)
    }
}

/// Appends `values` bit-packed as `PackedCodes::read` reads them: the bit width their largest
/// needs in a byte, then blocks of `BLOCK` (`values` is padded with zeros to whole blocks).
pub(crate) fn write_packed(values: &mut Vec<u32>, out: &mut Vec<u8>) {
    let max = values.iter().fold(0, |max, &c| max.max(c));
    let bits = (u32::BITS - max.leading_zeros()) as u8;
    out.push(bits);
    values.resize(values.len().next_multiple_of(BLOCK), 0);
    let (packer, size) = (BitPacker8x::new(), BitPacker8x::compressed_block_size(bits));
    for block in values.chunks_exact(BLOCK) {
        let at = out.len();
        out.resize(at + size, 0);
        packer.compress(block, &mut out[at..], bits);
    }
}

/// Writes rows `start..end` as a `HEX` granule when they all are lowercase hexadecimal of
/// one even length of 2 to 510 digits; false (nothing written) when they are not.
fn encode_hex(strings: &StringData, start: usize, end: usize, out: &mut Vec<u8>) -> bool {
    let len = strings.get(start).len();
    let digit = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    let text = &strings.bytes[strings.offsets[start] as usize..strings.offsets[end] as usize];
    let fits = len.is_multiple_of(2) && (2..=510).contains(&len) && text.len() == len * (end - start) && (start..end).all(|i| strings.get(i).len() == len) && text.iter().all(|&b| digit(b));
    if !fits {
        return false;
    }
    let value = |b: u8| if b <= b'9' { b - b'0' } else { b - b'a' + 10 };
    out.push(HEX);
    out.push((len / 2) as u8);
    out.extend(text.chunks_exact(2).map(|p| value(p[0]) << 4 | value(p[1])));
    true
}

/// Writes rows `start..end` as a `DECIMAL_PACKED` granule when they all are the same text
/// followed by a number (see `number_after`); false (nothing written) when they are not.
fn encode_decimal(strings: &StringData, start: usize, end: usize, out: &mut Vec<u8>) -> bool {
    let prefix = text_before_number(strings.get(start));
    if prefix.len() > DECIMAL_MAX_PREFIX {
        return false;
    }
    let Some(mut numbers) = (start..end).map(|i| number_after(strings.get(i), prefix)).collect::<Option<Vec<u32>>>() else {
        return false;
    };
    let base = numbers.iter().fold(u32::MAX, |min, &n| min.min(n));
    numbers.iter_mut().for_each(|n| *n -= base);
    out.push(DECIMAL_PACKED);
    out.push(prefix.len() as u8);
    out.extend_from_slice(prefix);
    out.extend_from_slice(&base.to_le_bytes());
    write_packed(&mut numbers, out);
    true
}

/// `value` without its trailing digits: the text before its number, if it is a text and a
/// number.
fn text_before_number(value: &[u8]) -> &[u8] {
    &value[..value.len() - value.iter().rev().take_while(|b| b.is_ascii_digit()).count()]
}

/// A dictionary's entries as numbers after the text before the first entry's number, and
/// that text, when every entry is that text and a number in canonical form (`number_after`):
/// codes into it then read as numbers (`Part::read_numbers`).
pub fn entry_numbers(entries: &StringData) -> Option<(Vec<u8>, Vec<u32>)> {
    let prefix = text_before_number(entries.iter().next()?);
    let numbers = entries.iter().map(|e| number_after(e, prefix)).collect::<Option<Vec<u32>>>()?;
    Some((prefix.to_vec(), numbers))
}

/// The number `value` holds after `prefix` (which does not end in a digit): 1 to 10 digits,
/// no leading zero unless the number is 0, below 2^32. `None` when `value` is not that, so
/// that the prefix and the number's shortest digits give `value` back exactly: a string is
/// `prefix` and a number in exactly one way, which lets numbers read from decimal granules
/// (`decode_numbers`) and strings read from other granules be compared.
pub fn number_after(value: &[u8], prefix: &[u8]) -> Option<u32> {
    let digits = value.strip_prefix(prefix)?;
    if digits.is_empty() || digits.len() > 10 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut n = 0u64;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    u32::try_from(n).ok()
}

/// One decimal granule (`DECIMAL` or `DECIMAL_PACKED`): the text before the numbers and the
/// numbers.
struct DecimalGranule<'a> {
    prefix: &'a [u8],
    numbers: DecimalNumbers<'a>,
    rows: usize,
}

/// The numbers of a decimal granule, in either layout.
enum DecimalNumbers<'a> {
    /// 4 little-endian bytes each (`DECIMAL`).
    Bytes(&'a [u8]),
    /// Bit-packed after the smallest (`DECIMAL_PACKED`).
    Packed { base: u32, offsets: PackedCodes<'a> },
}

impl<'a> DecimalGranule<'a> {
    /// The granule of `rows` rows starting at its tag, or `None` when the tag is not a decimal
    /// granule's.
    fn read(bytes: &'a [u8], rows: usize) -> Result<Option<DecimalGranule<'a>>> {
        let tag = *bytes.first().ok_or_else(short_granule)?;
        if tag != DECIMAL && tag != DECIMAL_PACKED {
            return Ok(None);
        }
        let len = *bytes.get(1).ok_or_else(short_granule)? as usize;
        let prefix = bytes.get(2..2 + len).ok_or_else(short_granule)?;
        let rest = &bytes[2 + len..];
        let numbers = match tag {
            DECIMAL => DecimalNumbers::Bytes(rest.get(..rows * 4).ok_or_else(short_granule)?),
            _ => {
                let base = u32::from_le_bytes(rest.get(..4).ok_or_else(short_granule)?.try_into().unwrap());
                DecimalNumbers::Packed { base, offsets: PackedCodes::read(&rest[4..], rows)? }
            }
        };
        Ok(Some(DecimalGranule { prefix, numbers, rows }))
    }

    /// The bytes the granule takes, its tag included.
    fn size(&self) -> usize {
        2 + self.prefix.len()
            + match &self.numbers {
                DecimalNumbers::Bytes(raw) => raw.len(),
                DecimalNumbers::Packed { offsets, .. } => 4 + offsets.size(),
            }
    }

    /// Calls `visit(first_row, numbers)` for each block of up to `BLOCK` rows' numbers, in
    /// row order.
    fn for_each_block(&self, mut visit: impl FnMut(usize, &[u32])) -> Result<()> {
        let mut numbers = [0u32; BLOCK];
        match &self.numbers {
            DecimalNumbers::Bytes(raw) => {
                for (start, chunk) in (0..self.rows).step_by(BLOCK).zip(raw.chunks(4 * BLOCK)) {
                    let block = &mut numbers[..chunk.len() / 4];
                    block.iter_mut().zip(chunk.chunks_exact(4)).for_each(|(n, b)| *n = u32::from_le_bytes(b.try_into().unwrap()));
                    visit(start, block);
                }
                Ok(())
            }
            // Any offset unpacks: numbers past the writer's largest are wrong, not unsafe.
            DecimalNumbers::Packed { base, offsets } => offsets.for_each_block(usize::MAX, |start, block| {
                let block_numbers = &mut numbers[..block.len()];
                block_numbers.iter_mut().zip(block).for_each(|(n, &o)| *n = base.wrapping_add(o));
                visit(start, block_numbers);
            }),
        }
    }

    /// Appends the numbers of the rows `keep` keeps (all without a mask) to `out`.
    fn extend_numbers(&self, out: &mut Vec<u32>, keep: Option<&[u8]>) -> Result<()> {
        self.for_each_block(|start, block| match keep {
            None => out.extend_from_slice(block),
            Some(keep) => extend_kept(out, block.iter().copied(), &keep[start..start + block.len()]),
        })
    }
}

/// Appends the rows of a decimal granule whose `keep` byte is non-zero to `strings`.
fn decode_decimal(strings: &mut StringData, granule: &DecimalGranule, keep: Option<&[u8]>) -> Result<()> {
    let mut numbers = Vec::with_capacity(granule.rows);
    granule.extend_numbers(&mut numbers, keep)?;
    push_numbered(strings, granule.prefix, &numbers);
    Ok(())
}

/// Appends `prefix` followed by each number's decimal digits to `strings`: the strings a
/// decimal granule (or the numbers `decode_numbers` gave) stands for.
pub fn push_numbered(strings: &mut StringData, prefix: &[u8], numbers: &[u32]) {
    strings.bytes.reserve(numbers.len() * (prefix.len() + 10));
    strings.offsets.reserve(numbers.len());
    if prefix.len() + 10 <= 16 {
        // The text and the digits built in a 16-byte block, stored whole and cut back: no
        // `memcpy` call per row.
        let mut text = [0u8; 16];
        text[..prefix.len()].copy_from_slice(prefix);
        for &n in numbers {
            let len = prefix.len() + write_digits(&mut text[prefix.len()..], n);
            let end = strings.bytes.len() + len;
            strings.bytes.extend_from_slice(&text);
            strings.bytes.truncate(end);
            strings.offsets.push(end as u64);
        }
    } else {
        let mut digits = [0u8; 10];
        for &n in numbers {
            let len = write_digits(&mut digits, n);
            strings.bytes.extend_from_slice(prefix);
            strings.bytes.extend_from_slice(&digits[..len]);
            strings.offsets.push(strings.bytes.len() as u64);
        }
    }
}

/// Appends the numbers of one granule's rows that `keep` keeps (all without a mask) to
/// `out` when it is a decimal granule whose text before the numbers is `prefix` (set from
/// the first such granule while `None`); false (nothing appended) when it is not.
pub fn decode_numbers(out: &mut Vec<u32>, prefix: &mut Option<Vec<u8>>, bytes: &[u8], rows: usize, keep: Option<&[u8]>) -> Result<bool> {
    let Some(granule) = DecimalGranule::read(bytes, rows)? else { return Ok(false) };
    if prefix.get_or_insert_with(|| granule.prefix.to_vec()) != granule.prefix {
        return Ok(false);
    }
    granule.extend_numbers(out, keep)?;
    Ok(true)
}

/// Writes `n`'s decimal digits at the start of `out` (which has room for 10); returns how many.
#[inline]
fn write_digits(out: &mut [u8], mut n: u32) -> usize {
    let digits = n.checked_ilog10().unwrap_or(0) as usize + 1;
    for d in out[..digits].iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    digits
}

/// Appends the rows of a `HEX` granule (after its tag) whose `keep` byte is non-zero to
/// `strings`; returns the bytes consumed.
fn decode_hex(strings: &mut StringData, bytes: &[u8], rows: usize, keep: Option<&[u8]>) -> Result<usize> {
    let half = *bytes.first().ok_or_else(short_granule)? as usize;
    let raw = bytes.get(1..1 + rows * half).ok_or_else(short_granule)?;
    for (row, value) in raw.chunks_exact(half).enumerate() {
        if keep.is_none_or(|k| k[row] != 0) {
            strings.bytes.extend(value.iter().flat_map(|&b| [HEX_DIGITS[(b >> 4) as usize], HEX_DIGITS[(b & 15) as usize]]));
            strings.offsets.push(strings.bytes.len() as u64);
        }
    }
    Ok(1 + rows * half)
}

/// Reads a dictionary file's uncompressed content.
pub fn decode_dictionary(bytes: &[u8]) -> Result<StringData> {
    let bad = || StorageError::Invalid("bad dictionary".into());
    let count = u32::from_le_bytes(bytes.get(..4).ok_or_else(bad)?.try_into().unwrap()) as usize;
    let mut entries = StringData::with_capacity(count);
    let mut pos = 4;
    for _ in 0..count {
        let (len, n) = read_varint(bytes.get(pos..).ok_or_else(bad)?).ok_or_else(bad)?;
        pos += n;
        entries.push(bytes.get(pos..pos + len as usize).ok_or_else(bad)?);
        pos += len as usize;
    }
    Ok(entries)
}

/// Appends one granule of `rows` rows written by `DictWriter::encode_granule` to `out`, only
/// the rows whose `keep` byte is non-zero when there is a mask; returns the bytes consumed.
pub fn decode_granule(out: &mut Column, bytes: &[u8], rows: usize, dict: Option<&StringData>, keep: Option<&[u8]>) -> Result<usize> {
    let short = short_granule;
    let tag = *bytes.first().ok_or_else(short)?;
    if tag == PLAIN {
        return Ok(1 + out.decode_append_kept(&bytes[1..], rows, keep)?);
    }
    if tag == HEX {
        let ColumnData::Bytes(strings) = &mut out.data else {
            return Err(StorageError::Invalid("hexadecimal granule in a column that is not a string".into()));
        };
        return Ok(1 + decode_hex(strings, &bytes[1..], rows, keep)?);
    }
    if let Some(granule) = DecimalGranule::read(bytes, rows)? {
        let ColumnData::Bytes(strings) = &mut out.data else {
            return Err(StorageError::Invalid("decimal granule in a column that is not a string".into()));
        };
        decode_decimal(strings, &granule, keep)?;
        return Ok(granule.size());
    }
    if tag != PACKED {
        return Err(StorageError::Invalid(format!("bad granule tag {tag}")));
    }
    let dict = dict.ok_or_else(|| StorageError::Invalid("coded granule without a dictionary".into()))?;
    let kept = |row: usize| keep.is_none_or(|k| k[row] != 0);
    let mut pos = 1;
    if let Some(nulls) = &mut out.nulls {
        let map = bytes.get(pos..pos + rows).ok_or_else(short)?;
        nulls.extend(map.iter().enumerate().filter(|&(row, _)| kept(row)).map(|(_, n)| *n));
        pos += rows;
    }
    let codes = PackedCodes::read(&bytes[pos..], rows)?;
    let ColumnData::Bytes(strings) = &mut out.data else {
        return Err(StorageError::Invalid("coded granule in a column that is not a string".into()));
    };
    let mut ids = Vec::with_capacity(rows);
    kept_codes(&mut ids, &codes, keep, dict.len())?;
    for code in ids {
        let (at, end) = (dict.offsets[code as usize] as usize, dict.offsets[code as usize + 1] as usize);
        push_short(&mut strings.bytes, &dict.bytes, at, end - at).ok_or_else(short)?;
        strings.offsets.push(strings.bytes.len() as u64);
    }
    Ok(pos + codes.size())
}

/// The bit-packed codes of one `PACKED` granule (and of a `Codec::BitPacked` frame).
pub(crate) struct PackedCodes<'a> {
    bits: u8,
    /// The blocks, `BitPacker8x::compressed_block_size(bits)` bytes each.
    blocks: &'a [u8],
    rows: usize,
}

impl<'a> PackedCodes<'a> {
    /// The codes of a granule of `rows` rows, from `bytes` starting at its bit width.
    pub(crate) fn read(bytes: &'a [u8], rows: usize) -> Result<PackedCodes<'a>> {
        let bits = *bytes.first().ok_or_else(short_granule)?;
        if bits > 32 {
            return Err(StorageError::Invalid(format!("codes of {bits} bits")));
        }
        let len = rows.div_ceil(BLOCK) * BitPacker8x::compressed_block_size(bits);
        Ok(PackedCodes { bits, blocks: bytes.get(1..1 + len).ok_or_else(short_granule)?, rows })
    }

    /// The bytes the codes take, their bit width's byte included.
    pub(crate) fn size(&self) -> usize {
        1 + self.blocks.len()
    }

    /// Calls `visit(first_row, codes)` for each block of codes in row order, the last one cut
    /// to the granule's rows; an error when a code is past a dictionary of `entries` entries.
    pub(crate) fn for_each_block(&self, entries: usize, mut visit: impl FnMut(usize, &[u32])) -> Result<()> {
        let (packer, size) = (BitPacker8x::new(), BitPacker8x::compressed_block_size(self.bits));
        // Codes of fewer bits than the dictionary needs are all in it.
        let check = 1u64 << self.bits > entries as u64;
        let mut codes = [0u32; BLOCK];
        for (b, start) in (0..self.rows).step_by(BLOCK).enumerate() {
            packer.decompress(&self.blocks[b * size..(b + 1) * size], &mut codes, self.bits);
            let block = &codes[..(self.rows - start).min(BLOCK)];
            if check {
                // A fold, not `max()`, so that the loop vectorizes.
                let max = block.iter().fold(0, |max, &c| max.max(c));
                if max as usize >= entries {
                    return Err(StorageError::Invalid(format!("code {max} past a dictionary of {entries}")));
                }
            }
            visit(start, block);
        }
        Ok(())
    }
}

/// The codes of one granule of `rows` rows of a non-Nullable column, or `None` when the
/// granule is not coded.
fn granule_codes(bytes: &[u8], rows: usize) -> Result<Option<PackedCodes<'_>>> {
    match *bytes.first().ok_or_else(short_granule)? {
        PLAIN | HEX | DECIMAL | DECIMAL_PACKED => Ok(None),
        PACKED => PackedCodes::read(&bytes[1..], rows).map(Some),
        tag => Err(StorageError::Invalid(format!("bad granule tag {tag}"))),
    }
}

/// Appends the codes of one granule of `rows` rows of a non-Nullable column (only the rows
/// whose `keep` byte is non-zero when there is a mask) to `out`; false, and nothing appended,
/// when the granule is not coded.
pub fn decode_codes(out: &mut Vec<u32>, bytes: &[u8], rows: usize, entries: usize, keep: Option<&[u8]>) -> Result<bool> {
    let Some(codes) = granule_codes(bytes, rows)? else { return Ok(false) };
    kept_codes(out, &codes, keep, entries)?;
    Ok(true)
}

/// Writes, for each row of one granule of a non-Nullable column, 1 to `out` (one byte per
/// row) when `keep` keeps the row (all rows without a mask) and it equals `value`, else 0,
/// comparing encoded bytes: lengths then bytes in a plain granule, `value`'s bytes in a
/// hexadecimal one, numbers in a decimal one, codes against `code` (`value`'s code in the
/// part's dictionary, which `code` finds on the first coded granule) in a coded one. No string
/// is decoded: a filter `s = 'x'` costs a pass over the granule's bytes.
pub fn granule_equals(bytes: &[u8], value: &[u8], code: &mut impl FnMut() -> Option<u32>, keep: Option<&[u8]>, out: &mut [u8]) -> Result<()> {
    let rows = out.len();
    let tag = *bytes.first().ok_or_else(short_granule)?;
    let body = &bytes[1..];
    match tag {
        PLAIN => {
            // Texts of up to 16 bytes with 16 bytes of granule behind them compare as one
            // masked 128-bit word each, not through `memcmp`.
            let short = (value.len() <= 16).then(|| {
                let mut padded = [0u8; 16];
                padded[..value.len()].copy_from_slice(value);
                let mask = if value.len() == 16 { u128::MAX } else { (1u128 << (8 * value.len())) - 1 };
                (u128::from_le_bytes(padded), mask)
            });
            let mut pos = 0;
            for o in out.iter_mut() {
                let (len, n) = read_length(body, pos).ok_or_else(short_granule)?;
                pos += n;
                let equal = match (short, body.get(pos..pos + 16)) {
                    (Some((want, mask)), Some(window)) => len == value.len() && u128::from_le_bytes(window.try_into().unwrap()) & mask == want,
                    _ => body.get(pos..pos + len).ok_or_else(short_granule)? == value,
                };
                *o = equal as u8;
                pos += len;
            }
            if pos > body.len() {
                return Err(short_granule());
            }
        }
        HEX => {
            let half = *body.first().ok_or_else(short_granule)? as usize;
            let raw = body.get(1..1 + rows * half).ok_or_else(short_granule)?;
            let mut wanted = Vec::with_capacity(half);
            encode_hex_value(value, half, &mut wanted);
            let matches = wanted.len() == half;
            for (o, id) in out.iter_mut().zip(raw.chunks_exact(half)) {
                *o = (matches && id == wanted) as u8;
            }
        }
        DECIMAL | DECIMAL_PACKED => {
            let granule = DecimalGranule::read(bytes, rows)?.expect("a decimal tag");
            let wanted = number_after(value, granule.prefix).map_or(u64::MAX, u64::from);
            granule.for_each_block(|start, numbers| {
                for (o, &n) in out[start..].iter_mut().zip(numbers) {
                    *o = (n as u64 == wanted) as u8;
                }
            })?;
        }
        PACKED => {
            let code = code().map_or(u64::MAX, u64::from);
            // Any code compares: there is no dictionary to stay inside.
            PackedCodes::read(body, rows)?.for_each_block(usize::MAX, |start, codes| {
                for (o, &c) in out[start..].iter_mut().zip(codes) {
                    *o = (c as u64 == code) as u8;
                }
            })?;
        }
        _ => return Err(StorageError::Invalid(format!("bad granule tag {tag}"))),
    }
    and_kept(out, keep);
    Ok(())
}

/// Clears the bytes of `out` whose row `keep` does not keep (none without a mask).
fn and_kept(out: &mut [u8], keep: Option<&[u8]>) {
    if let Some(keep) = keep {
        out.iter_mut().zip(keep).for_each(|(o, &k)| *o &= (k != 0) as u8);
    }
}

/// `value` as the bytes of a `HEX` granule of `half`-byte ids, appended to `out`; nothing
/// when it is not lowercase hexadecimal of that length (no row of the granule equals it).
fn encode_hex_value(value: &[u8], half: usize, out: &mut Vec<u8>) {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    if value.len() != 2 * half {
        return;
    }
    let start = out.len();
    for pair in value.chunks_exact(2) {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ => return out.truncate(start),
        }
    }
}

/// Appends the codes of the rows `keep` keeps (all without a mask) to `out`; an error when
/// one is past a dictionary of `entries` entries.
fn kept_codes(out: &mut Vec<u32>, codes: &PackedCodes, keep: Option<&[u8]>, entries: usize) -> Result<()> {
    codes.for_each_block(entries, |start, block| match keep {
        None => out.extend_from_slice(block),
        Some(keep) => extend_kept(out, block.iter().copied(), &keep[start..start + block.len()]),
    })
}

/// Writes, for each row of one coded granule, 1 to `out` (one byte per row) when `keep` keeps
/// the row (all rows without a mask) and `passes` (0 or 1 per dictionary entry) holds 1 for
/// its code, else 0: a condition decided once per dictionary entry applied to the rows
/// straight from the encoded codes. False (nothing written) when the granule is not coded.
pub fn granule_passes(bytes: &[u8], passes: &[u8], keep: Option<&[u8]>, out: &mut [u8]) -> Result<bool> {
    let Some(codes) = granule_codes(bytes, out.len())? else { return Ok(false) };
    codes.for_each_block(passes.len(), |start, block| {
        for (o, &c) in out[start..].iter_mut().zip(block) {
            *o = passes[c as usize];
        }
    })?;
    and_kept(out, keep);
    Ok(true)
}

fn short_granule() -> StorageError {
    StorageError::Invalid("column data is shorter than its row count".into())
}

/// Whether two byte strings are equal, compared 8 bytes at a time in line: values in a
/// dictionary are short, and a call to `memcmp` per row cost more than the comparison.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("8 bytes"));
    x.by_ref().zip(y.by_ref()).all(|(p, q)| word(p) == word(q)) && x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn strings(ty: DataType, values: &[Option<&str>]) -> Column {
        let vals: Vec<Value> = values.iter().map(|v| v.map_or(Value::Null, |s| Value::String(s.into()))).collect();
        Column::from_values(ty, &vals).unwrap()
    }

    #[test]
    fn same_bytes_is_slice_equality_at_every_length_and_position() {
        let base: Vec<u8> = (0..20u8).map(|i| b'a' + i).collect();
        for len in 0..=20 {
            let a = &base[..len];
            assert!(same_bytes(a, a));
            assert!(!same_bytes(a, &base[..len.saturating_sub(1)]) || len == 0);
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 1;
                assert!(!same_bytes(a, &b), "length {len}, differing at {at}");
            }
        }
    }

    fn round_trip(writer: &mut DictWriter, col: &Column, granule: usize) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut starts = Vec::new();
        for start in (0..col.len()).step_by(granule) {
            starts.push(out.len());
            writer.encode_granule(col, start, (start + granule).min(col.len()), &mut out);
        }
        (out, starts)
    }

    #[test]
    fn low_cardinality_values_are_coded_and_read_back_with_nulls() {
        let ty = DataType::Nullable(Box::new(DataType::String));
        let col = strings(ty.clone(), &[Some("ios"), None, Some("web"), Some("ios"), Some("web"), Some("ios")]);
        let mut w = DictWriter::new(&ty);
        let (bytes, starts) = round_trip(&mut w, &col, 3);
        assert_eq!(bytes[starts[0]..starts[0] + 5], [PACKED, 0, 1, 0, 2], "the null map, then codes of two bits");
        let dict = decode_dictionary(&w.finish().unwrap()).unwrap();
        assert_eq!(dict.iter().collect::<Vec<_>>(), vec![&b"ios"[..], b"", b"web"]);
        let mut back = Column::empty(ty);
        let n = decode_granule(&mut back, &bytes[starts[0]..], 3, Some(&dict), None).unwrap();
        decode_granule(&mut back, &bytes[starts[0] + n..], 3, Some(&dict), None).unwrap();
        assert_eq!(back, col);
    }

    #[test]
    fn unique_values_fall_back_to_plain_after_the_first_granule() {
        let values: Vec<String> = (0..40).map(|i| format!("event{i}.")).collect();
        let (_, bytes, starts, _) = forty_unique_values_read_back(&values);
        assert_eq!(bytes[starts[0]], PACKED);
        assert!(starts[1..].iter().all(|&s| bytes[s] == PLAIN));
    }

    /// Writes 40 distinct values in granules of 10 (the first coded, the writer then giving
    /// up), checks that they read back, and returns the column, the bytes, the granule starts
    /// and the dictionary.
    fn forty_unique_values_read_back(values: &[String]) -> (Column, Vec<u8>, Vec<usize>, StringData) {
        let col = strings(DataType::String, &values.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>());
        let mut w = DictWriter::new(&DataType::String);
        let (bytes, starts) = round_trip(&mut w, &col, 10);
        let dict = decode_dictionary(&w.finish().unwrap()).unwrap();
        let mut back = Column::empty(DataType::String);
        let mut pos = 0;
        for _ in 0..4 {
            pos += decode_granule(&mut back, &bytes[pos..], 10, Some(&dict), None).unwrap();
        }
        assert_eq!(back, col);
        (col, bytes, starts, dict)
    }

    /// Reads the second granule (rows 10..20) of `forty_unique_values_read_back`'s output
    /// with every third row kept, and checks it has no codes to read.
    fn second_granule_keeps_every_third_row_and_has_no_codes(col: &Column, bytes: &[u8], starts: &[usize], dict: &StringData) {
        let mut kept = Column::empty(DataType::String);
        let keep: Vec<u8> = (0..10).map(|i| (i % 3 == 0) as u8).collect();
        decode_granule(&mut kept, &bytes[starts[1]..], 10, Some(dict), Some(&keep)).unwrap();
        assert_eq!(kept, col.take(&[10, 13, 16, 19]));
        assert!(!decode_codes(&mut Vec::new(), &bytes[starts[1]..], 10, dict.len(), None).unwrap());
    }

    #[test]
    fn hexadecimal_ids_are_stored_as_bytes_and_other_text_plain() {
        let ids: Vec<String> = (0..40u64).map(|i| format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15))).collect();
        let (col, bytes, starts, dict) = forty_unique_values_read_back(&ids);
        assert_eq!(starts.iter().map(|&s| bytes[s]).collect::<Vec<_>>(), vec![PACKED, HEX, HEX, HEX], "coded, then hexadecimal once coding gives up");
        assert_eq!(starts[2] - starts[1], 2 + 10 * 8, "eight bytes a row");
        // Kept rows only, and no codes to read from a hexadecimal granule.
        second_granule_keeps_every_third_row_and_has_no_codes(&col, &bytes, &starts, &dict);
        // Uppercase, odd lengths, mixed lengths and other text stay plain.
        for odd in ["ABCDEF12", "abc", "zz", ""] {
            let ColumnData::Bytes(s) = &col.data else { unreachable!() };
            let mut plain = StringData::default();
            s.iter().take(9).for_each(|v| plain.push(v));
            plain.push(odd.as_bytes());
            assert!(!encode_hex(&plain, 0, 10, &mut Vec::new()), "{odd:?}");
        }
    }

    #[test]
    fn ids_of_text_and_number_are_stored_as_numbers() {
        let ids: Vec<String> = (0..40u64).map(|i| format!("u{}", i * 104_729 + i % 2 * 4_290_000_000)).collect();
        let (col, bytes, starts, dict) = forty_unique_values_read_back(&ids);
        assert_eq!(starts.iter().map(|&s| bytes[s]).collect::<Vec<_>>(), vec![PACKED, DECIMAL_PACKED, DECIMAL_PACKED, DECIMAL_PACKED], "coded, then decimal once coding gives up");
        let bits = bytes[starts[1] + 3 + 4];
        assert_eq!(starts[2] - starts[1], 3 + 4 + 1 + BitPacker8x::compressed_block_size(bits), "the prefix once, the smallest number, one block");
        second_granule_keeps_every_third_row_and_has_no_codes(&col, &bytes, &starts, &dict);
        let keep: Vec<u8> = (0..10).map(|i| (i % 3 == 0) as u8).collect();
        // Equality compares numbers; text that no number of the granule spells matches nothing.
        for (value, expect) in [(ids[13].as_str(), vec![0, 1, 0, 0]), ("u0", vec![0; 4]), ("x1", vec![0; 4]), ("u", vec![0; 4]), ("u099", vec![0; 4])] {
            let mut out = vec![9; 10];
            granule_equals(&bytes[starts[1]..], value.as_bytes(), &mut || None, Some(&keep), &mut out).unwrap();
            assert!(out.iter().zip(&keep).all(|(&o, &k)| k != 0 || o == 0), "rows not kept are 0");
            let kept: Vec<u8> = out.iter().zip(&keep).filter(|(_, &k)| k != 0).map(|(&o, _)| o).collect();
            assert_eq!(kept, expect, "{value:?}");
        }
        // Leading zeros, numbers past 2^32, other prefixes, a missing number and a trailing
        // text stay plain; a bare number and 0 do not.
        let first = |extra: &str| {
            let mut s = StringData::default();
            ids[..9].iter().for_each(|v| s.push(v.as_bytes()));
            s.push(extra.as_bytes());
            encode_decimal(&s, 0, 10, &mut Vec::new())
        };
        for odd in ["u012", "u4294967296", "v12", "u", "u12x", ""] {
            assert!(!first(odd), "{odd:?}");
        }
        assert!(first("u0") && first("u4294967295"));
        // Bare numbers, and a prefix too long to build a row in 16 bytes.
        for prefix in ["", "order-number-"] {
            let values: Vec<String> = (0..10u64).map(|i| format!("{prefix}{}", i * 477_218_588)).collect();
            let mut s = StringData::default();
            values.iter().for_each(|v| s.push(v.as_bytes()));
            let mut out = Vec::new();
            assert!(encode_decimal(&s, 0, 10, &mut out), "{prefix:?}");
            let mut back = StringData::default();
            decode_decimal(&mut back, &DecimalGranule::read(&out, 10).unwrap().unwrap(), None).unwrap();
            assert_eq!(back.iter().collect::<Vec<_>>(), s.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn decimal_granules_of_both_layouts_read_alike() {
        // 300 rows: a whole block of 256 and part of the next; ids 5,000,000 to 5,299,999.
        let numbers: Vec<u32> = (0..300u32).map(|i| 5_000_000 + i * 7_919 % 300_000).collect();
        let mut strings = StringData::default();
        numbers.iter().for_each(|n| strings.push(format!("i{n}").as_bytes()));
        let mut packed = Vec::new();
        assert!(encode_decimal(&strings, 0, 300, &mut packed));
        assert_eq!((packed[0], packed[7]), (DECIMAL_PACKED, 19), "offsets below 300,000 take 19 bits");
        // A format-3 part's granule: the numbers as 4 bytes each.
        let mut old = vec![DECIMAL, 1, b'i'];
        numbers.iter().for_each(|n| old.extend_from_slice(&n.to_le_bytes()));
        let keep: Vec<u8> = (0..300).map(|i| (i % 3 != 1) as u8).collect();
        let kept = |all: &[u32]| all.iter().zip(&keep).filter(|(_, &k)| k != 0).map(|(&n, _)| n).collect::<Vec<u32>>();
        for granule in [&packed, &old] {
            let mut col = Column::empty(DataType::String);
            assert_eq!(decode_granule(&mut col, granule, 300, None, Some(&keep)).unwrap(), granule.len());
            let ColumnData::Bytes(back) = &col.data else { unreachable!() };
            let expect: Vec<String> = kept(&numbers).iter().map(|n| format!("i{n}")).collect();
            assert_eq!(back.iter().map(|s| String::from_utf8(s.to_vec()).unwrap()).collect::<Vec<_>>(), expect);
            let (mut out, mut prefix) = (Vec::new(), None);
            assert!(decode_numbers(&mut out, &mut prefix, granule, 300, Some(&keep)).unwrap());
            assert_eq!((out, prefix.as_deref()), (kept(&numbers), Some(&b"i"[..])));
            // Row 270 is in the second block; row 271 is not kept.
            for (row, expect) in [(270, 1), (271, 0)] {
                let mut equal = vec![9; 300];
                granule_equals(granule, format!("i{}", numbers[row]).as_bytes(), &mut || None, Some(&keep), &mut equal).unwrap();
                assert_eq!((equal[row] as usize, equal.iter().map(|&e| e as usize).sum::<usize>()), (expect, expect), "row {row}");
            }
        }
    }

    #[test]
    fn low_cardinality_keeps_coding_unique_values() {
        let ty = DataType::LowCardinality(Box::new(DataType::String));
        let values: Vec<String> = (0..300).map(|i| format!("v{i}")).collect();
        let col = strings(DataType::String, &values.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>());
        let mut w = DictWriter::new(&ty);
        let (bytes, starts) = round_trip(&mut w, &col, 100);
        assert_eq!(starts.iter().map(|&s| bytes[s + 1]).collect::<Vec<_>>(), vec![7, 8, 9], "codes widen as the dictionary grows");
        assert_eq!(starts[1] - starts[0], 2 + 7 * BLOCK / 8, "one block of 7-bit codes");
        assert_eq!(decode_dictionary(&w.finish().unwrap()).unwrap().len(), 300);
    }
}
