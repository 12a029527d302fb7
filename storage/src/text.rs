//! Text forms of the types whose values are not plain numbers or strings: decimals, UUIDs,
//! IPv4 addresses and arrays, written and read the way ClickHouse writes and reads them.

use std::fmt::Write;

/// Powers of ten up to 10^18 (the widest Decimal scale).
pub const POW10: [i64; 19] = {
    let mut p = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// Writes a scaled decimal without trailing fraction zeros (`150`, scale 2 → `1.5`).
pub fn format_decimal(raw: i64, scale: u8, out: &mut String) {
    let p = POW10[scale as usize] as u64;
    let (int, frac) = (raw.unsigned_abs() / p, raw.unsigned_abs() % p);
    if raw < 0 {
        out.push('-');
    }
    let _ = write!(out, "{int}");
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = scale as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// Changes the scale of a scaled decimal, truncating digits that no longer fit; `None` on
/// overflow.
pub fn rescale(raw: i64, from: u8, to: u8) -> Option<i64> {
    if to >= from {
        raw.checked_mul(POW10[(to - from) as usize])
    } else {
        Some(raw / POW10[(from - to) as usize])
    }
}

/// Parses decimal text (`-12.345`, `1e3` is not accepted) into a value scaled by 10^scale,
/// truncating extra fraction digits as ClickHouse does; `None` when it is not a number or
/// has more than `precision` significant digits.
pub fn parse_decimal(text: &str, precision: u8, scale: u8) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > (precision - scale) as usize {
        return None;
    }
    let mut raw: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    for i in 0..scale as usize {
        raw = raw * 10 + frac.as_bytes().get(i).map_or(0, |d| (d - b'0') as i64);
    }
    Some(if neg { -raw } else { raw })
}

/// The 16 stored bytes of a UUID's text form. ClickHouse orders UUIDs as two 64-bit halves,
/// the last 16 hex digits first; storing that half first makes byte order the value order.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = text.trim().bytes().filter(|&b| b != b'-').collect();
    let dashes = text.trim().bytes().filter(|&b| b == b'-').count();
    if hex.len() != 32 || !(dashes == 0 || dashes == 4) {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        bytes[(i + 8) % 16] = byte;
    }
    Some(bytes)
}

/// Writes stored UUID bytes in the usual lowercase `8-4-4-4-12` form.
pub fn format_uuid(stored: &[u8], out: &mut String) {
    for i in 0..16 {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{:02x}", stored.get((i + 8) % 16).copied().unwrap_or(0));
    }
}

/// Parses dotted-quad IPv4 text into its 32-bit number.
pub fn parse_ipv4(text: &str) -> Option<u32> {
    let mut n = 0u32;
    let mut parts = 0;
    for part in text.trim().split('.') {
        if part.is_empty() || part.len() > 3 {
            return None;
        }
        n = (n << 8) | part.parse::<u8>().ok()? as u32;
        parts += 1;
    }
    (parts == 4).then_some(n)
}

/// Writes an IPv4 address as dotted-quad text.
pub fn format_ipv4(n: u32, out: &mut String) {
    let b = n.to_be_bytes();
    let _ = write!(out, "{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
}

/// Writes a string the way ClickHouse quotes it inside arrays: `'it\'s'`.
pub fn quote_string(s: &str, out: &mut String) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// Splits array text `['a', 'b,c']` / `[1,2]` / `[[1],[2,3]]` (or Postgres's one-dimensional
/// `{1,2}` / `{"a","b,c"}`) into element texts, with quoted elements unquoted; `None` when
/// the brackets or quotes do not balance.
pub fn split_array(text: &str) -> Option<Vec<String>> {
    if let Some(inner) = text.trim().strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        return split_pg_array(inner);
    }
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut item = String::new();
        if first == '\'' {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => item.push(match chars.next()? {
                        'n' => '\n',
                        't' => '\t',
                        '0' => '\0',
                        c => c,
                    }),
                    '\'' if chars.peek() == Some(&'\'') => {
                        chars.next();
                        item.push('\'');
                    }
                    '\'' => break,
                    c => item.push(c),
                }
            }
        } else {
            let mut depth = 0;
            while let Some(&c) = chars.peek() {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    ',' if depth == 0 => break,
                    '\'' => return None,
                    _ => {}
                }
                item.push(c);
                chars.next();
            }
            item = item.trim().to_string();
        }
        items.push(item);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(_) => return None,
        }
    }
    Some(items)
}

/// The elements of Postgres array text between its braces: `1,2` or `"a","b \"q\""`.
fn split_pg_array(inner: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    if inner.trim().is_empty() {
        return Some(items);
    }
    let mut chars = inner.chars().peekable();
    loop {
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => item.push(chars.next()?),
                    '"' => break,
                    c => item.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek().filter(|&&c| c != ',') {
                if matches!(c, '{' | '}' | '"') {
                    return None;
                }
                item.push(c);
                chars.next();
            }
            item = item.trim().to_string();
        }
        items.push(item);
        match chars.next() {
            Some(',') => continue,
            None => return Some(items),
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("1.009", 10, 2), Some(100));
        assert_eq!(parse_decimal("-3.1", 10, 2), Some(-310));
        assert_eq!(parse_decimal("12345678.99", 10, 2), Some(1_234_567_899));
        assert_eq!(parse_decimal("123456789", 10, 2), None);
        assert_eq!(parse_decimal("x", 10, 2), None);
        let mut s = String::new();
        for (raw, scale) in [(150, 2), (1_000_000, 4), (0, 2), (-1, 4)] {
            format_decimal(raw, scale, &mut s);
            s.push(' ');
        }
        assert_eq!(s, "1.5 100 0 -0.0001 ");
    }

    #[test]
    fn uuids_order_by_their_last_half() {
        let a = parse_uuid("923e4567-e89b-12d3-a456-426614174000").unwrap();
        let b = parse_uuid("123e4567-e89b-12d3-a456-426614174001").unwrap();
        assert!(a < b);
        let mut s = String::new();
        format_uuid(&a, &mut s);
        assert_eq!(s, "923e4567-e89b-12d3-a456-426614174000");
        assert!(parse_uuid("123").is_none());
    }

    #[test]
    fn ipv4_and_arrays() {
        assert_eq!(parse_ipv4("10.0.0.1"), Some(0x0A00_0001));
        assert_eq!(parse_ipv4("256.0.0.1"), None);
        let mut s = String::new();
        format_ipv4(0xC0A8_01FE, &mut s);
        assert_eq!(s, "192.168.1.254");
        assert_eq!(split_array("['it\\'s', 'a,b' ,'']").unwrap(), vec!["it's", "a,b", ""]);
        assert_eq!(split_array("[[1,2], [3]]").unwrap(), vec!["[1,2]", "[3]"]);
        assert_eq!(split_array("[]").unwrap(), Vec::<String>::new());
        assert!(split_array("[1,2").is_none());
    }
}
