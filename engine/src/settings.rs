//! Session settings, by `SET name = value`, `SHOW name`, `RESET name | ALL`, and a query's
//! `SETTINGS name = value, …` (for that query only).
//!
//! Four settings steer execution: `max_threads` (scan and aggregation threads; 0 = one per
//! core), `max_memory_usage` (bytes a query may hold; 0 = no limit), `max_insert_block_size`
//! (rows COPY parses before it writes them as parts) and `statement_timeout` (how long a
//! statement may run; 0 = no limit). The others are the Postgres session variables clients set
//! and read back (`search_path`, `application_name`, `extra_float_digits`, `DateStyle`, …);
//! they are kept as text. Times are UTC only, so `timezone` accepts UTC and its aliases.

use std::collections::BTreeMap;
use std::time::Duration;

use granary_query::error::bail;
use granary_query::exec::QueryContext;
use granary_query::Result;

/// Settings every session starts with (names are case-insensitive and kept lowercase).
const DEFAULTS: &[(&str, &str)] = &[
    ("max_threads", "0"),
    ("max_memory_usage", "0"),
    ("max_insert_block_size", "1048576"),
    ("search_path", "default"),
    ("application_name", ""),
    ("extra_float_digits", "1"),
    ("timezone", "UTC"),
    ("datestyle", "ISO, MDY"),
    ("intervalstyle", "postgres"),
    ("statement_timeout", "0"),
    ("client_encoding", "UTF8"),
    ("server_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("integer_datetimes", "on"),
    ("transaction_isolation", "read committed"),
    ("server_version", granary_query::functions::pg::PG_VERSION),
    ("max_identifier_length", "63"),
    ("default_table_access_method", "mergetree"),
];

/// One session's settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Values set in this session, over `DEFAULTS`.
    changed: BTreeMap<String, String>,
}

impl Settings {
    /// The value of a setting, as text.
    pub fn get(&self, name: &str) -> Result<String> {
        let mut name = name.to_ascii_lowercase();
        if name == "transaction isolation level" {
            name = "transaction_isolation".into(); // `SHOW TRANSACTION ISOLATION LEVEL`
        }
        if let Some(v) = self.changed.get(&name) {
            return Ok(v.clone());
        }
        match DEFAULTS.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.to_string()),
            None => bail!(UndefinedType, "unrecognized configuration parameter \"{name}\""),
        }
    }

    /// Every setting with its value and whether the session changed it, by name.
    pub fn all(&self) -> Vec<(String, String, bool)> {
        let mut all: BTreeMap<String, (String, bool)> = DEFAULTS.iter().map(|(n, v)| (n.to_string(), (v.to_string(), false))).collect();
        all.extend(self.changed.iter().map(|(n, v)| (n.clone(), (v.clone(), true))));
        all.into_iter().map(|(n, (v, changed))| (n, v, changed)).collect()
    }

    /// Sets a setting; the execution settings must be non-negative integers and `timezone`
    /// UTC. Names Granary does not know are kept, so that clients can set and read them.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let name = name.to_ascii_lowercase();
        let value = value.trim().to_string();
        match name.as_str() {
            "max_threads" | "max_memory_usage" if value.parse::<u64>().is_err() => {
                bail!(InvalidParameter, "{name} must be a non-negative integer, got {value:?}");
            }
            "statement_timeout" if parse_duration(&value).is_none() => {
                bail!(InvalidParameter, "invalid value for parameter \"statement_timeout\": {value:?} (milliseconds, or a number with ms, s, min, h or d)");
            }
            "max_insert_block_size" if !value.parse::<u64>().is_ok_and(|n| n > 0) => {
                bail!(InvalidParameter, "{name} must be a positive integer, got {value:?}");
            }
            "timezone" | "time zone" => {
                if !matches!(value.to_ascii_uppercase().as_str(), "UTC" | "GMT" | "ETC/UTC" | "ZULU" | "Z" | "+00:00" | "0") {
                    bail!(NotSupported, "only the UTC time zone is supported, not {value:?}");
                }
                self.changed.insert("timezone".into(), "UTC".into());
                return Ok(());
            }
            _ => {}
        }
        self.changed.insert(name, value);
        Ok(())
    }

    /// Back to the default: one setting, or all (`None`).
    pub fn reset(&mut self, name: Option<&str>) {
        match name {
            Some(n) => {
                self.changed.remove(&n.to_ascii_lowercase());
            }
            None => self.changed.clear(),
        }
    }

    /// The execution settings of a query run under these settings.
    pub fn apply(&self, ctx: &mut QueryContext) {
        let number = |name: &str| self.get(name).ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ctx.max_threads = number("max_threads") as usize;
        ctx.max_memory_usage = number("max_memory_usage");
    }

    /// How long a statement may run (`statement_timeout`); `None` when it may run for ever (0).
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.get("statement_timeout").ok().and_then(|v| parse_duration(&v)).filter(|d| !d.is_zero())
    }

    /// Rows a COPY gathers into one block before writing it as parts.
    pub fn insert_block_rows(&self) -> usize {
        self.get("max_insert_block_size").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 20)
    }
}

/// A Postgres time setting: a number of milliseconds, or a number with a unit (`250ms`,
/// `5s`, `1min`, `2h`, `1d`).
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim().trim_matches('\'');
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let ms = match unit.trim() {
        "" | "ms" => 1.0,
        "s" => 1e3,
        "min" => 60e3,
        "h" => 3600e3,
        "d" => 86_400e3,
        _ => return None,
    };
    Some(Duration::from_secs_f64(number * ms / 1e3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_show_reset_and_apply() {
        let mut s = Settings::default();
        assert_eq!(s.get("DateStyle").unwrap(), "ISO, MDY");
        s.set("max_threads", "1").unwrap();
        s.set("application_name", "psql").unwrap();
        assert!(s.set("max_memory_usage", "lots").is_err());
        assert!(s.set("timezone", "Europe/Berlin").is_err());
        assert!(s.get("no_such_setting").is_err());
        let mut ctx = QueryContext::default();
        s.apply(&mut ctx);
        assert_eq!((ctx.max_threads, ctx.max_memory_usage), (1, 0));
        s.reset(Some("MAX_THREADS"));
        assert_eq!(s.get("max_threads").unwrap(), "0");
        assert_eq!(s.get("application_name").unwrap(), "psql");
        s.reset(None);
        assert_eq!(s.get("application_name").unwrap(), "");
        assert_eq!(s.statement_timeout(), None);
        for (text, ms) in [("1500", 1500), ("2s", 2000), ("'250ms'", 250), ("1min", 60_000)] {
            s.set("statement_timeout", text).unwrap();
            assert_eq!(s.statement_timeout(), Some(Duration::from_millis(ms)), "{text}");
        }
        assert!(s.set("statement_timeout", "soon").is_err());
    }
}
