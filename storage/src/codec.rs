//! Compression of column data in self-describing, checksummed frames.
//!
//! A column file is a sequence of frames: `codec u8 | compressed len u32 | raw len u32 |
//! crc32 of the compressed bytes u32 | payload`. A frame always ends at a granule boundary,
//! so a mark (frame offset, offset inside the decompressed frame) finds any granule.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};

/// How a column's frames are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Codec {
    /// Stored as is.
    None,
    /// LZ4 block compression: fast, ClickHouse's default.
    #[default]
    Lz4,
    /// Zstandard at the given level: smaller, slower.
    Zstd(i32),
}

/// Bytes of the frame header.
pub const FRAME_HEADER: usize = 13;

impl Codec {
    fn tag(self) -> u8 {
        match self {
            Codec::None => 0,
            Codec::Lz4 => 1,
            Codec::Zstd(_) => 2,
        }
    }

    /// Compresses `raw` into one frame appended to `out`.
    pub fn write_frame(self, raw: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let payload = match self {
            Codec::None => raw.to_vec(),
            Codec::Lz4 => lz4_flex::block::compress(raw),
            Codec::Zstd(level) => zstd::bulk::compress(raw, level).map_err(|e| StorageError::Invalid(format!("zstd: {e}")))?,
        };
        out.push(self.tag());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        Ok(())
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
    match bytes[0] {
        0 => out.extend_from_slice(payload),
        1 => {
            out.resize(rlen, 0);
            let n = lz4_flex::block::decompress_into(payload, out).map_err(|e| bad(&e.to_string()))?;
            if n != rlen {
                return Err(bad("length mismatch"));
            }
        }
        2 => {
            *out = zstd::bulk::decompress(payload, rlen).map_err(|e| bad(&e.to_string()))?;
        }
        _ => return Err(bad("unknown codec")),
    }
    Ok(FRAME_HEADER + clen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_detect_corruption() {
        let raw: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 100).to_le_bytes()).collect();
        for codec in [Codec::None, Codec::Lz4, Codec::Zstd(3)] {
            let mut file = Vec::new();
            codec.write_frame(&raw, &mut file).unwrap();
            let mut out = Vec::new();
            assert_eq!(read_frame(&file, &mut out).unwrap(), file.len());
            assert_eq!(out, raw);
            let last = file.len() - 1;
            file[last] ^= 0xff;
            assert!(read_frame(&file, &mut out).is_err());
        }
    }
}
