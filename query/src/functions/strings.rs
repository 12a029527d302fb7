//! String functions: lengths, case, concatenation, substrings and searches, regular
//! expressions, replacement, splitting, trimming, `LIKE` as a function. Positions and lengths
//! count bytes, as in ClickHouse, except in the `…UTF8` variants, which count code points;
//! `lower`/`upper` change ASCII letters only (`lowerUTF8`/`upperUTF8` change all).

use std::sync::Arc;

use granary_storage::column::write_varint;
use granary_storage::{array, Column, ColumnData, ColumnRef, DataType, StringData};
use memchr::memmem;

use super::{arity, build_strings, call, const_str, flags, strings, want_strings, Context};
use crate::error::{bail, ErrorKind, QueryError, Result};
use crate::expr::{Expr, Func};
use crate::kernels;
use crate::like::LikePattern;

/// A compiled regular expression; two are equal when their patterns are.
#[derive(Debug, Clone)]
pub struct Regex(Arc<regex::bytes::Regex>);

impl PartialEq for Regex {
    fn eq(&self, other: &Regex) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Regex {
    /// Compiles a pattern (RE2 syntax, which the `regex` crate shares). Classes such as `\w`
    /// and `\d` are ASCII-only, as in RE2; so is case folding, and `.` matches one byte.
    fn new(pattern: &str) -> Result<Regex> {
        regex::bytes::RegexBuilder::new(pattern).unicode(false).build().map(|r| Regex(Arc::new(r))).map_err(|e| QueryError::new(ErrorKind::InvalidParameter, format!("invalid regular expression '{pattern}': {e}")))
    }
}

/// A string function evaluated by this module.
#[derive(Debug, Clone, PartialEq)]
pub enum StringFn {
    /// Length in code points.
    LengthUtf8,
    /// ASCII letters to lower (`utf8`: all letters).
    Lower { utf8: bool },
    /// ASCII letters to upper (`utf8`: all letters).
    Upper { utf8: bool },
    /// All arguments (Strings) joined.
    Concat,
    /// `substring(s, offset[, length])`: 1-based, negative offsets count from the end.
    Substring { utf8: bool },
    /// `position(haystack, needle[, start])`: 1-based byte position of the first match, 0 if none.
    Position { case_insensitive: bool },
    /// `match(s, regex)`.
    Match(Regex),
    /// `replaceAll` / `replaceOne(s, from, to)`.
    Replace { all: bool },
    /// `replaceRegexpAll` / `replaceRegexpOne(s, regex, replacement)`, with `\1` references
    /// already rewritten to the regex crate's `${1}`.
    ReplaceRegexp { all: bool, regex: Regex, replacement: String },
    /// `splitByChar(sep, s)` / `splitByString(sep, s)`: an Array(String) of the pieces.
    Split { separator: Vec<u8> },
    /// `startsWith(s, prefix)`.
    StartsWith,
    /// `endsWith(s, suffix)`.
    EndsWith,
    /// Removes the given bytes (spaces by default) from the start and/or end.
    Trim { left: bool, right: bool, bytes: Vec<u8> },
    /// Bytes in reverse order.
    Reverse,
    /// `repeat(s, n)`.
    Repeat,
    /// `empty(x)` / `notEmpty(x)` for strings and arrays.
    Empty { negated: bool },
}

impl StringFn {
    /// The ClickHouse name of the function.
    pub fn name(&self) -> &'static str {
        match self {
            StringFn::LengthUtf8 => "lengthUTF8",
            StringFn::Lower { .. } => "lower",
            StringFn::Upper { .. } => "upper",
            StringFn::Concat => "concat",
            StringFn::Substring { .. } => "substring",
            StringFn::Position { .. } => "position",
            StringFn::Match(_) => "match",
            StringFn::Replace { .. } => "replaceAll",
            StringFn::ReplaceRegexp { .. } => "replaceRegexpAll",
            StringFn::Split { .. } => "splitByString",
            StringFn::StartsWith => "startsWith",
            StringFn::EndsWith => "endsWith",
            StringFn::Trim { .. } => "trim",
            StringFn::Reverse => "reverse",
            StringFn::Repeat => "repeat",
            StringFn::Empty { .. } => "empty",
        }
    }

    /// The result type for the (non-Nullable) argument types.
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        let integer = |i: usize| -> Result<()> {
            match args.get(i) {
                Some(t) if !t.is_integer() => bail!(DatatypeMismatch, "illegal type {t} of argument {} of function {}", i + 1, self.name()),
                _ => Ok(()),
            }
        };
        Ok(match self {
            StringFn::Empty { .. } => {
                if !(args[0].is_string() || args[0].element().is_some()) {
                    bail!(DatatypeMismatch, "illegal type {} of argument of function empty", args[0]);
                }
                DataType::UInt8
            }
            StringFn::Substring { .. } => {
                want_strings(self.name(), &args[..1])?;
                integer(1)?;
                integer(2)?;
                DataType::String
            }
            StringFn::Position { .. } => {
                want_strings(self.name(), &args[..2])?;
                integer(2)?;
                DataType::UInt64
            }
            StringFn::Repeat => {
                want_strings(self.name(), &args[..1])?;
                integer(1)?;
                DataType::String
            }
            _ => {
                want_strings(self.name(), args)?;
                match self {
                    StringFn::LengthUtf8 => DataType::UInt64,
                    StringFn::Match(_) | StringFn::StartsWith | StringFn::EndsWith => DataType::UInt8,
                    StringFn::Split { .. } => DataType::Array(Box::new(DataType::String)),
                    _ => DataType::String,
                }
            }
        })
    }

    /// Evaluates the function over whole columns.
    pub fn eval(&self, args: &[ColumnRef], ty: &DataType) -> Result<Column> {
        let name = self.name();
        let rows = args.first().map_or(0, |a| a.len());
        if let StringFn::Empty { negated } = self {
            let ColumnData::Bytes(s) = &args[0].data else { bail!(DatatypeMismatch, "empty needs a string or an array") };
            let array = args[0].ty.element().is_some();
            return Ok(flags(s.iter().map(|v| ((if array { array::row_len(v) == 0 } else { v.is_empty() }) != *negated) as u8).collect()));
        }
        let s = strings(name, &args[0])?;
        Ok(match self {
            StringFn::LengthUtf8 => kernels::from_u64(DataType::UInt64, s.iter().map(|v| utf8_len(v) as u64).collect()),
            StringFn::Lower { utf8: false } => build_strings(rows, |i, out| out.extend(s.get(i).iter().map(u8::to_ascii_lowercase))),
            StringFn::Upper { utf8: false } => build_strings(rows, |i, out| out.extend(s.get(i).iter().map(u8::to_ascii_uppercase))),
            StringFn::Lower { utf8: true } => build_strings(rows, |i, out| out.extend_from_slice(String::from_utf8_lossy(s.get(i)).to_lowercase().as_bytes())),
            StringFn::Upper { utf8: true } => build_strings(rows, |i, out| out.extend_from_slice(String::from_utf8_lossy(s.get(i)).to_uppercase().as_bytes())),
            StringFn::Concat => {
                let parts = args.iter().map(|a| strings(name, a)).collect::<Result<Vec<_>>>()?;
                build_strings(rows, |i, out| parts.iter().for_each(|p| out.extend_from_slice(p.get(i))))
            }
            StringFn::Substring { utf8 } => {
                let offsets = kernels::to_i64(&args[1])?;
                let lengths = args.get(2).map(|l| kernels::to_i64(l)).transpose()?;
                build_strings(rows, |i, out| {
                    let v = s.get(i);
                    let (start, end) = substring_range(if *utf8 { utf8_len(v) } else { v.len() }, offsets[i], lengths.as_ref().map(|l| l[i]));
                    if *utf8 {
                        out.extend_from_slice(&v[char_offset(v, start)..char_offset(v, end)]);
                    } else {
                        out.extend_from_slice(&v[start..end]);
                    }
                })
            }
            StringFn::Position { case_insensitive } => {
                let needles = strings(name, &args[1])?;
                let starts = args.get(2).map(|a| kernels::to_i64(a)).transpose()?;
                let (mut hay, mut needle) = (Vec::new(), Vec::new());
                let found = (0..rows).map(|i| {
                    let (mut h, mut n) = (s.get(i), needles.get(i));
                    if *case_insensitive {
                        hay.clear();
                        hay.extend(h.iter().map(u8::to_ascii_lowercase));
                        needle.clear();
                        needle.extend(n.iter().map(u8::to_ascii_lowercase));
                        (h, n) = (&hay, &needle);
                    }
                    let from = starts.as_ref().map_or(1, |st| st[i].max(1)) as usize;
                    if from > h.len() + 1 {
                        return 0;
                    }
                    memmem::find(&h[from - 1..], n).map_or(0, |p| (p + from) as u64)
                });
                kernels::from_u64(DataType::UInt64, found.collect())
            }
            StringFn::Match(re) => flags(s.iter().map(|v| re.0.is_match(v) as u8).collect()),
            StringFn::Replace { all } => {
                let (from, to) = (strings(name, &args[1])?, strings(name, &args[2])?);
                build_strings(rows, |i, out| replace(s.get(i), from.get(i), to.get(i), *all, out))
            }
            StringFn::ReplaceRegexp { all, regex, replacement } => build_strings(rows, |i, out| {
                let v = s.get(i);
                let replaced = if *all { regex.0.replace_all(v, replacement.as_bytes()) } else { regex.0.replace(v, replacement.as_bytes()) };
                out.extend_from_slice(&replaced);
            }),
            StringFn::Split { separator } => {
                let mut out = StringData::with_capacity(rows);
                let finder = memmem::Finder::new(separator);
                for v in s.iter() {
                    // The pieces between separators; an empty string is one empty piece.
                    write_varint(finder.find_iter(v).count() as u64 + 1, &mut out.bytes);
                    let mut last = 0;
                    for end in finder.find_iter(v).chain(std::iter::once(v.len())) {
                        write_varint((end - last) as u64, &mut out.bytes);
                        out.bytes.extend_from_slice(&v[last..end]);
                        last = end + separator.len();
                    }
                    out.offsets.push(out.bytes.len() as u64);
                }
                Column::new(ty.clone(), ColumnData::Bytes(out))
            }
            StringFn::StartsWith | StringFn::EndsWith => {
                let other = strings(name, &args[1])?;
                let starts = matches!(self, StringFn::StartsWith);
                flags((0..rows).map(|i| if starts { s.get(i).starts_with(other.get(i)) } else { s.get(i).ends_with(other.get(i)) } as u8).collect())
            }
            StringFn::Trim { left, right, bytes } => build_strings(rows, |i, out| {
                let mut v = s.get(i);
                if *left {
                    let n = v.iter().take_while(|b| bytes.contains(b)).count();
                    v = &v[n..];
                }
                if *right {
                    let n = v.iter().rev().take_while(|b| bytes.contains(b)).count();
                    v = &v[..v.len() - n];
                }
                out.extend_from_slice(v);
            }),
            StringFn::Reverse => build_strings(rows, |i, out| out.extend(s.get(i).iter().rev())),
            StringFn::Repeat => {
                let counts = kernels::to_i64(&args[1])?;
                let total: u64 = (0..rows).map(|i| s.get(i).len() as u64 * counts[i].max(0) as u64).sum();
                if total > 1 << 30 {
                    bail!(InvalidParameter, "repeat would build {total} bytes, more than 1 GiB");
                }
                build_strings(rows, |i, out| (0..counts[i].max(0)).for_each(|_| out.extend_from_slice(s.get(i))))
            }
            StringFn::Empty { .. } => unreachable!("handled above"),
        })
    }
}

/// Code points in UTF-8 bytes (bytes that do not continue a character).
fn utf8_len(v: &[u8]) -> usize {
    v.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The byte offset of code point `n` (or the end).
fn char_offset(v: &[u8], n: usize) -> usize {
    v.iter().enumerate().filter(|(_, &b)| (b & 0xC0) != 0x80).nth(n).map_or(v.len(), |(i, _)| i)
}

/// The `[start, end)` units of a `substring` of a value `len` units long (ClickHouse's rules:
/// offset 0 gives nothing, a negative length stops that far before the end).
fn substring_range(len: usize, offset: i64, length: Option<i64>) -> (usize, usize) {
    let n = len as i64;
    let start = match offset {
        0 => return (0, 0),
        o if o > 0 => o - 1,
        o => n + o,
    };
    let end = match length {
        None => n,
        Some(l) if l >= 0 => start.saturating_add(l),
        Some(l) => n + l,
    };
    let start = start.clamp(0, n);
    (start as usize, end.clamp(start, n) as usize)
}

fn replace(v: &[u8], from: &[u8], to: &[u8], all: bool, out: &mut Vec<u8>) {
    if from.is_empty() {
        out.extend_from_slice(v);
        return;
    }
    let mut last = 0;
    for p in memmem::find_iter(v, from) {
        if p < last {
            continue;
        }
        out.extend_from_slice(&v[last..p]);
        out.extend_from_slice(to);
        last = p + from.len();
        if !all {
            break;
        }
    }
    out.extend_from_slice(&v[last..]);
}

/// ClickHouse's regex replacement (`\1`, `\\`) in the regex crate's syntax (`${1}`, `$$`).
fn replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => out.push_str(&format!("${{{d}}}")),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// `concat(a, b, …)`: arguments that are not strings are converted to their text form.
pub fn concat(args: Vec<Expr>) -> Result<Expr> {
    let args = args
        .into_iter()
        .map(|a| if a.ty().non_null().is_string() { Ok(a) } else { a.cast(DataType::String) })
        .collect::<Result<Vec<_>>>()?;
    call(StringFn::Concat, args)
}

/// `substring(s, offset[, length])` in bytes (or code points for `utf8`).
pub fn substring(args: Vec<Expr>, utf8: bool) -> Result<Expr> {
    call(StringFn::Substring { utf8 }, args)
}

/// `trim` from the start and/or end, of `chars` (spaces by default).
pub fn trim(s: Expr, left: bool, right: bool, chars: Option<String>) -> Result<Expr> {
    let bytes = chars.map_or_else(|| b" ".to_vec(), String::into_bytes);
    call(StringFn::Trim { left, right, bytes }, vec![s])
}

/// `position(haystack, needle[, start])`.
pub fn position(args: Vec<Expr>, case_insensitive: bool) -> Result<Expr> {
    call(StringFn::Position { case_insensitive }, args)
}

/// Binds a string function by name, or returns `None` if `name` is not one.
pub fn bind(name: &str, args: &[Expr], _ctx: &Context) -> Result<Option<Expr>> {
    let unary = |f: StringFn| -> Result<Expr> {
        arity(name, args, 1..=1)?;
        call(f, args.to_vec())
    };
    let like = |negated: bool, ci: bool| -> Result<Expr> {
        arity(name, args, 2..=2)?;
        let pattern = const_str(name, &args[1])?;
        Expr::call(Func::Like { negated, pattern: Arc::new(LikePattern::new(&pattern, ci)) }, vec![args[0].clone()])
    };
    Ok(Some(match name {
        "length" | "octet_length" => {
            arity(name, args, 1..=1)?;
            Expr::call(Func::Length, args.to_vec())?
        }
        "lengthutf8" | "char_length" | "character_length" => unary(StringFn::LengthUtf8)?,
        "lower" | "lcase" => unary(StringFn::Lower { utf8: false })?,
        "upper" | "ucase" => unary(StringFn::Upper { utf8: false })?,
        "lowerutf8" => unary(StringFn::Lower { utf8: true })?,
        "upperutf8" => unary(StringFn::Upper { utf8: true })?,
        "reverse" => unary(StringFn::Reverse)?,
        "empty" => unary(StringFn::Empty { negated: false })?,
        "notempty" => unary(StringFn::Empty { negated: true })?,
        "trim" | "trimboth" => {
            arity(name, args, 1..=1)?;
            trim(args[0].clone(), true, true, None)?
        }
        "trimleft" | "ltrim" => {
            arity(name, args, 1..=1)?;
            trim(args[0].clone(), true, false, None)?
        }
        "trimright" | "rtrim" => {
            arity(name, args, 1..=1)?;
            trim(args[0].clone(), false, true, None)?
        }
        "concat" => {
            if args.is_empty() {
                bail!(UndefinedFunction, "function concat needs at least one argument");
            }
            concat(args.to_vec())?
        }
        "substring" | "substr" | "mid" | "substringutf8" => {
            arity(name, args, 2..=3)?;
            substring(args.to_vec(), name == "substringutf8")?
        }
        "position" | "positioncaseinsensitive" => {
            arity(name, args, 2..=3)?;
            position(args.to_vec(), name == "positioncaseinsensitive")?
        }
        "locate" => {
            arity(name, args, 2..=3)?;
            let mut swapped = vec![args[1].clone(), args[0].clone()];
            swapped.extend(args.get(2).cloned());
            position(swapped, false)?
        }
        "match" => {
            arity(name, args, 2..=2)?;
            call(StringFn::Match(Regex::new(&const_str(name, &args[1])?)?), vec![args[0].clone()])?
        }
        "replaceall" | "replace" | "replaceone" => {
            arity(name, args, 3..=3)?;
            call(StringFn::Replace { all: name != "replaceone" }, args.to_vec())?
        }
        "replaceregexpall" | "replaceregexpone" => {
            arity(name, args, 3..=3)?;
            let regex = Regex::new(&const_str(name, &args[1])?)?;
            let f = StringFn::ReplaceRegexp { all: name.ends_with("all"), regex, replacement: replacement(&const_str(name, &args[2])?) };
            call(f, vec![args[0].clone()])?
        }
        "splitbychar" | "splitbystring" => {
            arity(name, args, 2..=2)?;
            let separator = const_str(name, &args[0])?.into_bytes();
            if name == "splitbychar" && separator.len() != 1 {
                bail!(InvalidParameter, "the separator of splitByChar must be exactly one byte");
            }
            if separator.is_empty() {
                bail!(InvalidParameter, "the separator of splitByString must not be empty");
            }
            call(StringFn::Split { separator }, vec![args[1].clone()])?
        }
        "startswith" => {
            arity(name, args, 2..=2)?;
            call(StringFn::StartsWith, args.to_vec())?
        }
        "endswith" => {
            arity(name, args, 2..=2)?;
            call(StringFn::EndsWith, args.to_vec())?
        }
        "repeat" => {
            arity(name, args, 2..=2)?;
            call(StringFn::Repeat, args.to_vec())?
        }
        "like" => like(false, false)?,
        "notlike" => like(true, false)?,
        "ilike" => like(false, true)?,
        "notilike" => like(true, true)?,
        "totypename" => {
            arity(name, args, 1..=1)?;
            Expr::Literal { value: granary_storage::Value::String(args[0].ty().to_string()), ty: DataType::String }
        }
        "tostring" => {
            arity(name, args, 1..=1)?;
            args[0].clone().cast(DataType::String)?
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_ranges_follow_clickhouse() {
        assert_eq!(substring_range(5, -3, None), (2, 5));
        assert_eq!(substring_range(5, -3, Some(2)), (2, 4));
        assert_eq!(substring_range(5, 0, None), (0, 0));
        assert_eq!(substring_range(5, 10, None), (5, 5));
        assert_eq!(substring_range(5, 2, Some(-1)), (1, 4));
    }

    #[test]
    fn replacements() {
        let mut out = Vec::new();
        replace(b"aaa", b"a", b"bb", false, &mut out);
        assert_eq!(out, b"bbaa");
        assert_eq!(replacement(r"\3/\2/\1 $"), "${3}/${2}/${1} $$");
    }
}
