//! Date and time functions: parts (`toMonth`), truncation (`toStartOfMonth`, `date_trunc`,
//! `toStartOfInterval`), differences (`dateDiff`), shifts (`addDays`), formatting
//! (`formatDateTime`) and lenient parsing (`parseDateTimeBestEffort`). All UTC: a time zone
//! argument other than UTC is refused.
//!
//! Every kernel first turns its argument into Unix seconds (or day numbers) in one typed pass,
//! then computes with integer calendar math (`granary_storage::time`).

use std::sync::Arc;

use granary_storage::time::{self, civil_from_days, days_from_civil, SECONDS_PER_DAY};
use granary_storage::{Column, ColumnRef, DataType, Value};
use sqlparser::ast;

use super::{arity, build_strings, call, const_int, const_str, ignored, strings, BindArg, Context};
use crate::error::{bail, Result};
use crate::expr::{Expr, Func};
use crate::kernels;

/// A calendar or clock unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    /// The unit a name (`'day'`, `'days'`, `'dd'`, as `dateDiff` and `date_trunc` take) means.
    pub fn parse(name: &str) -> Option<Unit> {
        Some(match name.to_ascii_lowercase().as_str() {
            "second" | "seconds" | "ss" | "s" => Unit::Second,
            "minute" | "minutes" | "mi" | "n" => Unit::Minute,
            "hour" | "hours" | "hh" | "h" => Unit::Hour,
            "day" | "days" | "dd" | "d" => Unit::Day,
            "week" | "weeks" | "wk" | "ww" => Unit::Week,
            "month" | "months" | "mm" | "m" => Unit::Month,
            "quarter" | "quarters" | "qq" | "q" => Unit::Quarter,
            "year" | "years" | "yyyy" | "yy" => Unit::Year,
            _ => return None,
        })
    }

    /// The unit of an SQL `DateTimeField` (`EXTRACT`, `INTERVAL`).
    fn of_field(field: &ast::DateTimeField) -> Option<Unit> {
        use ast::DateTimeField as F;
        Some(match field {
            F::Second | F::Seconds => Unit::Second,
            F::Minute | F::Minutes => Unit::Minute,
            F::Hour | F::Hours => Unit::Hour,
            F::Day | F::Days => Unit::Day,
            F::Week(_) | F::Weeks => Unit::Week,
            F::Month | F::Months => Unit::Month,
            F::Quarter => Unit::Quarter,
            F::Year | F::Years => Unit::Year,
            _ => return None,
        })
    }

    /// True for units shorter than a day.
    fn is_clock(self) -> bool {
        matches!(self, Unit::Second | Unit::Minute | Unit::Hour)
    }
}

/// A part of a date or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Minute,
    Second,
    /// Monday 1 … Sunday 7.
    DayOfWeek,
    /// Sunday 0 … Saturday 6 (`EXTRACT(DOW …)`).
    DayOfWeekFromSunday,
    DayOfMonth,
    DayOfYear,
    Month,
    Quarter,
    Year,
    /// ISO 8601 week number (weeks start on Monday; week 1 holds the year's first Thursday).
    IsoWeek,
}

/// A date and time function evaluated by this module.
#[derive(Debug, Clone, PartialEq)]
pub enum DateFn {
    /// The start of the unit (minute to year) a time falls in; weeks start on Monday when
    /// `monday`, else on Sunday.
    StartOf { unit: Unit, monday: bool },
    /// `toStartOfInterval(t, INTERVAL n unit)`: the start of the `n`-unit bucket.
    StartOfInterval { n: i64, unit: Unit },
    /// A part of a date or time.
    Part(Part),
    /// `dateDiff(unit, a, b)`: how many unit boundaries lie between `a` and `b`.
    DateDiff(Unit),
    /// `formatDateTime(t, format)`, the format parsed once.
    Format(Arc<Vec<FormatItem>>),
    /// `parseDateTimeBestEffort(s)`; with `or_null`, NULL where the text is not a time.
    ParseBestEffort { or_null: bool },
}

impl DateFn {
    /// True for the functions that produce NULLs themselves.
    pub fn sees_nulls(&self) -> bool {
        matches!(self, DateFn::ParseBestEffort { or_null: true })
    }

    /// The ClickHouse name of the function.
    pub fn name(&self) -> &'static str {
        match self {
            DateFn::StartOf { unit: Unit::Second, .. } => "toStartOfSecond",
            DateFn::StartOf { unit: Unit::Minute, .. } => "toStartOfMinute",
            DateFn::StartOf { unit: Unit::Hour, .. } => "toStartOfHour",
            DateFn::StartOf { unit: Unit::Day, .. } => "toStartOfDay",
            DateFn::StartOf { unit: Unit::Week, .. } => "toStartOfWeek",
            DateFn::StartOf { unit: Unit::Month, .. } => "toStartOfMonth",
            DateFn::StartOf { unit: Unit::Quarter, .. } => "toStartOfQuarter",
            DateFn::StartOf { unit: Unit::Year, .. } => "toStartOfYear",
            DateFn::StartOfInterval { .. } => "toStartOfInterval",
            DateFn::Part(p) => match p {
                Part::Minute => "toMinute",
                Part::Second => "toSecond",
                Part::DayOfWeek => "toDayOfWeek",
                Part::DayOfWeekFromSunday => "EXTRACT(DOW)",
                Part::DayOfMonth => "toDayOfMonth",
                Part::DayOfYear => "toDayOfYear",
                Part::Month => "toMonth",
                Part::Quarter => "toQuarter",
                Part::Year => "toYear",
                Part::IsoWeek => "toISOWeek",
            },
            DateFn::DateDiff(_) => "dateDiff",
            DateFn::Format(_) => "formatDateTime",
            DateFn::ParseBestEffort { or_null: false } => "parseDateTimeBestEffort",
            DateFn::ParseBestEffort { or_null: true } => "parseDateTimeBestEffortOrNull",
        }
    }

    /// The result type (ClickHouse's): clock truncations give DateTime, calendar ones Date.
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        let t = args[0].non_null();
        let temporal = |t: &DataType| -> Result<()> {
            if !t.is_temporal() {
                bail!(DatatypeMismatch, "illegal type {t} of argument of function {}", self.name());
            }
            Ok(())
        };
        let clock = |unit: Unit| -> Result<()> {
            if unit.is_clock() && *t == DataType::Date {
                bail!(DatatypeMismatch, "illegal type Date of argument of function {}: it has no time of day", self.name());
            }
            Ok(())
        };
        Ok(match self {
            DateFn::StartOf { unit, .. } | DateFn::StartOfInterval { unit, .. } => {
                temporal(t)?;
                clock(*unit)?;
                if unit.is_clock() || *unit == Unit::Day {
                    DataType::DateTime
                } else {
                    DataType::Date
                }
            }
            DateFn::Part(p) => {
                temporal(t)?;
                match p {
                    Part::Minute | Part::Second => {
                        clock(Unit::Minute)?;
                        DataType::UInt8
                    }
                    Part::DayOfYear | Part::Year => DataType::UInt16,
                    _ => DataType::UInt8,
                }
            }
            DateFn::DateDiff(_) => {
                temporal(t)?;
                temporal(args[1].non_null())?;
                DataType::Int64
            }
            DateFn::Format(_) => {
                temporal(t)?;
                DataType::String
            }
            DateFn::ParseBestEffort { or_null } => {
                if !t.is_string() {
                    bail!(DatatypeMismatch, "illegal type {t} of argument of function {}", self.name());
                }
                if *or_null {
                    DataType::DateTime.nullable()
                } else {
                    DataType::DateTime
                }
            }
        })
    }

    /// Evaluates the function over whole columns.
    pub fn eval(&self, args: &[ColumnRef], ty: &DataType, ignore: Option<&[u8]>) -> Result<Column> {
        let t = &args[0];
        Ok(match self {
            DateFn::StartOf { unit, monday } => {
                let secs = seconds(t)?;
                match unit {
                    Unit::Second => kernels::from_i64(ty.clone(), secs),
                    Unit::Minute => kernels::from_i64(ty.clone(), secs.iter().map(|s| s - s.rem_euclid(60)).collect()),
                    Unit::Hour => kernels::from_i64(ty.clone(), secs.iter().map(|s| s - s.rem_euclid(3600)).collect()),
                    Unit::Day => kernels::from_i64(ty.clone(), secs.iter().map(|s| s - s.rem_euclid(SECONDS_PER_DAY)).collect()),
                    Unit::Week => day_column(secs.iter().map(|s| week_start(s.div_euclid(SECONDS_PER_DAY), *monday)).collect()),
                    calendar => day_column(secs.iter().map(|s| month_bucket(s.div_euclid(SECONDS_PER_DAY), 1, *calendar)).collect()),
                }
            }
            DateFn::StartOfInterval { n, unit } => {
                let n = *n;
                let secs = seconds(t)?;
                let out: Vec<i64> = match unit {
                    Unit::Second => secs.iter().map(|s| s.div_euclid(n) * n).collect(),
                    Unit::Minute => secs.iter().map(|s| s.div_euclid(60 * n) * 60 * n).collect(),
                    // Hours count from midnight: 7-hour buckets start at 0, 7, 14 and 21 o'clock.
                    Unit::Hour => secs
                        .iter()
                        .map(|s| {
                            let day = s - s.rem_euclid(SECONDS_PER_DAY);
                            day + (s.rem_euclid(SECONDS_PER_DAY) / 3600) / n * n * 3600
                        })
                        .collect(),
                    Unit::Day => secs.iter().map(|s| s.div_euclid(SECONDS_PER_DAY).div_euclid(n) * n * SECONDS_PER_DAY).collect(),
                    // Week buckets count from Monday 1970-01-05 (day 4).
                    Unit::Week => secs.iter().map(|s| 4 + (s.div_euclid(SECONDS_PER_DAY) - 4).div_euclid(7 * n) * 7 * n).collect(),
                    calendar => secs.iter().map(|s| month_bucket(s.div_euclid(SECONDS_PER_DAY), n, *calendar)).collect(),
                };
                if *ty == DataType::Date {
                    day_column(out)
                } else {
                    kernels::from_i64(ty.clone(), out)
                }
            }
            DateFn::Part(p) => kernels::from_i64(ty.clone(), part(*p, &seconds(t)?)),
            DateFn::DateDiff(unit) => {
                let (a, b) = (seconds(t)?, seconds(&args[1])?);
                kernels::from_i64(DataType::Int64, a.iter().zip(&b).map(|(&x, &y)| relative(*unit, y) - relative(*unit, x)).collect())
            }
            DateFn::Format(items) => format(items, t)?,
            DateFn::ParseBestEffort { or_null } => {
                let s = strings(self.name(), t)?;
                let mut values = Vec::with_capacity(s.len());
                let mut nulls = vec![0u8; s.len()];
                for (i, v) in s.iter().enumerate() {
                    match parse_best_effort(std::str::from_utf8(v).unwrap_or("")) {
                        Some(secs) => values.push(secs),
                        None if *or_null || ignored(ignore, i) || t.is_null(i) => {
                            values.push(0);
                            nulls[i] = 1;
                        }
                        None => bail!(InvalidText, "cannot parse '{}' as DateTime", String::from_utf8_lossy(v)),
                    }
                }
                let col = kernels::from_i64(DataType::DateTime, values);
                match (ty.is_nullable(), &t.nulls) {
                    (false, _) => col,
                    (true, input) => {
                        if let Some(n) = input {
                            nulls.iter_mut().zip(n).for_each(|(x, y)| *x |= y);
                        }
                        Column::with_nulls(ty.clone(), col.data, Some(nulls))
                    }
                }
            }
        })
    }
}

/// Unix seconds of each value of a Date, DateTime or DateTime64 column.
fn seconds(col: &Column) -> Result<Vec<i64>> {
    let v = kernels::to_i64(col)?;
    Ok(match col.ty.non_null() {
        DataType::Date => v.into_iter().map(|d| d * SECONDS_PER_DAY).collect(),
        DataType::DateTime64(p) => kernels::div_euclid_each(&v, 10i64.pow(*p as u32)),
        DataType::DateTime => v,
        t => bail!(DatatypeMismatch, "expected a date or time, got {t}"),
    })
}

/// A Date column of day numbers, saturating at the type's range (1970-01-01 to 2149-06-06)
/// as ClickHouse does.
fn day_column(days: Vec<i64>) -> Column {
    kernels::from_i64(DataType::Date, days.into_iter().map(|d| d.clamp(0, u16::MAX as i64)).collect())
}

/// Monday 1 … Sunday 7 of a day number (1970-01-01 was a Thursday).
#[inline]
fn day_of_week(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// The first day of the week of `days`, weeks starting on Monday or Sunday.
#[inline]
fn week_start(days: i64, monday: bool) -> i64 {
    let dow = day_of_week(days);
    if monday {
        days - (dow - 1)
    } else {
        days - dow % 7
    }
}

/// The first day of the `n`-unit bucket (months, quarters or years) holding `days`; month
/// buckets count from January 1900 and year buckets from year 0, as ClickHouse's do.
fn month_bucket(days: i64, n: i64, unit: Unit) -> i64 {
    let (y, m, _) = civil_from_days(days);
    if unit == Unit::Year {
        return days_from_civil(y.div_euclid(n) * n, 1, 1);
    }
    let months = if unit == Unit::Quarter { 3 * n } else { n };
    let index = ((y - 1900) * 12 + m as i64 - 1).div_euclid(months) * months;
    days_from_civil(1900 + index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
}

/// A time's number on a scale of whole units (`dateDiff` subtracts two of them).
fn relative(unit: Unit, secs: i64) -> i64 {
    let days = secs.div_euclid(SECONDS_PER_DAY);
    match unit {
        Unit::Second => secs,
        Unit::Minute => secs.div_euclid(60),
        Unit::Hour => secs.div_euclid(3600),
        Unit::Day => days,
        Unit::Week => (days + 3).div_euclid(7),
        Unit::Month | Unit::Quarter | Unit::Year => {
            let (y, m, _) = civil_from_days(days);
            match unit {
                Unit::Month => y * 12 + m as i64,
                Unit::Quarter => y * 4 + (m as i64 - 1) / 3,
                _ => y,
            }
        }
    }
}

/// The ISO 8601 (year, week) of a day number.
fn iso_week(days: i64) -> (i64, i64) {
    let thursday = days - day_of_week(days) + 4;
    let (year, _, _) = civil_from_days(thursday);
    (year, (thursday - days_from_civil(year, 1, 1)) / 7 + 1)
}

fn part(p: Part, secs: &[i64]) -> Vec<i64> {
    let days = |s: &i64| s.div_euclid(SECONDS_PER_DAY);
    match p {
        Part::Minute => secs.iter().map(|s| s.rem_euclid(3600) / 60).collect(),
        Part::Second => secs.iter().map(|s| s.rem_euclid(60)).collect(),
        Part::DayOfWeek => secs.iter().map(|s| day_of_week(days(s))).collect(),
        Part::DayOfWeekFromSunday => secs.iter().map(|s| day_of_week(days(s)) % 7).collect(),
        Part::DayOfMonth => secs.iter().map(|s| civil_from_days(days(s)).2 as i64).collect(),
        Part::DayOfYear => secs
            .iter()
            .map(|s| {
                let d = days(s);
                d - days_from_civil(civil_from_days(d).0, 1, 1) + 1
            })
            .collect(),
        Part::Month => secs.iter().map(|s| civil_from_days(days(s)).1 as i64).collect(),
        Part::Quarter => secs.iter().map(|s| (civil_from_days(days(s)).1 as i64 - 1) / 3 + 1).collect(),
        Part::Year => secs.iter().map(|s| civil_from_days(days(s)).0).collect(),
        Part::IsoWeek => secs.iter().map(|s| iso_week(days(s)).1).collect(),
    }
}

/// One piece of a `formatDateTime` format.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatItem {
    /// Text copied as is.
    Literal(String),
    /// A `%x` field.
    Field(char),
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Parses a MySQL-style format (`%Y-%m-%d %H:%i:%S`) into its pieces, refusing unknown fields.
fn parse_format(format: &str) -> Result<Vec<FormatItem>> {
    let mut items = Vec::new();
    let mut literal = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => literal.push('%'),
            Some('n') => literal.push('\n'),
            Some('t') => literal.push('\t'),
            Some(f) if "YmdHMiSsejyFTDuwabpIhlkRQVGCWcrzfg".contains(f) => {
                if !literal.is_empty() {
                    items.push(FormatItem::Literal(std::mem::take(&mut literal)));
                }
                items.push(FormatItem::Field(f));
            }
            Some(f) => bail!(InvalidParameter, "formatDateTime does not support the field %{f}"),
            None => bail!(InvalidParameter, "a formatDateTime format cannot end with %"),
        }
    }
    if !literal.is_empty() {
        items.push(FormatItem::Literal(literal));
    }
    Ok(items)
}

fn format(items: &[FormatItem], t: &Column) -> Result<Column> {
    use std::io::Write;
    let secs = seconds(t)?;
    let (ticks, precision) = match t.ty.non_null() {
        DataType::DateTime64(p) => (kernels::to_i64(t)?, *p),
        _ => (Vec::new(), 0),
    };
    Ok(build_strings(secs.len(), |i, out| {
        let s = secs[i];
        let days = s.div_euclid(SECONDS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let tod = s.rem_euclid(SECONDS_PER_DAY);
        let (h, mi, sec) = (tod / 3600, tod / 60 % 60, tod % 60);
        let h12 = if h % 12 == 0 { 12 } else { h % 12 };
        let dow = day_of_week(days);
        for item in items {
            let _ = match item {
                FormatItem::Literal(text) => out.write_all(text.as_bytes()),
                FormatItem::Field(f) => match f {
                    'Y' => write!(out, "{y:04}"),
                    'y' | 'g' => write!(out, "{:02}", if *f == 'y' { y } else { iso_week(days).0 }.rem_euclid(100)),
                    'C' => write!(out, "{:02}", y / 100),
                    'm' | 'c' => write!(out, "{m:02}"),
                    'M' => out.write_all(MONTHS[m as usize - 1].as_bytes()),
                    'b' => out.write_all(&MONTHS[m as usize - 1].as_bytes()[..3]),
                    'd' => write!(out, "{d:02}"),
                    'e' => write!(out, "{d}"),
                    'j' => write!(out, "{:03}", days - days_from_civil(y, 1, 1) + 1),
                    'H' | 'k' => write!(out, "{h:02}"),
                    'I' | 'h' | 'l' => write!(out, "{h12:02}"),
                    'i' => write!(out, "{mi:02}"),
                    'S' | 's' => write!(out, "{sec:02}"),
                    'p' => out.write_all(if h < 12 { b"AM" } else { b"PM" }),
                    'F' => write!(out, "{y:04}-{m:02}-{d:02}"),
                    'T' => write!(out, "{h:02}:{mi:02}:{sec:02}"),
                    'R' => write!(out, "{h:02}:{mi:02}"),
                    'r' => write!(out, "{h12:02}:{mi:02} {}", if h < 12 { "AM" } else { "PM" }),
                    'D' => write!(out, "{m:02}/{d:02}/{:02}", y.rem_euclid(100)),
                    'u' => write!(out, "{dow}"),
                    'w' => write!(out, "{}", dow % 7),
                    'a' => out.write_all(&WEEKDAYS[dow as usize - 1].as_bytes()[..3]),
                    'W' => out.write_all(WEEKDAYS[dow as usize - 1].as_bytes()),
                    'Q' => write!(out, "{}", (m - 1) / 3 + 1),
                    'V' => write!(out, "{:02}", iso_week(days).1),
                    'G' => write!(out, "{:04}", iso_week(days).0),
                    'z' => out.write_all(b"+0000"),
                    // Microseconds of DateTime64 values; zeros for whole seconds.
                    'f' => {
                        let frac = if precision > 0 { ticks[i].rem_euclid(10i64.pow(precision as u32)) * 10i64.pow(6u32.saturating_sub(precision as u32)) } else { 0 };
                        let frac = if precision > 6 { frac / 10i64.pow(precision as u32 - 6) } else { frac };
                        write!(out, "{frac:06}")
                    }
                    _ => unreachable!("parse_format accepts only known fields"),
                },
            };
        }
    }))
}

/// Reads a time from text in any of the common forms: ISO 8601 with `T`, fractions and a
/// `Z` or `±hh:mm` offset, `YYYY/MM/DD`, `DD/MM/YYYY` (`MM/DD/YYYY` when the first number
/// cannot be a month's day… and the second can), `YYYYMMDD[hhmmss]`, Unix seconds, RFC 2822
/// (`Sun, 04 Jan 2026 13:05:09 GMT`), month names (`4 January 2026`, `Jan 4 2026 1:05 PM`).
pub fn parse_best_effort(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.len() {
            8 => date_secs(text[..4].parse().ok()?, text[4..6].parse().ok()?, text[6..].parse().ok()?),
            14 => {
                let day = date_secs(text[..4].parse().ok()?, text[4..6].parse().ok()?, text[6..8].parse().ok()?)?;
                clock_secs(text[8..10].parse().ok()?, text[10..12].parse().ok()?, text[12..].parse().ok()?).map(|c| day + c)
            }
            _ => text.parse().ok(),
        };
    }
    // Split into numbers (with the separator that followed each) and words.
    let b = text.as_bytes();
    let (mut year, mut month, mut day) = (None::<i64>, None::<i64>, None::<i64>);
    let (mut hms, mut offset, mut pm) = (None::<(i64, i64, i64)>, 0i64, None::<bool>);
    let mut loose: Vec<i64> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n: i64 = text[start..i].parse().ok()?;
            let len = i - start;
            if i < b.len() && b[i] == b':' {
                // A clock time hh:mm[:ss[.frac]].
                let mut parts = vec![n];
                while i < b.len() && b[i] == b':' {
                    let s = i + 1;
                    i = s;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    parts.push(text[s..i].parse().ok()?);
                }
                if i < b.len() && b[i] == b'.' {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                hms = Some((parts[0], parts[1], *parts.get(2).unwrap_or(&0)));
            } else if len == 4 && year.is_none() {
                year = Some(n);
                if i < b.len() && matches!(b[i], b'-' | b'/' | b'.') {
                    let sep = b[i];
                    let s = i + 1;
                    i = s;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    month = Some(text[s..i].parse().ok()?);
                    if i < b.len() && b[i] == sep {
                        let s = i + 1;
                        i = s;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                        day = Some(text[s..i].parse().ok()?);
                    } else {
                        day = Some(1);
                    }
                }
            } else {
                loose.push(n);
            }
            continue;
        }
        if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word = text[start..i].to_ascii_lowercase();
            if let Some(m) = MONTHS.iter().position(|name| word.len() >= 3 && name.to_ascii_lowercase().starts_with(&word)) {
                month = Some(m as i64 + 1);
            } else if word == "pm" || word == "am" {
                pm = Some(word == "pm");
            } else if !(matches!(word.as_str(), "t" | "z" | "utc" | "gmt") || WEEKDAYS.iter().any(|w| w.to_ascii_lowercase().starts_with(&word))) {
                return None;
            }
            continue;
        }
        if (c == b'+' || c == b'-') && hms.is_some() && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
            // A zone offset ±hh[:mm] after the clock.
            let digits: String = text[i + 1..].chars().filter(|c| c.is_ascii_digit()).take(4).collect();
            let (hh, mm) = if digits.len() >= 4 { (&digits[..2], &digits[2..4]) } else { (&digits[..digits.len().min(2)], "0") };
            let sign = if c == b'-' { -1 } else { 1 };
            offset = sign * (hh.parse::<i64>().ok()? * 3600 + mm.parse::<i64>().ok()? * 60);
            break;
        }
        i += 1;
    }
    // Loose numbers: the day (and month, and year), DD/MM unless only MM/DD fits.
    match (month, loose.as_slice()) {
        (Some(_), _) => {
            for &n in &loose {
                if day.is_none() && (1..=31).contains(&n) {
                    day = Some(n);
                } else if year.is_none() {
                    year = Some(n);
                }
            }
        }
        (None, [a, b, rest @ ..]) if rest.len() <= 1 && year.is_none() != rest.is_empty() => {
            let (dd, mm) = if *b > 12 && *a <= 12 { (*b, *a) } else { (*a, *b) };
            (day, month) = (Some(dd), Some(mm));
            if let [y] = rest {
                year = Some(*y);
            }
        }
        (None, []) if year.is_some() => {}
        _ => return None,
    }
    let (mut h, mi, s) = hms.unwrap_or((0, 0, 0));
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let base = date_secs(year?, month.unwrap_or(1), day.unwrap_or(1))?;
    Some(base + clock_secs(h, mi, s)? - offset)
}

/// Unix seconds of midnight on a valid civil date.
fn date_secs(y: i64, m: i64, d: i64) -> Option<i64> {
    let text = format!("{y:04}-{m:02}-{d:02}");
    time::parse_date(&text).map(|days| days * SECONDS_PER_DAY)
}

/// Seconds since midnight of a valid clock time.
fn clock_secs(h: i64, m: i64, s: i64) -> Option<i64> {
    ((0..24).contains(&h) && (0..60).contains(&m) && (0..60).contains(&s)).then_some(h * 3600 + m * 60 + s)
}

/// Refuses a time zone argument other than UTC (Granary has no time zone data).
fn utc_only(name: &str, tz: Option<&Expr>) -> Result<()> {
    if let Some(tz) = tz {
        let zone = const_str(name, tz)?;
        if !matches!(zone.to_ascii_uppercase().as_str(), "UTC" | "ETC/UTC" | "GMT" | "Z" | "UTC0" | "ETC/GMT") {
            bail!(NotSupported, "time zone '{zone}' is not supported: Granary computes times in UTC only");
        }
    }
    Ok(())
}

/// Binds the date functions whose arguments are not plain expressions:
/// `toStartOfInterval(t, INTERVAL n unit)`.
pub fn bind_special(name: &str, args: &[ast::Expr], bind_arg: &mut BindArg) -> Result<Option<Expr>> {
    if name != "tostartofinterval" {
        return Ok(None);
    }
    let (t, interval, tz) = match args {
        [t, ast::Expr::Interval(i)] => (t, i, None),
        [t, ast::Expr::Interval(i), tz] => (t, i, Some(tz)),
        _ => bail!(UndefinedFunction, "toStartOfInterval takes a time and an INTERVAL n unit"),
    };
    let tz = tz.map(&mut *bind_arg).transpose()?;
    utc_only(name, tz.as_ref())?;
    let unit = interval.leading_field.as_ref().and_then(Unit::of_field).ok_or_else(|| crate::QueryError::new(crate::ErrorKind::NotSupported, format!("interval {interval} is not supported by toStartOfInterval")))?;
    let n = const_int(name, &bind_arg(&interval.value)?)?;
    if n <= 0 {
        bail!(InvalidParameter, "the interval of toStartOfInterval must be positive, got {n}");
    }
    Ok(Some(call(DateFn::StartOfInterval { n, unit }, vec![bind_arg(t)?])?))
}

/// Binds a date or time function by name, or returns `None` if `name` is not one.
pub fn bind(name: &str, args: &[Expr], ctx: &Context) -> Result<Option<Expr>> {
    let now = Expr::Literal { value: Value::Int(ctx.now), ty: DataType::DateTime };
    let today = ctx.now.div_euclid(SECONDS_PER_DAY);
    let day = |d: i64| Expr::Literal { value: Value::Int(d), ty: DataType::Date };
    let part = |p: Part| -> Result<Expr> {
        arity(name, args, 1..=2)?;
        utc_only(name, args.get(1))?;
        call(DateFn::Part(p), vec![args[0].clone()])
    };
    let start = |unit: Unit, monday: bool| -> Result<Expr> {
        arity(name, args, 1..=2)?;
        utc_only(name, args.get(1))?;
        call(DateFn::StartOf { unit, monday }, vec![args[0].clone()])
    };
    let core = |func: Func| -> Result<Expr> {
        arity(name, args, 1..=2)?;
        utc_only(name, args.get(1))?;
        Expr::call(func, vec![args[0].clone()])
    };
    Ok(Some(match name {
        "now" | "current_timestamp" | "localtimestamp" => {
            arity(name, args, 0..=1)?;
            utc_only(name, args.first())?;
            now
        }
        "today" | "current_date" | "curdate" => {
            arity(name, args, 0..=0)?;
            day(today)
        }
        "yesterday" => {
            arity(name, args, 0..=0)?;
            day(today - 1)
        }
        "todate" => core(Func::ToDate)?,
        "toyyyymm" => core(Func::ToYYYYMM)?,
        "toyyyymmdd" => core(Func::ToYYYYMMDD)?,
        "tostartofhour" => core(Func::ToStartOfHour)?,
        "tohour" | "hour" => core(Func::ToHour)?,
        "todatetime" => {
            arity(name, args, 1..=2)?;
            utc_only(name, args.get(1))?;
            args[0].clone().cast(DataType::DateTime)?
        }
        "todatetime64" => {
            arity(name, args, 2..=3)?;
            utc_only(name, args.get(2))?;
            let precision = const_int(name, &args[1])?;
            if !(0..=9).contains(&precision) {
                bail!(InvalidParameter, "DateTime64 precision must be 0 to 9, got {precision}");
            }
            args[0].clone().cast(DataType::DateTime64(precision as u8))?
        }
        "tounixtimestamp" => {
            arity(name, args, 1..=2)?;
            utc_only(name, args.get(1))?;
            args[0].clone().cast(DataType::DateTime)?.cast(DataType::UInt32)?
        }
        "tostartofsecond" => start(Unit::Second, false)?,
        "tostartofminute" => start(Unit::Minute, false)?,
        "tostartofday" => start(Unit::Day, false)?,
        "tomonday" => start(Unit::Week, true)?,
        "tostartofmonth" => start(Unit::Month, false)?,
        "tostartofquarter" => start(Unit::Quarter, false)?,
        "tostartofyear" => start(Unit::Year, false)?,
        "tostartofweek" => {
            arity(name, args, 1..=3)?;
            utc_only(name, args.get(2))?;
            let mode = args.get(1).map(|m| const_int(name, m)).transpose()?.unwrap_or(0);
            call(DateFn::StartOf { unit: Unit::Week, monday: mode & 1 == 1 }, vec![args[0].clone()])?
        }
        "date_trunc" | "datetrunc" => {
            arity(name, args, 2..=3)?;
            utc_only(name, args.get(2))?;
            let unit_name = const_str(name, &args[0])?;
            match Unit::parse(&unit_name) {
                Some(Unit::Hour) => Expr::call(Func::ToStartOfHour, vec![args[1].clone()])?,
                Some(unit) => call(DateFn::StartOf { unit, monday: true }, vec![args[1].clone()])?,
                None => bail!(InvalidParameter, "unknown unit '{unit_name}' for date_trunc"),
            }
        }
        "tominute" | "minute" => part(Part::Minute)?,
        "tosecond" | "second" => part(Part::Second)?,
        "todayofweek" | "dayofweek" => part(Part::DayOfWeek)?,
        "todayofmonth" | "dayofmonth" | "day" => part(Part::DayOfMonth)?,
        "todayofyear" | "dayofyear" => part(Part::DayOfYear)?,
        "tomonth" | "month" => part(Part::Month)?,
        "toquarter" | "quarter" => part(Part::Quarter)?,
        "toyear" | "year" => part(Part::Year)?,
        "toisoweek" => part(Part::IsoWeek)?,
        "datediff" | "date_diff" | "timestampdiff" | "timestamp_diff" => {
            arity(name, args, 3..=4)?;
            utc_only(name, args.get(3))?;
            let unit_name = const_str(name, &args[0])?;
            let unit = Unit::parse(&unit_name).ok_or_else(|| crate::QueryError::new(crate::ErrorKind::InvalidParameter, format!("unknown unit '{unit_name}' for dateDiff")))?;
            call(DateFn::DateDiff(unit), vec![args[1].clone(), args[2].clone()])?
        }
        "formatdatetime" | "date_format" => {
            arity(name, args, 2..=3)?;
            utc_only(name, args.get(2))?;
            let items = parse_format(&const_str(name, &args[1])?)?;
            call(DateFn::Format(Arc::new(items)), vec![args[0].clone()])?
        }
        "parsedatetimebesteffort" | "parsedatetimebesteffortornull" => {
            arity(name, args, 1..=2)?;
            utc_only(name, args.get(1))?;
            call(DateFn::ParseBestEffort { or_null: name.ends_with("ornull") }, vec![args[0].clone()])?
        }
        _ => match shift(name) {
            Some((unit, sign)) => {
                arity(name, args, 2..=2)?;
                add(args[0].clone(), args[1].clone(), unit, sign)?
            }
            None => return Ok(None),
        },
    }))
}

/// The unit and direction of `addDays`, `subtractMonths`, ….
fn shift(name: &str) -> Option<(Unit, i64)> {
    let (rest, sign) = match name.strip_prefix("add") {
        Some(rest) => (rest, 1),
        None => (name.strip_prefix("subtract")?, -1),
    };
    Some((Unit::parse(rest)?, sign))
}

/// `t` moved by `n` units (negated when `sign` is -1), as `t ± INTERVAL n unit` moves it:
/// a Date by days (becoming a DateTime for clock units), times by seconds, calendar units
/// by months.
pub fn add(t: Expr, n: Expr, unit: Unit, sign: i64) -> Result<Expr> {
    let ty = t.ty().non_null().clone();
    if !ty.is_temporal() {
        bail!(DatatypeMismatch, "illegal type {ty} of the first argument of add/subtract functions: it must be a date or time");
    }
    let (per, months) = match unit {
        Unit::Second => (1, false),
        Unit::Minute => (60, false),
        Unit::Hour => (3600, false),
        Unit::Day => (SECONDS_PER_DAY, false),
        Unit::Week => (7 * SECONDS_PER_DAY, false),
        Unit::Month => (1, true),
        Unit::Quarter => (3, true),
        Unit::Year => (12, true),
    };
    let (t, per) = match (ty, months) {
        (_, true) => (t, per),
        (DataType::Date, false) if per % SECONDS_PER_DAY == 0 => (t, per / SECONDS_PER_DAY),
        (DataType::Date, false) => (t.cast(DataType::DateTime)?, per),
        _ => (t, per),
    };
    let factor = Expr::Literal { value: Value::Int(sign * per), ty: DataType::Int64 };
    let steps = if sign * per == 1 { n } else { Expr::call(Func::Mul, vec![n, factor])? };
    Expr::call(if months { Func::AddMonths } else { Func::Add }, vec![t, steps])
}

/// Binds `EXTRACT(field FROM t)`.
pub fn extract(field: &ast::DateTimeField, t: Expr) -> Result<Expr> {
    use ast::DateTimeField as F;
    let p = match field {
        F::Hour | F::Hours => return Expr::call(Func::ToHour, vec![t]),
        F::Epoch => return t.cast(DataType::DateTime)?.cast(DataType::UInt32),
        F::Minute | F::Minutes => Part::Minute,
        F::Second | F::Seconds => Part::Second,
        F::Day | F::Days => Part::DayOfMonth,
        F::Dow => Part::DayOfWeekFromSunday,
        F::Isodow => Part::DayOfWeek,
        F::Doy => Part::DayOfYear,
        F::Week(_) | F::Weeks => Part::IsoWeek,
        F::Month | F::Months => Part::Month,
        F::Quarter => Part::Quarter,
        F::Year | F::Years => Part::Year,
        other => bail!(NotSupported, "EXTRACT({other} FROM …) is not supported"),
    };
    call(DateFn::Part(p), vec![t])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        time::parse_datetime(text, 0).unwrap()
    }

    #[test]
    fn best_effort_forms() {
        assert_eq!(parse_best_effort("2026-01-04T13:05:09Z"), Some(at("2026-01-04 13:05:09")));
        assert_eq!(parse_best_effort("2026-01-04 13:05:09.789+02:00"), Some(at("2026-01-04 11:05:09")));
        assert_eq!(parse_best_effort("04/01/2026"), Some(at("2026-01-04 00:00:00")));
        assert_eq!(parse_best_effort("12/25/2026"), Some(at("2026-12-25 00:00:00")));
        assert_eq!(parse_best_effort("Sun, 04 Jan 2026 13:05:09 GMT"), Some(at("2026-01-04 13:05:09")));
        assert_eq!(parse_best_effort("Jan 4 2026 1:05 PM"), Some(at("2026-01-04 13:05:00")));
        assert_eq!(parse_best_effort("20260104130509"), Some(at("2026-01-04 13:05:09")));
        assert_eq!(parse_best_effort("garbage"), None);
        assert_eq!(parse_best_effort("2026-13-45"), None);
    }

    #[test]
    fn buckets_and_weeks() {
        let d = time::parse_date("2026-01-07").unwrap();
        assert_eq!(week_start(d, true), time::parse_date("2026-01-05").unwrap());
        assert_eq!(week_start(d, false), time::parse_date("2026-01-04").unwrap());
        assert_eq!(month_bucket(time::parse_date("2026-05-07").unwrap(), 7, Unit::Month), time::parse_date("2026-01-01").unwrap());
        assert_eq!(iso_week(time::parse_date("2027-01-01").unwrap()), (2026, 53));
    }
}
