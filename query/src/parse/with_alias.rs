//! ClickHouse's `WITH <expression> AS <name>`: a named expression the whole query may use
//! (`WITH 10 AS n, (SELECT max(x) FROM t) AS m SELECT … WHERE x > n`), next to the
//! `WITH <name> AS (<query>)` CTEs in the same list.
//!
//! sqlparser reads only CTEs, so a WITH list that holds an expression is read here: its CTEs
//! with sqlparser's own `parse_cte`, its expressions with `parse_expr`. Each use of a name
//! (a bare identifier in an expression, in the query, its subqueries and its CTEs, or in a
//! later item of the list) is then replaced by the parenthesized expression, as ClickHouse
//! lets such a name win over a column of the same name. The query prints with the
//! expressions in place, so a view's stored text keeps its meaning.

use std::ops::ControlFlow;

use sqlparser::ast::{self, VisitMut, VisitorMut};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::{mark, rewind};
use crate::error::Result;

/// A query whose WITH list names at least one expression, read and with the names replaced;
/// `None` (and the parser where it was) for any other statement.
pub(super) fn parse_query(p: &mut Parser) -> Result<Option<Box<ast::Query>>> {
    let start = mark(p);
    if !p.parse_keyword(Keyword::WITH) || p.peek_keyword(Keyword::RECURSIVE) {
        rewind(p, start);
        return Ok(None);
    }
    let mut ctes = Vec::new();
    let mut names: Vec<(String, ast::Expr)> = Vec::new();
    loop {
        let item = mark(p);
        match p.parse_cte() {
            Ok(cte) => ctes.push(cte),
            Err(_) => {
                rewind(p, item);
                let Some((name, mut value)) = named_expression(p) else {
                    rewind(p, start);
                    return Ok(None);
                };
                substitute(&mut value, &names);
                names.push((name, value));
            }
        }
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    if names.is_empty() {
        rewind(p, start);
        return Ok(None);
    }
    let mut query = p.parse_query()?;
    if !ctes.is_empty() {
        query.with = Some(ast::With { with_token: ast::helpers::attached_token::AttachedToken::empty(), recursive: false, cte_tables: ctes });
    }
    substitute(query.as_mut(), &names);
    Ok(Some(query))
}

/// `<expression> AS <name>`, or `None` when the tokens are not that.
fn named_expression(p: &mut Parser) -> Option<(String, ast::Expr)> {
    let value = p.parse_expr().ok()?;
    p.parse_keyword(Keyword::AS).then_some(())?;
    let name = p.parse_identifier().ok()?;
    Some((name.value, value))
}

/// Replaces each bare identifier that `names` names (the latest one of a name wins).
fn substitute<T: VisitMut>(node: &mut T, names: &[(String, ast::Expr)]) {
    let _ = node.visit(&mut Substitute(names));
}

struct Substitute<'n>(&'n [(String, ast::Expr)]);

impl VisitorMut for Substitute<'_> {
    type Break = ();

    // After the children: the expression put in is not visited again.
    fn post_visit_expr(&mut self, e: &mut ast::Expr) -> ControlFlow<()> {
        if let ast::Expr::Identifier(id) = e {
            if let Some((_, value)) = self.0.iter().rev().find(|(name, _)| *name == id.value) {
                *e = ast::Expr::Nested(Box::new(value.clone()));
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    fn query(sql: &str) -> String {
        match &crate::parse::parse_script(sql).unwrap()[0] {
            crate::parse::Statement::Query(q) => q.to_string(),
            _ => panic!("a query"),
        }
    }

    #[test]
    fn names_become_their_expressions() {
        assert_eq!(query("WITH 10 AS n, n * 2 AS m SELECT x FROM t WHERE x > n AND x < m"), "SELECT x FROM t WHERE x > (10) AND x < ((10) * 2)");
        assert_eq!(query("WITH c AS (SELECT 1 AS x), 3 AS k SELECT x + k FROM c"), "WITH c AS (SELECT 1 AS x) SELECT x + (3) FROM c");
    }

    #[test]
    fn plain_ctes_are_left_to_sqlparser() {
        assert_eq!(query("WITH c AS (SELECT 1) SELECT * FROM c"), "WITH c AS (SELECT 1) SELECT * FROM c");
    }
}
