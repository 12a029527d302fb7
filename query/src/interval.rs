//! `INTERVAL n unit` in date and time arithmetic (`now() - INTERVAL 7 DAY`, TTLs): a fixed
//! number of seconds, or a number of calendar months (month ends clamp, as in ClickHouse).

use granary_storage::time;
use sqlparser::ast::{self, DateTimeField};

use crate::error::{bail, Result};

/// What an interval adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalStep {
    /// A fixed duration: seconds, minutes, hours, days, weeks.
    Seconds(i64),
    /// Calendar months: months, quarters, years.
    Months(i64),
}

/// The step of `INTERVAL n unit` (or Postgres' `INTERVAL '2 hours'`), negated when `sign`
/// is -1.
pub fn interval_step(interval: &ast::Interval, sign: i64) -> Result<IntervalStep> {
    let text = match interval.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => Some(n.clone()),
            ast::Value::SingleQuotedString(s) => Some(s.trim().to_string()),
            _ => None,
        },
        _ => None,
    };
    let not_whole = || crate::QueryError::new(crate::ErrorKind::NotSupported, format!("an interval must be a whole number: {interval}"));
    let text = text.ok_or_else(not_whole)?;
    // '2 hours': the unit inside the string.
    let (number, unit) = match (&interval.leading_field, text.split_once(char::is_whitespace)) {
        (None, Some((n, unit))) => (n.to_string(), Some(parse_unit(unit.trim())?)),
        _ => (text.clone(), interval.leading_field.clone()),
    };
    let n: i64 = number.parse().map_err(|_| not_whole())?;
    let n = n * sign;
    Ok(match unit.as_ref() {
        Some(DateTimeField::Second | DateTimeField::Seconds) => IntervalStep::Seconds(n),
        Some(DateTimeField::Minute | DateTimeField::Minutes) => IntervalStep::Seconds(n * 60),
        Some(DateTimeField::Hour | DateTimeField::Hours) => IntervalStep::Seconds(n * 3600),
        Some(DateTimeField::Day | DateTimeField::Days) => IntervalStep::Seconds(n * time::SECONDS_PER_DAY),
        Some(DateTimeField::Week(_) | DateTimeField::Weeks) => IntervalStep::Seconds(n * 7 * time::SECONDS_PER_DAY),
        Some(DateTimeField::Month | DateTimeField::Months) => IntervalStep::Months(n),
        Some(DateTimeField::Quarter) => IntervalStep::Months(n * 3),
        Some(DateTimeField::Year | DateTimeField::Years) => IntervalStep::Months(n * 12),
        other => bail!(NotSupported, "interval unit {} is not supported", other.map_or("(none)".to_string(), |f| f.to_string())),
    })
}

/// A unit name in an interval string (`day`, `days`, `hour`, …).
fn parse_unit(unit: &str) -> Result<DateTimeField> {
    Ok(match unit.to_ascii_lowercase().trim_end_matches('s') {
        "second" | "sec" => DateTimeField::Second,
        "minute" | "min" => DateTimeField::Minute,
        "hour" => DateTimeField::Hour,
        "day" => DateTimeField::Day,
        "week" => DateTimeField::Weeks,
        "month" | "mon" => DateTimeField::Month,
        "quarter" => DateTimeField::Quarter,
        "year" => DateTimeField::Year,
        _ => bail!(NotSupported, "interval unit {unit} is not supported"),
    })
}

/// Unix seconds `s` moved by `months` calendar months, keeping the time of day.
pub fn add_months_to_seconds(s: i64, months: i64) -> i64 {
    time::add_months(s.div_euclid(time::SECONDS_PER_DAY), months) * time::SECONDS_PER_DAY + s.rem_euclid(time::SECONDS_PER_DAY)
}
