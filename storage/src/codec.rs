//! Compression of column data in self-describing, checksummed frames.
//!
//! A column file is a sequence of frames: `tag u8 | compressed len u32 | raw len u32 |
//! crc32 of the compressed bytes u32 | payload`. A frame always ends at a granule boundary,
//! so a mark (frame offset, offset inside the decompressed frame) finds any granule.
//!
//! Before compression a frame may go through a `Filter` that makes fixed-width values
//! easier to compress (`Delta`, `DoubleDelta`, as in ClickHouse's `CODEC(Delta, ZSTD)`). The
//! tag records compression (bits 0-1), filter (bits 2-3) and value width (bits 4-5, as a power
//! of two), so a frame decodes without knowing its column. Filters restart at every frame.
//!
//! Integers of up to four bytes may instead be bit-packed (`Codec::BitPacked`): each value
//! less the frame's smallest, in as few bits as the largest difference needs, in the
//! `bitpacking` crate's SIMD-friendly blocks. `Auto` picks it where a general-purpose codec
//! would have needed ZSTD's entropy coding: an `Enum8` of seven actions took 2.2 bits a row
//! with ZSTD and 3 packed, and unpacks several times faster (ZSTD was 45% of
//! `GROUP BY action_type`'s time).

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};

/// How a column's frames are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Codec {
    /// Stored as is.
    None,
    /// What a column without `CODEC` gets: LZ4, unless LZ4 saves less than half of a
    /// frame (random ids, hex, IP text, wide timestamps, dictionary codes), in which case
    /// integers are bit-packed (see `BitPacked`) or ZSTD level 1's entropy coding is tried,
    /// kept only when it saves a quarter of LZ4's frame: decoding it is several times slower,
    /// and bit-packed dictionary codes that ZSTD shrank by a tenth cost Q12 60% of its time.
    /// Frames record which was used; a part's column writer keeps the choice of its first
    /// frame for the others.
    #[default]
    Auto,
    /// LZ4 block compression: fast, ClickHouse's default.
    Lz4,
    /// Zstandard at the given level: smaller, slower.
    Zstd(i32),
    /// Integers bit-packed after the frame's smallest (see the module doc); only `Auto`
    /// chooses it, for columns of integers of up to four bytes (`Ints`).
    BitPacked,
}

/// What a column's fixed-width values are, when they are integers `BitPacked` can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ints {
    /// Bytes per value: 1, 2 or 4.
    pub width: u8,
    /// Two's complement: the sign bit is flipped before packing, so that order is kept.
    pub signed: bool,
}

/// Bytes before the packed values of a bit-packed payload: the width (with `SIGNED`) and the
/// smallest value (u32, sign bit flipped for signed values). The values follow as
/// `dict::write_packed` writes dictionary codes: bit width, then blocks.
const PACKED_HEADER: usize = 5;
/// The width byte's flag for signed values.
const SIGNED: u8 = 0x80;

/// `raw`'s integers bit-packed, or `None` when they are not whole values of `ints`' width.
fn bit_pack(raw: &[u8], ints: Ints) -> Option<Vec<u8>> {
    let w = usize::from(ints.width);
    if !matches!(w, 1 | 2 | 4) || !raw.len().is_multiple_of(w) {
        return None;
    }
    let flip = if ints.signed { 1u32 << (8 * w - 1) } else { 0 };
    let mut values: Vec<u32> = raw.chunks_exact(w).map(|c| read_uint(c) as u32 ^ flip).collect();
    let min = values.iter().copied().min().unwrap_or(0);
    values.iter_mut().for_each(|v| *v -= min);
    let mut out = Vec::with_capacity(PACKED_HEADER + 1 + raw.len());
    out.push(ints.width | if ints.signed { SIGNED } else { 0 });
    out.extend_from_slice(&min.to_le_bytes());
    crate::dict::write_packed(&mut values, &mut out);
    Some(out)
}

/// Unpacks a `bit_pack` payload of `rlen` bytes of values into `out`.
fn bit_unpack(payload: &[u8], rlen: usize, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    let header = payload.get(..PACKED_HEADER).ok_or("truncated bit-packed header")?;
    let (w, signed) = (usize::from(header[0] & !SIGNED), header[0] & SIGNED != 0);
    let min = u32::from_le_bytes(header[1..5].try_into().expect("four bytes"));
    if !matches!(w, 1 | 2 | 4) || !rlen.is_multiple_of(w) {
        return Err("bad bit-packed header".into());
    }
    let flip = if signed { 1u32 << (8 * w - 1) } else { 0 };
    let codes = crate::dict::PackedCodes::read(&payload[PACKED_HEADER..], rlen / w).map_err(|e| e.to_string())?;
    if PACKED_HEADER + codes.size() != payload.len() {
        return Err("bit-packed length mismatch".into());
    }
    out.clear();
    out.resize(rlen, 0);
    let value = |x: u32| x.wrapping_add(min) ^ flip;
    codes
        .for_each_block(usize::MAX, |start, block| {
            let values = &mut out[start * w..(start + block.len()) * w];
            match w {
                1 => values.iter_mut().zip(block).for_each(|(v, &x)| *v = value(x) as u8),
                2 => values.chunks_exact_mut(2).zip(block).for_each(|(v, &x)| v.copy_from_slice(&(value(x) as u16).to_le_bytes())),
                _ => values.chunks_exact_mut(4).zip(block).for_each(|(v, &x)| v.copy_from_slice(&value(x).to_le_bytes())),
            }
        })
        .map_err(|e| e.to_string())
}

/// A reversible transform of fixed-width little-endian values applied before compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Filter {
    /// Each value replaced by its difference from the previous one (`width` bytes each):
    /// slowly changing columns become runs of small numbers.
    Delta(u8),
    /// The difference of consecutive differences, zigzag varint coded: a column that grows
    /// by a steady step (timestamps, counters) costs about one byte per value before
    /// compression.
    DoubleDelta(u8),
}

impl Filter {
    fn width(self) -> u8 {
        match self {
            Filter::Delta(w) | Filter::DoubleDelta(w) => w,
        }
    }

    fn tag(self) -> u8 {
        let kind = match self {
            Filter::Delta(_) => 1,
            Filter::DoubleDelta(_) => 2,
        };
        (kind << 2) | ((self.width().trailing_zeros() as u8) << 4)
    }

    fn from_tag(tag: u8) -> Option<Filter> {
        let width = 1u8 << ((tag >> 4) & 3);
        match (tag >> 2) & 3 {
            0 => None,
            1 => Some(Filter::Delta(width)),
            _ => Some(Filter::DoubleDelta(width)),
        }
    }

    fn encode(self, raw: &[u8]) -> Vec<u8> {
        let w = self.width() as usize;
        let mask = if w == 8 { u64::MAX } else { (1u64 << (w * 8)) - 1 };
        let values = raw.chunks_exact(w).map(read_uint);
        let mut out = Vec::with_capacity(raw.len());
        let (mut prev, mut prev_delta) = (0u64, 0u64);
        match self {
            Filter::Delta(_) => {
                for x in values {
                    out.extend_from_slice(&(x.wrapping_sub(prev) & mask).to_le_bytes()[..w]);
                    prev = x;
                }
            }
            Filter::DoubleDelta(_) => {
                for x in values {
                    let delta = x.wrapping_sub(prev) & mask;
                    let dd = delta.wrapping_sub(prev_delta) & mask;
                    // Sign-extend from the value width, then zigzag: small steps either way
                    // become small unsigned numbers.
                    let shift = 64 - w as u32 * 8;
                    let signed = ((dd << shift) as i64) >> shift;
                    crate::column::write_varint(((signed << 1) ^ (signed >> 63)) as u64, &mut out);
                    (prev, prev_delta) = (x, delta);
                }
            }
        }
        out.extend_from_slice(&raw[raw.len() / w * w..]);
        out
    }

    fn decode(self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let w = self.width() as usize;
        let mask = if w == 8 { u64::MAX } else { (1u64 << (w * 8)) - 1 };
        out.clear();
        let (mut prev, mut prev_delta) = (0u64, 0u64);
        match self {
            Filter::Delta(_) => {
                for c in data.chunks_exact(w) {
                    prev = prev.wrapping_add(read_uint(c)) & mask;
                    out.extend_from_slice(&prev.to_le_bytes()[..w]);
                }
                out.extend_from_slice(&data[data.len() / w * w..]);
            }
            Filter::DoubleDelta(_) => {
                let mut pos = 0;
                while pos < data.len() {
                    let (z, n) = crate::column::read_varint(&data[pos..]).ok_or_else(|| StorageError::Invalid("bad compressed frame: truncated varint".into()))?;
                    pos += n;
                    let dd = ((z >> 1) as i64 ^ -((z & 1) as i64)) as u64;
                    prev_delta = prev_delta.wrapping_add(dd) & mask;
                    prev = prev.wrapping_add(prev_delta) & mask;
                    out.extend_from_slice(&prev.to_le_bytes()[..w]);
                }
            }
        }
        Ok(())
    }
}

fn read_uint(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(b)
}

/// Bytes of the frame header.
pub const FRAME_HEADER: usize = 13;

impl Codec {
    fn tag(self) -> u8 {
        match self {
            Codec::None => 0,
            Codec::Lz4 | Codec::Auto => 1,
            Codec::Zstd(_) => 2,
            Codec::BitPacked => 3,
        }
    }

    /// Compresses `raw` (integers of `ints`, when given); returns the codec actually used
    /// (Auto picks one, and `BitPacked` falls back to LZ4 for values it cannot take) and the
    /// payload.
    fn compress(self, raw: &[u8], ints: Option<Ints>) -> Result<(Codec, Vec<u8>)> {
        let zstd = |level| zstd::bulk::compress(raw, level).map_err(|e| StorageError::Invalid(format!("zstd: {e}")));
        let lz4 = || lz4::block::compress(raw, None, false).map_err(|e| StorageError::Invalid(format!("lz4: {e}")));
        Ok(match self {
            Codec::None => (self, raw.to_vec()),
            Codec::Lz4 => (self, lz4()?),
            Codec::Zstd(level) => (self, zstd(level)?),
            Codec::BitPacked => match ints.and_then(|i| bit_pack(raw, i)) {
                Some(packed) => (self, packed),
                None => (Codec::Lz4, lz4()?),
            },
            Codec::Auto => {
                let lz4 = lz4()?;
                if lz4.len() * 2 <= raw.len() {
                    (Codec::Lz4, lz4)
                } else {
                    let z = zstd(1)?;
                    match ints.and_then(|i| bit_pack(raw, i)) {
                        // Up to half again ZSTD's size: unpacking is several times faster.
                        Some(packed) if packed.len() * 2 <= z.len() * 3 => (Codec::BitPacked, packed),
                        _ if z.len() * 4 <= lz4.len() * 3 => (Codec::Zstd(1), z),
                        _ => (Codec::Lz4, lz4),
                    }
                }
            }
        })
    }

    /// Filters and compresses `raw` into one frame appended to `out`; returns the codec the
    /// frame used (for `Auto`, the one it chose). `ints` says what the values are when they
    /// are integers that may be bit-packed (unfiltered frames only).
    pub fn write_frame(self, filter: Option<Filter>, ints: Option<Ints>, raw: &[u8], out: &mut Vec<u8>) -> Result<Codec> {
        let filtered;
        let raw = match filter {
            Some(f) => {
                filtered = f.encode(raw);
                &filtered[..]
            }
            None => raw,
        };
        let (used, payload) = self.compress(raw, ints.filter(|_| filter.is_none()))?;
        out.push(used.tag() | filter.map_or(0, Filter::tag));
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        Ok(used)
    }
}

/// Decompresses the frame starting at `bytes[0]` into `out` (replacing its contents);
/// returns the frame's total length. Fails on a bad checksum or a malformed frame.
pub fn read_frame(bytes: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    let bad = |why: &str| StorageError::Invalid(format!("bad compressed frame: {why}"));
    if bytes.len() < FRAME_HEADER {
        return Err(bad("truncated header"));
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
    let (clen, rlen, crc) = (u32_at(1), u32_at(5), u32_at(9) as u32);
    let payload = bytes.get(FRAME_HEADER..FRAME_HEADER + clen).ok_or_else(|| bad("truncated payload"))?;
    if crc32fast::hash(payload) != crc {
        return Err(bad("checksum mismatch"));
    }
    out.clear();
    let filter = Filter::from_tag(bytes[0]);
    let mut decompressed = Vec::new();
    let target = if filter.is_some() { &mut decompressed } else { &mut *out };
    decompress(bytes[0] & 3, payload, rlen, target).map_err(|e| bad(&e))?;
    if let Some(f) = filter {
        f.decode(&decompressed, out)?;
    }
    Ok(FRAME_HEADER + clen)
}

fn decompress(codec: u8, payload: &[u8], rlen: usize, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    match codec {
        0 => out.extend_from_slice(payload),
        1 => {
            out.resize(rlen, 0);
            let n = lz4::block::decompress_to_buffer(payload, Some(rlen as i32), out).map_err(|e| e.to_string())?;
            if n != rlen {
                return Err("length mismatch".into());
            }
        }
        2 => {
            // One decompression context per thread: making one per frame costs more than a
            // small frame's decompression.
            thread_local! {
                static ZSTD: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
            }
            out.clear();
            out.reserve(rlen);
            let n = ZSTD.with(|cell| {
                let mut cell = cell.borrow_mut();
                let ctx = match cell.as_mut() {
                    Some(ctx) => ctx,
                    None => cell.insert(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?),
                };
                ctx.decompress_to_buffer(payload, out).map_err(|e| e.to_string())
            })?;
            if n != rlen {
                return Err("length mismatch".into());
            }
        }
        3 => bit_unpack(payload, rlen, out)?,
        _ => return Err("unknown codec".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_detect_corruption() {
        let raw: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 100).to_le_bytes()).collect();
        let filters = [None, Some(Filter::Delta(4)), Some(Filter::Delta(2)), Some(Filter::DoubleDelta(4)), Some(Filter::DoubleDelta(8))];
        for (codec, filter) in [Codec::None, Codec::Lz4, Codec::Zstd(3), Codec::Auto].into_iter().flat_map(|c| filters.map(|f| (c, f))) {
            let mut file = Vec::new();
            codec.write_frame(filter, None, &raw, &mut file).unwrap();
            let mut out = Vec::new();
            assert_eq!(read_frame(&file, &mut out).unwrap(), file.len());
            assert_eq!(out, raw);
            let last = file.len() - 1;
            file[last] ^= 0xff;
            assert!(read_frame(&file, &mut out).is_err());
        }
    }

    #[test]
    fn filters_wrap_and_shrink_steady_sequences() {
        // Extremes and descending values wrap around inside the value width.
        let raw: Vec<u8> = [i64::MIN, i64::MAX, -1, 0, 5, 3, i64::MIN].iter().flat_map(|v| v.to_le_bytes()).collect();
        for filter in [Filter::Delta(8), Filter::DoubleDelta(8), Filter::Delta(4), Filter::DoubleDelta(2)] {
            let mut out = Vec::new();
            filter.decode(&filter.encode(&raw), &mut out).unwrap();
            assert_eq!(out, raw, "{filter:?}");
        }
        let seconds: Vec<u8> = (0..1000u32).flat_map(|i| (1_700_000_000 + 60 * i).to_le_bytes()).collect();
        assert!(Filter::DoubleDelta(4).encode(&seconds).len() < 1010, "about one byte per value");
    }

    #[test]
    fn auto_keeps_lz4_where_it_works_and_entropy_codes_where_it_does_not() {
        let repetitive: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 100).to_le_bytes()).collect();
        let mut frame = Vec::new();
        Codec::Auto.write_frame(None, None, &repetitive, &mut frame).unwrap();
        assert_eq!(frame[0] & 3, Codec::Lz4.tag());
        // Hex digits carry 4 bits per byte: no repeats for LZ4, half the size for ZSTD.
        let mut next = noise(0x9e37_79b9_7f4a_7c15);
        let hex: Vec<u8> = (0..64 * 1024).map(|_| b"0123456789abcdef"[(next() % 16) as usize]).collect();
        frame.clear();
        Codec::Auto.write_frame(None, None, &hex, &mut frame).unwrap();
        assert_eq!(frame[0] & 3, Codec::Zstd(1).tag());
        assert!(frame.len() < hex.len() * 6 / 10, "{} of {}", frame.len(), hex.len());
        let mut out = Vec::new();
        read_frame(&frame, &mut out).unwrap();
        assert_eq!(out, hex);
        // Seven random bits a byte: ZSTD would save an eighth, not worth its slower decoding.
        let sevens: Vec<u8> = (0..64 * 1024).map(|_| (next() % 128) as u8).collect();
        frame.clear();
        Codec::Auto.write_frame(None, None, &sevens, &mut frame).unwrap();
        assert_eq!(frame[0] & 3, Codec::Lz4.tag());
    }

    /// A xorshift stream for test data.
    fn noise(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn integers_bit_pack_and_unpack_at_every_width() {
        let mut next = noise(0x2545_f491_4f6c_dd1d);
        // 1,000 values: three full blocks and a partial one. Signed ones span zero.
        let cases: Vec<(Ints, Vec<u8>)> = vec![
            (Ints { width: 1, signed: false }, (0..1000).map(|_| 3 + (next() % 5) as u8).collect()),
            (Ints { width: 1, signed: true }, (0..1000).flat_map(|_| ((next() % 7) as i8 - 3).to_le_bytes()).collect()),
            (Ints { width: 2, signed: false }, (0..1000).flat_map(|_| (60_000 + (next() % 3000) as u16).to_le_bytes()).collect()),
            (Ints { width: 2, signed: true }, (0..1000).flat_map(|_| (next() as i16).to_le_bytes()).collect()),
            (Ints { width: 4, signed: true }, (0..1000).flat_map(|_| ((next() % 100_000) as i32 - 50_000).to_le_bytes()).collect()),
            (Ints { width: 4, signed: false }, (0..1000).flat_map(|_| (next() as u32).to_le_bytes()).collect()),
            // Every value the same: no bits at all.
            (Ints { width: 4, signed: false }, (0..1000).flat_map(|_| 7u32.to_le_bytes()).collect()),
        ];
        for (ints, raw) in cases {
            let mut frame = Vec::new();
            assert_eq!(Codec::BitPacked.write_frame(None, Some(ints), &raw, &mut frame).unwrap(), Codec::BitPacked);
            let mut out = Vec::new();
            assert_eq!(read_frame(&frame, &mut out).unwrap(), frame.len());
            assert_eq!(out, raw, "{ints:?}");
        }
        // Bytes that are not whole values, or no word of what they are: LZ4.
        let mut frame = Vec::new();
        assert_eq!(Codec::BitPacked.write_frame(None, Some(Ints { width: 4, signed: false }), &[1, 2, 3], &mut frame).unwrap(), Codec::Lz4);
        assert_eq!(Codec::BitPacked.write_frame(None, None, &[1, 2, 3, 4], &mut frame).unwrap(), Codec::Lz4);
    }

    #[test]
    fn auto_bit_packs_small_integers_that_lz4_cannot_halve() {
        // Seven actions, most of them the first, in no order: LZ4 finds few repeats.
        let mut next = noise(0x9e37_79b9_7f4a_7c15);
        let actions: Vec<u8> = (0..64 * 1024).map(|_| [1, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7][(next() % 11) as usize]).collect();
        let mut frame = Vec::new();
        assert_eq!(Codec::Auto.write_frame(None, Some(Ints { width: 1, signed: false }), &actions, &mut frame).unwrap(), Codec::BitPacked);
        assert!(frame.len() < actions.len() * 4 / 10, "three bits a value: {} of {}", frame.len(), actions.len());
        let mut out = Vec::new();
        read_frame(&frame, &mut out).unwrap();
        assert_eq!(out, actions);
        // The same bytes not known as integers: ZSTD, as before.
        frame.clear();
        assert_eq!(Codec::Auto.write_frame(None, None, &actions, &mut frame).unwrap(), Codec::Zstd(1));
    }
}
