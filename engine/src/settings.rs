//! Session settings, by `SET name = value`, `SHOW name`, `RESET name | ALL`, and a query's
//! `SETTINGS name = value, …` (for that query only).
//!
//! Three settings steer execution: `max_threads` (scan and aggregation threads; 0 = one per
//! core), `max_memory_usage` (bytes a query may hold; 0 = no limit) and
//! `max_insert_block_size` (rows COPY parses before it writes them as parts). The others are the
//! Postgres session variables clients set and read back (`search_path`, `application_name`,
//! `extra_float_digits`, `DateStyle`, `statement_timeout`, …); they are kept as text. Times are
//! UTC only, so `timezone` accepts UTC and its aliases.

use std::collections::BTreeMap;

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
        let name = name.to_ascii_lowercase();
        if let Some(v) = self.changed.get(&name) {
            return Ok(v.clone());
        }
        match DEFAULTS.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.to_string()),
            None => bail!(UndefinedType, "unrecognized configuration parameter \"{name}\""),
        }
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

    /// Rows a COPY gathers into one block before writing it as parts.
    pub fn insert_block_rows(&self) -> usize {
        self.get("max_insert_block_size").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 20)
    }
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
    }
}
