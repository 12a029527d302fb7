//! SQL LIKE patterns, compiled once per query and matched over raw bytes.
//!
//! `%` matches any run of bytes, `_` one UTF-8 character, `\` escapes the next character.
//! Common shapes (`abc`, `abc%`, `%abc`, `%abc%`) take fast paths.

/// A compiled LIKE pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct LikePattern {
    shape: Shape,
    case_insensitive: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Contains(Vec<u8>),
    General(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Byte(u8),
    AnyChar,
    AnyRun,
}

impl LikePattern {
    /// Compiles a pattern; `case_insensitive` gives ILIKE (ASCII case folding).
    pub fn new(pattern: &str, case_insensitive: bool) -> LikePattern {
        let bytes = if case_insensitive { pattern.to_ascii_lowercase().into_bytes() } else { pattern.as_bytes().to_vec() };
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if i + 1 < bytes.len() => {
                    tokens.push(Token::Byte(bytes[i + 1]));
                    i += 1;
                }
                b'%' => {
                    if tokens.last() != Some(&Token::AnyRun) {
                        tokens.push(Token::AnyRun)
                    }
                }
                b'_' => tokens.push(Token::AnyChar),
                b => tokens.push(Token::Byte(b)),
            }
            i += 1;
        }
        let literal = |t: &[Token]| -> Option<Vec<u8>> {
            t.iter().map(|x| if let Token::Byte(b) = x { Some(*b) } else { None }).collect()
        };
        let n = tokens.len();
        let shape = if let Some(lit) = literal(&tokens) {
            Shape::Exact(lit)
        } else if n >= 1 && tokens[n - 1] == Token::AnyRun && literal(&tokens[..n - 1]).is_some() {
            Shape::Prefix(literal(&tokens[..n - 1]).unwrap())
        } else if n >= 2 && tokens[0] == Token::AnyRun && tokens[n - 1] == Token::AnyRun && literal(&tokens[1..n - 1]).is_some() {
            Shape::Contains(literal(&tokens[1..n - 1]).unwrap())
        } else if n >= 1 && tokens[0] == Token::AnyRun && literal(&tokens[1..]).is_some() {
            Shape::Suffix(literal(&tokens[1..]).unwrap())
        } else {
            Shape::General(tokens)
        };
        LikePattern { shape, case_insensitive }
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &[u8]) -> bool {
        if self.case_insensitive {
            return self.matches_folded(&value.to_ascii_lowercase());
        }
        self.matches_folded(value)
    }

    fn matches_folded(&self, v: &[u8]) -> bool {
        match &self.shape {
            Shape::Exact(p) => v == p.as_slice(),
            Shape::Prefix(p) => v.starts_with(p),
            Shape::Suffix(p) => v.ends_with(p),
            Shape::Contains(p) => memchr::memmem::find(v, p).is_some(),
            Shape::General(tokens) => match_general(tokens, v),
        }
    }
}

/// Wildcard matching with backtracking to the last `%` (linear for most patterns).
fn match_general(tokens: &[Token], v: &[u8]) -> bool {
    let (mut t, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while s < v.len() {
        match tokens.get(t) {
            Some(Token::Byte(b)) if *b == v[s] => {
                t += 1;
                s += 1;
            }
            Some(Token::AnyChar) => {
                t += 1;
                s += utf8_len(v[s]);
            }
            Some(Token::AnyRun) => {
                star = Some((t, s));
                t += 1;
            }
            _ => match star {
                Some((st, ss)) => {
                    t = st + 1;
                    s = ss + utf8_len(v[ss]);
                    star = Some((st, s));
                }
                None => return false,
            },
        }
    }
    s == v.len() && tokens[t..].iter().all(|x| *x == Token::AnyRun)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::LikePattern;

    #[test]
    fn shapes_and_general_patterns() {
        let m = |p: &str, v: &str| LikePattern::new(p, false).matches(v.as_bytes());
        assert!(m("abc", "abc") && !m("abc", "abcd"));
        assert!(m("/a%", "/a/b") && !m("/a%", "/b"));
        assert!(m("%.html", "x.html") && m("%b%", "abc"));
        assert!(m("a_c", "abc") && m("a_c", "aéc") && !m("a_c", "ac"));
        assert!(m("a%b%c", "axxbyyc") && !m("a%b%c", "axxbyy"));
        assert!(m("100\\%", "100%") && !m("100\\%", "1000"));
        assert!(m("%", "") && !m("_", ""));
        assert!(LikePattern::new("AB%", true).matches(b"abc"));
    }
}
