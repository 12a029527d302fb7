//! ClickHouse's join strictness: `ANY`, `ALL` and `ASOF` before or after the join kind
//! (`ANY LEFT JOIN`, `LEFT ANY JOIN`), and `SEMI`/`ANTI` before it (`SEMI LEFT JOIN`).
//!
//! sqlparser reads `LEFT SEMI JOIN` and `LEFT ANTI JOIN` but has no place for `ANY` or for
//! ClickHouse's `ASOF` (its own `ASOF JOIN` wants Snowflake's `MATCH_CONDITION`). So the words
//! come off the token stream before parsing (`take_words`), and after parsing `mark_joins`
//! wraps the constraint of each join that had one in a call to `__join_strictness`:
//! `ON __join_strictness('ANY', 'ON', cond)`, `ON __join_strictness('ASOF', 'USING', k, t)`.
//! That form prints and parses back unchanged (a view's stored text keeps it), and
//! `join_strictness` takes it apart again for the binder.

use std::ops::ControlFlow;

use sqlparser::ast::{self, Spanned, VisitMut, VisitorMut};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Whitespace};

use crate::error::{bail, Result};

/// The function name that carries a join's strictness through the AST.
const MARKER: &str = "__join_strictness";

/// A strictness word sqlparser has no AST for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictnessWord {
    /// `ANY`: the first match only.
    Any,
    /// `ASOF`: the closest match by the inequality in ON.
    Asof,
}

impl StrictnessWord {
    fn text(self) -> &'static str {
        match self {
            StrictnessWord::Any => "ANY",
            StrictnessWord::Asof => "ASOF",
        }
    }
}

/// Each JOIN keyword of a script, in order, with the strictness word written with it.
pub(super) type JoinWords = Vec<(Location, Option<StrictnessWord>)>;

/// Removes `ANY`, `ALL` and `ASOF` from the words before each JOIN keyword and moves `SEMI` or
/// `ANTI` after `LEFT`/`RIGHT`, so that sqlparser reads the join; returns what it removed.
pub(super) fn take_words(tokens: &mut [TokenWithSpan]) -> JoinWords {
    let word = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    };
    let mut joins = Vec::new();
    for at in 0..tokens.len() {
        if word(&tokens[at].token) != Some(Keyword::JOIN) {
            continue;
        }
        // The words of the join's operator, nearest first.
        let before: Vec<usize> = (0..at)
            .rev()
            .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
            .take_while(|&i| {
                use Keyword as K;
                matches!(word(&tokens[i].token), Some(K::ANY | K::ALL | K::ASOF | K::SEMI | K::ANTI | K::INNER | K::LEFT | K::RIGHT | K::FULL | K::OUTER | K::GLOBAL))
            })
            .collect();
        let mut strictness = None;
        for &i in &before {
            let kw = word(&tokens[i].token);
            match kw {
                Some(Keyword::ANY | Keyword::ALL | Keyword::ASOF) => {
                    strictness = match kw {
                        Some(Keyword::ANY) => Some(StrictnessWord::Any),
                        Some(Keyword::ASOF) => Some(StrictnessWord::Asof),
                        _ => None,
                    };
                    tokens[i].token = Token::Whitespace(Whitespace::Space);
                }
                Some(Keyword::SEMI | Keyword::ANTI) => {
                    // `SEMI LEFT JOIN` → `LEFT SEMI JOIN`.
                    if let Some(&kind) = before.iter().find(|&&k| k > i && matches!(word(&tokens[k].token), Some(Keyword::LEFT | Keyword::RIGHT))) {
                        let (a, b) = (tokens[i].token.clone(), tokens[kind].token.clone());
                        (tokens[i].token, tokens[kind].token) = (b, a);
                    }
                }
                _ => {}
            }
        }
        joins.push((tokens[at].span.start, strictness));
    }
    joins
}

/// Writes the strictness `take_words` removed into the joins of a parsed statement.
pub(super) fn mark_joins<T: VisitMut>(node: &mut T, words: &JoinWords) -> Result<()> {
    if words.iter().all(|(_, w)| w.is_none()) {
        return Ok(());
    }
    let mut marker = Marker { words, used: vec![false; words.len()], error: None };
    let _ = node.visit(&mut marker);
    if let Some(error) = marker.error {
        return Err(error);
    }
    Ok(())
}

/// The join a query's strictness words belong to, found by position: a join's own JOIN
/// keyword is the last one before its table.
struct Marker<'w> {
    words: &'w JoinWords,
    used: Vec<bool>,
    error: Option<crate::error::QueryError>,
}

impl Marker<'_> {
    fn mark_select(&mut self, select: &mut ast::Select) -> Result<()> {
        for join in select.from.iter_mut().flat_map(|t| t.joins.iter_mut()) {
            let start = join.relation.span().start;
            let Some(i) = self.words.iter().rposition(|(at, _)| *at < start) else { continue };
            let Some(word) = self.words[i].1 else { continue };
            if std::mem::replace(&mut self.used[i], true) {
                continue;
            }
            join.join_operator = wrap(&join.join_operator, word)?;
        }
        Ok(())
    }

    fn mark_set(&mut self, body: &mut ast::SetExpr) -> Result<()> {
        match body {
            ast::SetExpr::Select(select) => self.mark_select(select),
            ast::SetExpr::SetOperation { left, right, .. } => {
                self.mark_set(left)?;
                self.mark_set(right)
            }
            _ => Ok(()),
        }
    }
}

impl VisitorMut for Marker<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut ast::Query) -> ControlFlow<()> {
        match self.mark_set(&mut query.body) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// The join operator with its constraint wrapped in the marker call.
fn wrap(op: &ast::JoinOperator, word: StrictnessWord) -> Result<ast::JoinOperator> {
    use ast::JoinOperator as J;
    let (make, constraint): (fn(ast::JoinConstraint) -> ast::JoinOperator, &ast::JoinConstraint) = match op {
        J::Join(c) => (J::Join, c),
        J::Inner(c) => (J::Inner, c),
        J::Left(c) => (J::Left, c),
        J::LeftOuter(c) => (J::LeftOuter, c),
        J::Right(c) => (J::Right, c),
        J::RightOuter(c) => (J::RightOuter, c),
        J::FullOuter(c) => (J::FullOuter, c),
        other => bail!(Syntax, "{} does not go with this join: {other:?}", word.text()),
    };
    let text = |s: &str| ast::Expr::value(ast::Value::SingleQuotedString(s.to_string()));
    let mut args = vec![text(word.text())];
    match constraint {
        ast::JoinConstraint::On(e) => args.extend([text("ON"), e.clone()]),
        ast::JoinConstraint::Using(names) => {
            args.push(text("USING"));
            args.extend(names.iter().map(|n| ast::Expr::CompoundIdentifier(n.0.iter().filter_map(|p| p.as_ident().cloned()).collect())));
        }
        _ => bail!(Syntax, "an {} join needs ON or USING", word.text()),
    }
    let call = ast::Function {
        name: ast::ObjectName::from(vec![ast::Ident::new(MARKER)]),
        uses_odbc_syntax: false,
        parameters: ast::FunctionArguments::None,
        args: ast::FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|e| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))).collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    };
    Ok(make(ast::JoinConstraint::On(ast::Expr::Function(call))))
}

/// A join constraint's strictness word and the constraint as written, or `None` and the
/// constraint itself when it carries none.
pub fn join_strictness(constraint: &ast::JoinConstraint) -> Result<(Option<StrictnessWord>, ast::JoinConstraint)> {
    let ast::JoinConstraint::On(ast::Expr::Function(f)) = constraint else { return Ok((None, constraint.clone())) };
    let ast::FunctionArguments::List(list) = &f.args else { return Ok((None, constraint.clone())) };
    if !f.name.to_string().eq_ignore_ascii_case(MARKER) {
        return Ok((None, constraint.clone()));
    }
    let args: Vec<&ast::Expr> = list
        .args
        .iter()
        .filter_map(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    let text = |e: &ast::Expr| match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let word = match args.first().and_then(|e| text(e)).as_deref() {
        Some("ANY") => StrictnessWord::Any,
        Some("ASOF") => StrictnessWord::Asof,
        _ => bail!(Syntax, "{MARKER} takes 'ANY' or 'ASOF' first"),
    };
    let constraint = match (args.get(1).and_then(|e| text(e)).as_deref(), &args[2.min(args.len())..]) {
        (Some("ON"), [on]) => ast::JoinConstraint::On((*on).clone()),
        (Some("USING"), names) if !names.is_empty() => ast::JoinConstraint::Using(
            names
                .iter()
                .map(|n| match n {
                    ast::Expr::Identifier(id) => Ok(ast::ObjectName::from(vec![id.clone()])),
                    ast::Expr::CompoundIdentifier(ids) => Ok(ast::ObjectName::from(ids.clone())),
                    other => bail!(Syntax, "USING takes column names, not {other}"),
                })
                .collect::<Result<_>>()?,
        ),
        _ => bail!(Syntax, "{MARKER} takes 'ON' and a condition or 'USING' and column names"),
    };
    Ok((Some(word), constraint))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per join of the first FROM: the operator's name, the strictness word and the constraint.
    fn joins(sql: &str) -> Vec<(String, Option<StrictnessWord>, String)> {
        let statements = crate::parse::parse_script(sql).unwrap();
        let crate::parse::Statement::Query(q) = &statements[0] else { panic!("a query") };
        let ast::SetExpr::Select(select) = q.body.as_ref() else { panic!("a select") };
        select.from[0]
            .joins
            .iter()
            .map(|j| {
                let name = format!("{:?}", j.join_operator).split('(').next().unwrap().to_string();
                let c = match &j.join_operator {
                    ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) | ast::JoinOperator::Left(c) | ast::JoinOperator::LeftSemi(c) => c,
                    other => panic!("{other:?}"),
                };
                let (word, c) = join_strictness(c).unwrap();
                let c = match c {
                    ast::JoinConstraint::On(e) => format!("ON {e}"),
                    ast::JoinConstraint::Using(names) => format!("USING {}", names.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")),
                    other => format!("{other:?}"),
                };
                (name, word, c)
            })
            .collect()
    }

    #[test]
    fn strictness_words_come_back_on_their_own_joins() {
        let got = joins("SELECT * FROM a ANY LEFT JOIN (SELECT * FROM x ASOF JOIN y ON x.k = y.k AND x.t >= y.t) AS b USING (k) JOIN c ON a.k = c.k LEFT ASOF JOIN d ON a.k = d.k AND a.t < d.t");
        let want = [
            ("Left", Some(StrictnessWord::Any), "USING k"),
            ("Join", None, "ON a.k = c.k"),
            ("Left", Some(StrictnessWord::Asof), "ON a.k = d.k AND a.t < d.t"),
        ];
        assert_eq!(got, want.map(|(n, w, c)| (n.to_string(), w, c.to_string())));
    }

    #[test]
    fn semi_before_the_kind_reads_as_left_semi() {
        assert_eq!(joins("SELECT * FROM a SEMI LEFT JOIN b ON a.k = b.k"), vec![("LeftSemi".to_string(), None, "ON a.k = b.k".to_string())]);
    }

    #[test]
    fn marked_joins_print_and_parse_back() {
        let q = crate::parse::parse_script("SELECT * FROM a ANY INNER JOIN b ON a.k = b.k").unwrap();
        let crate::parse::Statement::Query(q) = &q[0] else { panic!("a query") };
        let again = crate::parse::parse_script(&q.to_string()).unwrap();
        let crate::parse::Statement::Query(again) = &again[0] else { panic!("a query") };
        assert_eq!(q.to_string(), again.to_string());
        assert!(q.to_string().contains("__join_strictness('ANY', 'ON', a.k = b.k)"), "{q}");
    }
}
