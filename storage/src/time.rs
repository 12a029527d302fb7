//! Calendar arithmetic for Date, DateTime and DateTime64 values, all in UTC.
//!
//! Days are counted from 1970-01-01 with the proleptic Gregorian calendar (Howard Hinnant's
//! `days_from_civil`), so conversions are branch-light integer math that vectorizes.

/// Seconds in a day.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYYMM` of a day number, as ClickHouse's `toYYYYMM`.
pub fn yyyymm(days: i64) -> u32 {
    let (y, m, _) = civil_from_days(days);
    (y * 100) as u32 + m
}

/// The day as the number YYYYMMDD (`toYYYYMMDD`).
pub fn yyyymmdd(days: i64) -> u32 {
    let (y, m, d) = civil_from_days(days);
    (y * 10_000) as u32 + m * 100 + d
}

/// Parses `YYYY-MM-DD` into a day number.
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])? as u32;
    let day = digits(&b[8..10])? as u32;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Parses `YYYY-MM-DD[ HH:MM:SS[.fraction]]` (or with `T`) into ticks of 10^-precision seconds.
pub fn parse_datetime(text: &str, precision: u8) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    let scale = 10i64.pow(precision as u32);
    if text.len() == 10 {
        return Some(parse_date(text)? * SECONDS_PER_DAY * scale);
    }
    if text.len() < 19 {
        return None;
    }
    let days = parse_date(&text[..10])?;
    let b = text.as_bytes();
    if !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, s) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut ticks = ((days * 24 + h) * 60 + mi) * 60 + s;
    ticks *= scale;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() == 20 {
            return None;
        }
        let frac = &b[20..];
        digits(frac)?;
        let mut sub = 0i64;
        for i in 0..precision as usize {
            sub = sub * 10 + frac.get(i).map_or(0, |d| (d - b'0') as i64);
        }
        ticks += sub;
    }
    Some(ticks)
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as i64;
    }
    Some(n)
}

/// The day `months` calendar months after `days` (negative goes back); a day past the end of
/// the target month is clamped to its last day, as ClickHouse's `addMonths` does.
pub fn add_months(days: i64, months: i64) -> i64 {
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m as i64 - 1) + months;
    let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    days_from_civil(year, month, d.min(days_in_month(year, month)))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Writes a day number as `YYYY-MM-DD`.
pub fn format_date(days: i64, out: &mut String) {
    use std::fmt::Write;
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

/// Writes ticks of 10^-precision seconds as `YYYY-MM-DD HH:MM:SS[.fff]`.
pub fn format_datetime(ticks: i64, precision: u8, out: &mut String) {
    use std::fmt::Write;
    let scale = 10i64.pow(precision as u32);
    let secs = ticks.div_euclid(scale);
    let frac = ticks.rem_euclid(scale);
    format_date(secs.div_euclid(SECONDS_PER_DAY), out);
    let tod = secs.rem_euclid(SECONDS_PER_DAY);
    let _ = write!(out, " {:02}:{:02}:{:02}", tod / 3600, tod / 60 % 60, tod % 60);
    if precision > 0 {
        let _ = write!(out, ".{:0width$}", frac, width = precision as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_000, 20_454, 65_535, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        assert_eq!(yyyymm(20_454), 202_601);
    }

    #[test]
    fn parse_and_format() {
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        let t = parse_datetime("2026-01-01 10:00:00.123", 3).unwrap();
        let mut s = String::new();
        format_datetime(t, 3, &mut s);
        assert_eq!(s, "2026-01-01 10:00:00.123");
        assert_eq!(parse_datetime("2026-01-01T10:00:00", 0), parse_datetime("2026-01-01 10:00:00", 0));
        assert_eq!(parse_datetime("2026-01-01 25:00:00", 0), None);
    }
}
