//! SQL text to statements: one dialect for ClickHouse DDL and functions and for the
//! Postgres SQL that clients send, plus a small parser of our own for ClickHouse table DDL.
//!
//! `GranaryDialect` behaves as sqlparser's ClickHouse dialect (it reports the same type id, so
//! the parser's ClickHouse-only branches apply) and is the one place to change tokenizing and
//! parsing rules. `CREATE TABLE` is parsed here with sqlparser's public parser calls, because no
//! built-in dialect accepts ClickHouse's clause order, `TTL`, `SETTINGS` or codecs.

use std::any::TypeId;

use sqlparser::ast;
use sqlparser::dialect::{ClickHouseDialect, Dialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::error::{bail, ErrorKind, QueryError, Result};

mod strictness;
mod with_alias;

pub use strictness::{join_strictness, StrictnessWord};

/// The SQL dialect Granary speaks: ClickHouse's, with Postgres spellings clients send.
#[derive(Debug, Default)]
pub struct GranaryDialect {
    base: ClickHouseDialect,
}

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret { self.base.$name($($arg),*) })*
    };
}

impl Dialect for GranaryDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<ClickHouseDialect>()
    }

    fn is_table_factor(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        self.base.is_table_factor(kw, parser)
    }

    forward! {
        is_identifier_start(ch: char) -> bool;
        is_identifier_part(ch: char) -> bool;
        supports_string_literal_column_alias(explicit: bool) -> bool;
        supports_string_literal_table_alias(explicit: bool) -> bool;
        identifier_quote_style(identifier: &str) -> Option<char>;
        supports_string_literal_backslash_escape() -> bool;
        supports_select_wildcard_except() -> bool;
        describe_requires_table_keyword() -> bool;
        supports_limit_comma() -> bool;
        supports_insert_table_function() -> bool;
        supports_insert_format() -> bool;
        supports_numeric_literal_underscores() -> bool;
        supports_partition_by_after_order_by() -> bool;
        supports_array_join_syntax() -> bool;
        supports_array_typedef_with_parentheses() -> bool;
        supports_map_typedef_with_parentheses() -> bool;
        supports_dictionary_syntax() -> bool;
        supports_in_unparenthesized_expr() -> bool;
        supports_global_in() -> bool;
        supports_lambda_functions() -> bool;
        supports_from_first_select() -> bool;
        supports_order_by_all() -> bool;
        supports_group_by_expr() -> bool;
        supports_group_by_with_modifier() -> bool;
        supports_nested_comments() -> bool;
        supports_optimize_table() -> bool;
        supports_prewhere() -> bool;
        supports_with_fill() -> bool;
        supports_limit_by() -> bool;
        supports_interpolate() -> bool;
        supports_settings() -> bool;
        supports_select_format() -> bool;
        supports_select_wildcard_replace() -> bool;
        supports_comma_separated_trim() -> bool;
        supports_alter_column_position() -> bool;
        supports_tuple_element_access() -> bool;
    }

    /// `INTERVAL '1 day'` (Postgres) as well as `INTERVAL 1 DAY`.
    fn require_interval_qualifier(&self) -> bool {
        false
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
}

/// A table name, optionally qualified by its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// `db` in `db.t`.
    pub database: Option<String>,
    /// The table.
    pub name: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.database {
            Some(db) => write!(f, "{db}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl TableName {
    fn from_object_name(name: &ast::ObjectName) -> Result<TableName> {
        let parts: Vec<String> = name.0.iter().map(|p| p.to_string().trim_matches(|c| c == '"' || c == '`').to_string()).collect();
        match parts.as_slice() {
            [t] => Ok(TableName { database: None, name: t.clone() }),
            [db, t] => Ok(TableName { database: Some(db.clone()), name: t.clone() }),
            _ => bail!(Syntax, "invalid table name {name}"),
        }
    }
}

/// A type as written in DDL, before resolution (`DateTime64(3)`, `Nullable(String)`).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeSpec {
    /// The type's name.
    pub name: String,
    /// Its parenthesized arguments.
    pub args: Vec<TypeArg>,
}

/// One argument of a type or codec.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeArg {
    /// A number: `3` in `DateTime64(3)`.
    Number(i64),
    /// A number with a fraction or an exponent: `0.9` in `AggregateFunction(quantile(0.9), T)`.
    Fraction(f64),
    /// A string: `'UTC'` in `DateTime('UTC')`.
    String(String),
    /// A nested type: `String` in `Nullable(String)`.
    Type(TypeSpec),
    /// A named nested type: `os String` in `Nested(os String)`.
    Named(String, TypeSpec),
    /// An enum member: `'click' = 2`.
    EnumMember(String, i64),
}

impl std::fmt::Display for TypeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if !self.args.is_empty() {
            let args: Vec<String> = self
                .args
                .iter()
                .map(|a| match a {
                    TypeArg::Number(n) => n.to_string(),
                    TypeArg::Fraction(x) => x.to_string(),
                    TypeArg::String(s) => format!("'{s}'"),
                    TypeArg::Type(t) => t.to_string(),
                    TypeArg::Named(n, t) => format!("{n} {t}"),
                    TypeArg::EnumMember(s, n) => format!("'{s}' = {n}"),
                })
                .collect();
            write!(f, "({})", args.join(", "))?;
        }
        Ok(())
    }
}

/// A column in `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Declared type.
    pub ty: TypeSpec,
    /// `CODEC(...)` entries, in order.
    pub codec: Vec<TypeSpec>,
    /// `DEFAULT expr`.
    pub default: Option<ast::Expr>,
    /// `TTL expr`: when the value resets to the column default.
    pub ttl: Option<ast::Expr>,
}

/// `CREATE TABLE` in ClickHouse form.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    /// The table.
    pub name: TableName,
    /// `IF NOT EXISTS` was given.
    pub if_not_exists: bool,
    /// The columns.
    pub columns: Vec<ColumnDef>,
    /// `ENGINE = Name(args)`.
    pub engine: Option<(String, Vec<ast::Expr>)>,
    /// `PARTITION BY` expressions (a tuple is flattened; none when unpartitioned).
    pub partition_by: Vec<ast::Expr>,
    /// `ORDER BY` expressions (a tuple is flattened).
    pub order_by: Vec<ast::Expr>,
    /// `PRIMARY KEY` expressions.
    pub primary_key: Vec<ast::Expr>,
    /// `TTL` expressions.
    pub ttl: Vec<ast::Expr>,
    /// `SETTINGS name = value`.
    pub settings: Vec<(String, ast::Expr)>,
    /// `INDEX name expr TYPE kind GRANULARITY k` declarations.
    pub indexes: Vec<IndexDef>,
}

impl CreateTable {
    /// A definition with these columns and indexes and no storage clauses yet.
    fn new(name: TableName, if_not_exists: bool, columns: Vec<ColumnDef>, indexes: Vec<IndexDef>) -> CreateTable {
        CreateTable {
            name,
            if_not_exists,
            columns,
            engine: None,
            partition_by: Vec::new(),
            order_by: Vec::new(),
            primary_key: Vec::new(),
            ttl: Vec::new(),
            settings: Vec::new(),
            indexes,
        }
    }
}

/// A data-skipping index declared in `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    /// Index name.
    pub name: String,
    /// The indexed expression.
    pub expr: ast::Expr,
    /// The type name (`minmax`, `set`, `bloom_filter`, …), as written.
    pub kind: String,
    /// The type's arguments (`set(100)`, `bloom_filter(0.01)`).
    pub args: Vec<ast::Expr>,
    /// `GRANULARITY k`: granules per index block (ClickHouse's default is 1).
    pub granularity: Option<ast::Expr>,
}

/// A partition as a statement names it: by value (`202601`, `('eu', 202601)`) or by the id
/// its part names carry (`PARTITION ID '202601'`).
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionRef {
    /// The partition expression's value.
    Value(Box<ast::Expr>),
    /// The partition id.
    Id(String),
}

/// `CREATE MATERIALIZED VIEW [IF NOT EXISTS] name [TO target] [ENGINE … ORDER BY …]
/// [POPULATE] AS SELECT …`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateMaterializedView {
    /// The view.
    pub name: TableName,
    /// `IF NOT EXISTS` was given.
    pub if_not_exists: bool,
    /// `TO target`: rows go to an existing table instead of one the view owns.
    pub to: Option<TableName>,
    /// The inner table's engine clauses (name and columns unused; columns come from the
    /// SELECT).
    pub storage: CreateTable,
    /// `POPULATE`: fill the view from the source's current rows.
    pub populate: bool,
    /// The SELECT run over every block inserted into its source.
    pub query: Box<ast::Query>,
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `CREATE TABLE`.
    CreateTable(Box<CreateTable>),
    /// `CREATE MATERIALIZED VIEW`.
    CreateMaterializedView(Box<CreateMaterializedView>),
    /// `CREATE [OR REPLACE] VIEW [IF NOT EXISTS] v AS SELECT …`: a named query.
    CreateView { name: TableName, if_not_exists: bool, or_replace: bool, query: Box<ast::Query> },
    /// `DROP VIEW [IF EXISTS] v`.
    DropView { name: TableName, if_exists: bool },
    /// `DROP TABLE [IF EXISTS] t`.
    DropTable { name: TableName, if_exists: bool },
    /// `INSERT INTO t [(cols)] VALUES ...`.
    Insert { table: TableName, columns: Vec<String>, rows: Vec<Vec<ast::Expr>> },
    /// `INSERT INTO t [(cols)] SELECT ...`.
    InsertSelect { table: TableName, columns: Vec<String>, query: Box<ast::Query> },
    /// A query.
    Query(Box<ast::Query>),
    /// `EXPLAIN query`.
    Explain(Box<ast::Query>),
    /// `SHOW TABLES`.
    ShowTables,
    /// `DESCRIBE [TABLE] t` (also `DESC`): the table's columns and their types.
    Describe { table: TableName },
    /// `OPTIMIZE TABLE t [PARTITION p] [FINAL]`: merge parts now (with FINAL, down to one per
    /// partition).
    Optimize { table: TableName, partition: Option<PartitionRef>, final_merge: bool },
    /// `ALTER TABLE t DROP PARTITION p`: remove a partition's parts in one commit.
    DropPartition { table: TableName, partition: PartitionRef },
    /// `CHECK TABLE t`: verify every part's checksums.
    CheckTable { table: TableName },
    /// `SYSTEM STOP MERGES [t]` / `SYSTEM START MERGES [t]`: pause or resume background merges.
    SystemMerges { table: Option<TableName>, stop: bool },
    /// `SET name = value` (also `SET name TO value`): a session setting.
    Set { name: String, value: Box<ast::Expr> },
    /// `SHOW name`: a session setting's value.
    ShowSetting { name: String },
    /// `RESET name` / `RESET ALL`.
    Reset { name: Option<String> },
    /// `COPY t [(cols)] FROM STDIN [WITH (…)]`: rows the client streams after the statement.
    CopyFrom { table: TableName, columns: Vec<String>, options: CopyOptions },
    /// `COPY (query) TO STDOUT [WITH (…)]` (or `COPY t [(cols)] TO STDOUT`): a result as text.
    CopyTo { query: Box<ast::Query>, options: CopyOptions },
    /// `CREATE USER [IF NOT EXISTS] name [IDENTIFIED BY 'pw' | [WITH] PASSWORD 'pw']`.
    CreateUser { name: String, password: Option<String>, if_not_exists: bool },
    /// `ALTER USER name IDENTIFIED BY 'pw'` (or `NOT IDENTIFIED`: no password).
    AlterUser { name: String, password: Option<String> },
    /// `DROP USER [IF EXISTS] name`.
    DropUser { name: String, if_exists: bool },
    /// Anything else sqlparser understands; the engine decides whether it supports it.
    Other(Box<ast::Statement>),
}

/// The layout of `COPY` data: Postgres's text or CSV format and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    /// CSV (quoted fields) rather than the text format (backslash escapes).
    pub csv: bool,
    /// The first line names the columns (skipped on input, written on output).
    pub header: bool,
    /// The field separator: tab for text, comma for CSV.
    pub delimiter: u8,
    /// The spelling of NULL: `\N` for text, an unquoted empty field for CSV.
    pub null: String,
    /// CSV's quote character.
    pub quote: u8,
    /// CSV's escape character inside quotes (the quote itself unless set).
    pub escape: u8,
}

impl CopyOptions {
    /// The defaults of a format: `csv` or Postgres's text format.
    pub fn new(csv: bool) -> CopyOptions {
        CopyOptions {
            csv,
            header: false,
            delimiter: if csv { b',' } else { b'\t' },
            null: if csv { String::new() } else { "\\N".to_string() },
            quote: b'"',
            escape: b'"',
        }
    }

    /// Reads both the `WITH (…)` options and the older bare ones (`CSV HEADER`, `DELIMITER ','`).
    fn from_ast(options: &[ast::CopyOption], legacy: &[ast::CopyLegacyOption]) -> Result<CopyOptions> {
        let format = options.iter().find_map(|o| match o {
            ast::CopyOption::Format(name) => Some(name.value.to_ascii_lowercase()),
            _ => None,
        });
        let legacy_csv = legacy.iter().any(|o| matches!(o, ast::CopyLegacyOption::Csv(_)));
        let csv = match format.as_deref() {
            Some("csv") => true,
            Some("text") => false,
            Some(other) => bail!(NotSupported, "COPY format {other} is not supported; use text or csv"),
            None => legacy_csv,
        };
        if legacy.iter().any(|o| matches!(o, ast::CopyLegacyOption::Binary)) {
            bail!(NotSupported, "COPY format binary is not supported; use text or csv");
        }
        let mut out = CopyOptions::new(csv);
        let mut escape = None;
        let byte = |c: char, what: &str| -> Result<u8> {
            if c.is_ascii() && c != '\r' && c != '\n' {
                Ok(c as u8)
            } else {
                bail!(InvalidParameter, "COPY {what} must be a single one-byte character other than a newline")
            }
        };
        for option in options {
            match option {
                ast::CopyOption::Format(_) | ast::CopyOption::Encoding(_) | ast::CopyOption::Freeze(_) => {}
                ast::CopyOption::Header(h) => out.header = *h,
                ast::CopyOption::Delimiter(c) => out.delimiter = byte(*c, "delimiter")?,
                ast::CopyOption::Null(n) => out.null = n.clone(),
                ast::CopyOption::Quote(c) => out.quote = byte(*c, "quote")?,
                ast::CopyOption::Escape(c) => escape = Some(byte(*c, "escape")?),
                other => bail!(NotSupported, "COPY option {other} is not supported"),
            }
        }
        for option in legacy {
            match option {
                ast::CopyLegacyOption::Csv(csv) => {
                    for o in csv {
                        match o {
                            ast::CopyLegacyCsvOption::Header => out.header = true,
                            ast::CopyLegacyCsvOption::Quote(c) => out.quote = byte(*c, "quote")?,
                            ast::CopyLegacyCsvOption::Escape(c) => escape = Some(byte(*c, "escape")?),
                            other => bail!(NotSupported, "COPY option {other} is not supported"),
                        }
                    }
                }
                ast::CopyLegacyOption::Header => out.header = true,
                ast::CopyLegacyOption::Delimiter(c) => out.delimiter = byte(*c, "delimiter")?,
                ast::CopyLegacyOption::Null(n) => out.null = n.clone(),
                other => bail!(NotSupported, "COPY option {other} is not supported"),
            }
        }
        out.escape = escape.unwrap_or(out.quote);
        if !csv && out.header {
            bail!(NotSupported, "COPY HEADER needs FORMAT csv");
        }
        if out.delimiter == out.quote && csv {
            bail!(InvalidParameter, "COPY delimiter and quote must be different");
        }
        Ok(out)
    }
}

impl Statement {
    /// The statement as the query log shows it when its text holds a password, which is
    /// never logged; `None` for every other statement (the original text is shown).
    pub fn redacted(&self) -> Option<String> {
        let identified = |password: &Option<String>| if password.is_some() { " IDENTIFIED BY '[HIDDEN]'" } else { "" };
        match self {
            Statement::CreateUser { name, password, if_not_exists } => {
                Some(format!("CREATE USER {}{name}{}", if *if_not_exists { "IF NOT EXISTS " } else { "" }, identified(password)))
            }
            Statement::AlterUser { name, password } => Some(format!("ALTER USER {name}{}", identified(password))),
            _ => None,
        }
    }
}

/// Bounds on a statement's text, checked before it is parsed, so that no input can make the
/// parser or the binder use unbounded memory or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Bytes of SQL text a script may have.
    pub max_query_size: usize,
    /// How deeply operators and parentheses may nest in one expression (a conservative
    /// count made on the tokens: each operator of a chain like `a + b + c` is one level).
    /// Deep expressions need stack: the server runs statements on threads of
    /// `exec::STATEMENT_STACK_SIZE`; an embedding program should too.
    pub max_expression_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_query_size: 16 << 20, max_expression_depth: 1000 }
    }
}

/// Parses a script of `;`-separated statements. Empty statements are skipped. A script of
/// queries that the ClickHouse dialect cannot read is read as Postgres: tools' catalog
/// queries use `E'…'` strings, `OPERATOR(pg_catalog.~)` and `ARRAY(SELECT …)`.
pub fn parse_script(sql: &str) -> Result<Vec<Statement>> {
    parse_script_with(sql, &ParseLimits::default())
}

/// `parse_script` within limits on the text's size and its expressions' depth.
pub fn parse_script_with(sql: &str, limits: &ParseLimits) -> Result<Vec<Statement>> {
    if sql.len() > limits.max_query_size {
        bail!(ProgramLimit, "query is {} bytes long, more than max_query_size ({} bytes)", sql.len(), limits.max_query_size);
    }
    parse_granary(sql, limits).or_else(|error| match Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, sql) {
        // `SELECT FROM t` (no columns) is Postgres only; Granary refuses it as ClickHouse does.
        Ok(statements)
            if error.kind == ErrorKind::Syntax
                && !statements.is_empty()
                && statements.iter().all(|s| matches!(s, ast::Statement::Query(_)) && !s.to_string().to_ascii_uppercase().starts_with("SELECT FROM")) =>
        {
            Ok(statements.into_iter().map(|s| match s {
                ast::Statement::Query(q) => Statement::Query(q),
                _ => unreachable!("only queries"),
            }).collect())
        }
        _ => Err(error),
    })
}

/// A script in Granary's (ClickHouse's) dialect.
fn parse_granary(sql: &str, limits: &ParseLimits) -> Result<Vec<Statement>> {
    let dialect = GranaryDialect::default();
    let mut tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, sql).tokenize_with_location().map_err(|e| QueryError::new(ErrorKind::Syntax, e.to_string()))?;
    check_depth(&tokens, limits.max_expression_depth)?;
    reorder_limit_by(&mut tokens);
    let join_words = strictness::take_words(&mut tokens);
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let mut out = Vec::new();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token().token == Token::EOF {
            return Ok(out);
        }
        let mut statement = parse_statement(&mut parser)?;
        match &mut statement {
            Statement::Query(query) | Statement::Explain(query) | Statement::CreateView { query, .. } | Statement::InsertSelect { query, .. } | Statement::CopyTo { query, .. } => {
                strictness::mark_joins(query.as_mut(), &join_words)?
            }
            Statement::CreateMaterializedView(view) => strictness::mark_joins(view.query.as_mut(), &join_words)?,
            _ => {}
        }
        out.push(statement);
        if !parser.consume_token(&Token::SemiColon) && parser.peek_token().token != Token::EOF {
            let found = parser.peek_token();
            bail!(Syntax, "syntax error: expected end of statement, found {found}");
        }
    }
}

/// Fails when an expression nests deeper than `max`. The parser builds a chain like
/// `a + b + c` without recursion but everything after it (binding, evaluation, even dropping
/// the tree) recurses once per operator, so the depth is bounded on the tokens, before any
/// tree exists: at each parenthesis level, the operators since the last comma or clause
/// keyword, summed over the open levels (each level one more), bound the depth from above.
fn check_depth(tokens: &[sqlparser::tokenizer::TokenWithSpan], max: usize) -> Result<()> {
    let mut levels: Vec<usize> = vec![0];
    let mut outer = 0; // operators in the open levels below the innermost
    for t in tokens {
        let nested = levels.len() > 1;
        let current = levels.last_mut().expect("the statement level");
        match &t.token {
            Token::LParen | Token::LBracket => {
                outer += *current + 1;
                levels.push(0);
            }
            Token::RParen | Token::RBracket if nested => {
                levels.pop();
                outer -= levels.last().expect("an enclosing level") + 1;
            }
            Token::Comma | Token::SemiColon => *current = 0,
            Token::Word(w) => match w.keyword {
                Keyword::AND | Keyword::OR | Keyword::NOT | Keyword::IS | Keyword::IN | Keyword::LIKE | Keyword::ILIKE | Keyword::BETWEEN | Keyword::DIV | Keyword::MOD | Keyword::XOR => *current += 1,
                // Words that end an expression; any other word (a name, a type) is an operand.
                Keyword::SELECT | Keyword::FROM | Keyword::WHERE | Keyword::BY | Keyword::HAVING | Keyword::LIMIT | Keyword::OFFSET | Keyword::ON
                | Keyword::USING | Keyword::UNION | Keyword::WHEN | Keyword::THEN | Keyword::ELSE | Keyword::END | Keyword::AS | Keyword::VALUES
                | Keyword::SETTINGS | Keyword::QUALIFY | Keyword::PREWHERE | Keyword::ASC | Keyword::DESC => *current = 0,
                _ => {}
            },
            Token::Whitespace(_) | Token::Number(..) | Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) | Token::Placeholder(_) | Token::Period | Token::EOF => {}
            _ => *current += 1,
        }
        if outer + levels.last().copied().unwrap_or(0) > max {
            bail!(ProgramLimit, "expression nests more than max_expression_depth ({max}) levels deep");
        }
    }
    Ok(())
}

/// ClickHouse's `… LIMIT n BY keys LIMIT m [OFFSET k]`: sqlparser leaves the second LIMIT
/// unread; it limits the whole result, so the query becomes `SELECT * FROM (query) LIMIT m
/// OFFSET k` (reading a subquery keeps its order).
fn limit_after_limit_by(p: &mut Parser, q: Box<ast::Query>) -> Result<Box<ast::Query>> {
    let by = matches!(&q.limit_clause, Some(ast::LimitClause::LimitOffset { limit_by, .. }) if !limit_by.is_empty());
    if !by || !p.parse_keyword(Keyword::LIMIT) {
        return Ok(q);
    }
    let limit = Some(p.parse_expr()?);
    let offset = if p.parse_keyword(Keyword::OFFSET) { Some(ast::Offset { value: p.parse_expr()?, rows: ast::OffsetRows::None }) } else { None };
    let mut outer = match Parser::new(&GranaryDialect::default()).try_with_sql("SELECT * FROM t")?.parse_query()? {
        outer if matches!(outer.body.as_ref(), ast::SetExpr::Select(_)) => outer,
        _ => bail!(Internal, "SELECT * FROM t is a select"),
    };
    if let ast::SetExpr::Select(select) = outer.body.as_mut() {
        select.from[0].relation = ast::TableFactor::Derived { lateral: false, subquery: q, alias: None, sample: None };
    }
    outer.limit_clause = Some(ast::LimitClause::LimitOffset { limit, offset, limit_by: Vec::new() });
    Ok(outer)
}

/// ClickHouse's `LIMIT n OFFSET m BY …` and `LIMIT m, n BY …` become `OFFSET m LIMIT n BY …`,
/// the one order of a per-key limit with an offset that sqlparser reads.
fn reorder_limit_by(tokens: &mut [sqlparser::tokenizer::TokenWithSpan]) {
    fn keyword(t: &Token, k: Keyword) -> bool {
        matches!(t, Token::Word(w) if w.keyword == k)
    }
    fn number(t: &Token) -> bool {
        matches!(t, Token::Number(..) | Token::Placeholder(_))
    }
    let words: Vec<usize> = (0..tokens.len()).filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_))).collect();
    for w in words.windows(5) {
        let [limit, a, sep, b, by] = [w[0], w[1], w[2], w[3], w[4]];
        let t = |i: usize| &tokens[i].token;
        if !(keyword(t(limit), Keyword::LIMIT) && number(t(a)) && number(t(b)) && keyword(t(by), Keyword::BY)) {
            continue;
        }
        if keyword(t(sep), Keyword::OFFSET) {
            // LIMIT a OFFSET b BY → OFFSET b LIMIT a BY
            tokens.swap(limit, sep);
            tokens.swap(a, b);
        } else if *t(sep) == Token::Comma {
            // LIMIT b , a BY → OFFSET b LIMIT a BY
            tokens[limit].token = Token::make_keyword("OFFSET");
            tokens[sep].token = Token::make_keyword("LIMIT");
        }
    }
}

/// The position of the next significant token (past whitespace and comments): rewinding to
/// it lands on that token, never on the one before (a `;` ending the previous statement).
fn mark(p: &mut Parser) -> usize {
    p.next_token();
    p.prev_token();
    p.index()
}

/// Steps back to a `mark`.
fn rewind(p: &mut Parser, mark: usize) {
    while p.index() > mark {
        p.prev_token();
    }
}

fn parse_statement(p: &mut Parser) -> Result<Statement> {
    if p.peek_keyword(Keyword::CREATE) {
        let start = mark(p);
        p.expect_keyword(Keyword::CREATE)?;
        if p.parse_keyword(Keyword::TABLE) {
            return Ok(Statement::CreateTable(Box::new(parse_create_table(p)?)));
        }
        if p.parse_keywords(&[Keyword::MATERIALIZED, Keyword::VIEW]) {
            return Ok(Statement::CreateMaterializedView(Box::new(parse_create_materialized_view(p)?)));
        }
        if p.parse_keyword(Keyword::USER) {
            let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
            let name = p.parse_identifier()?.value;
            return Ok(Statement::CreateUser { name, password: parse_password(p)?, if_not_exists });
        }
        rewind(p, start);
    }
    if p.peek_keyword(Keyword::DROP) {
        let start = mark(p);
        p.expect_keyword(Keyword::DROP)?;
        if p.parse_keyword(Keyword::USER) {
            let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            return Ok(Statement::DropUser { name: p.parse_identifier()?.value, if_exists });
        }
        rewind(p, start);
    }
    if p.parse_keywords(&[Keyword::SHOW, Keyword::TABLES]) {
        return Ok(Statement::ShowTables);
    }
    if peek_word(p, "CHECK") {
        p.next_token();
        p.expect_keyword(Keyword::TABLE)?;
        return Ok(Statement::CheckTable { table: TableName::from_object_name(&p.parse_object_name(false)?)? });
    }
    if parse_word(p, "SYSTEM") {
        let stop = if parse_word(p, "STOP") {
            true
        } else if parse_word(p, "START") {
            false
        } else {
            bail!(NotSupported, "SYSTEM supports STOP MERGES and START MERGES");
        };
        if !parse_word(p, "MERGES") {
            bail!(NotSupported, "SYSTEM supports STOP MERGES and START MERGES");
        }
        let table = match p.peek_token().token {
            Token::EOF | Token::SemiColon => None,
            _ => Some(TableName::from_object_name(&p.parse_object_name(false)?)?),
        };
        return Ok(Statement::SystemMerges { table, stop });
    }
    if p.peek_keyword(Keyword::ALTER) {
        let start = mark(p);
        p.expect_keyword(Keyword::ALTER)?;
        if p.parse_keyword(Keyword::USER) {
            let name = p.parse_identifier()?.value;
            return Ok(Statement::AlterUser { name, password: parse_password(p)? });
        }
        if p.parse_keyword(Keyword::TABLE) {
            let table = TableName::from_object_name(&p.parse_object_name(false)?)?;
            if p.parse_keywords(&[Keyword::DROP, Keyword::PARTITION]) {
                return Ok(Statement::DropPartition { table, partition: parse_partition_ref(p)? });
            }
        }
        rewind(p, start);
    }
    if let Some(query) = with_alias::parse_query(p)? {
        return Ok(Statement::Query(limit_after_limit_by(p, query)?));
    }
    let stmt = p.parse_statement()?;
    Ok(match stmt {
        ast::Statement::Query(q) => Statement::Query(limit_after_limit_by(p, q)?),
        ast::Statement::Explain { statement, .. } => match *statement {
            ast::Statement::Query(q) => Statement::Explain(q),
            other => bail!(NotSupported, "EXPLAIN supports queries only, not {other}"),
        },
        ast::Statement::Drop { object_type: ast::ObjectType::Table, if_exists, names, .. } => match names.as_slice() {
            [name] => Statement::DropTable { name: TableName::from_object_name(name)?, if_exists },
            _ => bail!(NotSupported, "DROP TABLE takes one table"),
        },
        ast::Statement::Drop { object_type: ast::ObjectType::View | ast::ObjectType::MaterializedView, if_exists, names, .. } => match names.as_slice() {
            [name] => Statement::DropView { name: TableName::from_object_name(name)?, if_exists },
            _ => bail!(NotSupported, "DROP VIEW takes one view"),
        },
        ast::Statement::Insert(insert) => parse_insert(insert)?,
        ast::Statement::CreateView(view) if !view.materialized => {
            if !view.columns.is_empty() {
                bail!(NotSupported, "column lists in CREATE VIEW are not supported; use aliases in the SELECT");
            }
            Statement::CreateView { name: TableName::from_object_name(&view.name)?, if_not_exists: view.if_not_exists, or_replace: view.or_replace, query: view.query }
        }
        ast::Statement::OptimizeTable { name, partition, include_final, deduplicate, .. } => {
            if deduplicate.is_some() {
                bail!(NotSupported, "OPTIMIZE … DEDUPLICATE is not supported yet");
            }
            let partition = match partition {
                None => None,
                Some(ast::Partition::Expr(e)) => Some(PartitionRef::Value(Box::new(e))),
                Some(ast::Partition::Identifier(id)) => Some(PartitionRef::Id(id.value)),
                Some(other) => bail!(NotSupported, "OPTIMIZE … {other} is not supported"),
            };
            Statement::Optimize { table: TableName::from_object_name(&name)?, partition, final_merge: include_final }
        }
        ast::Statement::Set(ast::Set::SingleAssignment { variable, values, .. }) if values.len() == 1 => {
            Statement::Set { name: variable.to_string().to_ascii_lowercase(), value: Box::new(values.into_iter().next().expect("one value")) }
        }
        ast::Statement::Set(ast::Set::SetTimeZone { value, .. }) => Statement::Set { name: "timezone".into(), value: Box::new(value) },
        ast::Statement::ShowVariable { variable } => Statement::ShowSetting { name: variable.iter().map(|i| i.value.as_str()).collect::<Vec<_>>().join(" ").to_ascii_lowercase() },
        ast::Statement::Reset(r) => Statement::Reset {
            name: match r.reset {
                ast::Reset::ConfigurationParameter(name) => Some(name.to_string().to_ascii_lowercase()),
                _ => None,
            },
        },
        ast::Statement::ExplainTable { table_name, .. } => Statement::Describe { table: TableName::from_object_name(&table_name)? },
        ast::Statement::Copy { source, to, target, options, legacy_options, payload } => parse_copy(source, to, target, &options, &legacy_options, payload)?,
        other => Statement::Other(Box::new(other)),
    })
}

/// `COPY … FROM STDIN` or `COPY … TO STDOUT`; files and programs are the server's disk and
/// shell, which clients never get.
fn parse_copy(
    source: ast::CopySource,
    to: bool,
    target: ast::CopyTarget,
    options: &[ast::CopyOption],
    legacy: &[ast::CopyLegacyOption],
    payload: Option<ast::CopyPayload>,
) -> Result<Statement> {
    let options = CopyOptions::from_ast(options, legacy)?;
    match (to, target) {
        (false, ast::CopyTarget::Stdin) => {
            if payload.is_some() {
                bail!(NotSupported, "COPY data inline in a script is not supported; send it as COPY data (psql \\copy)");
            }
            match source {
                ast::CopySource::Table { table_name, columns } => Ok(Statement::CopyFrom {
                    table: TableName::from_object_name(&table_name)?,
                    columns: columns.iter().map(|c| c.value.clone()).collect(),
                    options,
                }),
                ast::CopySource::Query(_) => bail!(Syntax, "COPY FROM needs a table, not a query"),
            }
        }
        (true, ast::CopyTarget::Stdout) => {
            let query = match source {
                ast::CopySource::Query(q) => q,
                ast::CopySource::Table { table_name, columns } => {
                    let list = if columns.is_empty() { "*".to_string() } else { columns.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ") };
                    Parser::new(&GranaryDialect::default()).try_with_sql(&format!("SELECT {list} FROM {table_name}"))?.parse_query()?
                }
            };
            Ok(Statement::CopyTo { query, options })
        }
        (_, target) => bail!(InsufficientPrivilege, "COPY {} {target} is not allowed: use STDIN/STDOUT (psql \\copy reads and writes client files)", if to { "TO" } else { "FROM" }),
    }
}

/// A user's password clause: ClickHouse's `IDENTIFIED [WITH method] BY 'pw'` and
/// `NOT IDENTIFIED`, or Postgres's `[WITH] PASSWORD 'pw'` / `PASSWORD NULL`; none at all
/// means no password.
fn parse_password(p: &mut Parser) -> Result<Option<String>> {
    if p.parse_keywords(&[Keyword::NOT, Keyword::IDENTIFIED]) {
        return Ok(None);
    }
    if p.parse_keyword(Keyword::IDENTIFIED) {
        if p.parse_keyword(Keyword::WITH) {
            let method = p.parse_identifier()?.value.to_ascii_lowercase();
            if !matches!(method.as_str(), "plaintext_password" | "sha256_password" | "scram_sha256_password" | "double_sha1_password") {
                bail!(NotSupported, "IDENTIFIED WITH {method} is not supported; passwords are kept as SCRAM-SHA-256 and MD5 secrets");
            }
        }
        p.expect_keyword(Keyword::BY)?;
        return Ok(Some(p.parse_literal_string()?));
    }
    let _with = p.parse_keyword(Keyword::WITH); // optional noise word
    if p.parse_keyword(Keyword::PASSWORD) {
        if p.parse_keyword(Keyword::NULL) {
            return Ok(None);
        }
        return Ok(Some(p.parse_literal_string()?));
    }
    match p.peek_token().token {
        Token::EOF | Token::SemiColon => Ok(None),
        other => bail!(Syntax, "expected IDENTIFIED BY 'password' or PASSWORD 'password', found {other}"),
    }
}

/// `ID 'id'` or a partition value expression.
fn parse_partition_ref(p: &mut Parser) -> Result<PartitionRef> {
    if p.parse_keyword(Keyword::ID) {
        return match p.next_token().token {
            Token::SingleQuotedString(id) => Ok(PartitionRef::Id(id)),
            other => bail!(Syntax, "PARTITION ID needs a quoted id, found {other}"),
        };
    }
    Ok(PartitionRef::Value(Box::new(p.parse_expr()?)))
}

fn parse_insert(insert: ast::Insert) -> Result<Statement> {
    let ast::TableObject::TableName(name) = &insert.table else {
        bail!(NotSupported, "INSERT into a table function is not supported");
    };
    let table = TableName::from_object_name(name)?;
    let columns = insert.columns.iter().map(|c| c.to_string().trim_matches(|ch| ch == '"' || ch == '`').to_string()).collect();
    let Some(source) = insert.source else {
        bail!(NotSupported, "INSERT needs VALUES");
    };
    match *source.body {
        ast::SetExpr::Values(values) => Ok(Statement::Insert { table, columns, rows: values.rows.into_iter().map(|r| r.content).collect() }),
        _ => Ok(Statement::InsertSelect { table, columns, query: source }),
    }
}

fn parse_create_table(p: &mut Parser) -> Result<CreateTable> {
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = TableName::from_object_name(&p.parse_object_name(false)?)?;
    p.expect_token(&Token::LParen)?;
    let mut columns = Vec::new();
    let mut indexes = Vec::new();
    loop {
        if p.parse_keyword(Keyword::INDEX) {
            indexes.push(parse_index_def(p)?);
        } else if p.peek_keyword(Keyword::PROJECTION) || p.peek_keyword(Keyword::CONSTRAINT) {
            bail!(NotSupported, "{} definitions in CREATE TABLE are not supported yet", p.peek_token());
        } else {
            columns.push(parse_column_def(p)?);
        }
        if !p.consume_token(&Token::Comma) {
            break;
        }
        if p.peek_token().token == Token::RParen {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    parse_storage_clauses(p, CreateTable::new(name, if_not_exists, columns, indexes))
}

fn parse_create_materialized_view(p: &mut Parser) -> Result<CreateMaterializedView> {
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = TableName::from_object_name(&p.parse_object_name(false)?)?;
    let to = if p.parse_keyword(Keyword::TO) { Some(TableName::from_object_name(&p.parse_object_name(false)?)?) } else { None };
    let storage = parse_storage_clauses(p, CreateTable::new(name.clone(), if_not_exists, Vec::new(), Vec::new()))?;
    let populate = parse_word(p, "POPULATE");
    p.expect_keyword(Keyword::AS)?;
    let query = p.parse_query()?;
    Ok(CreateMaterializedView { name, if_not_exists, to, storage, populate, query })
}

/// `ENGINE`, `PARTITION BY`, `ORDER BY`, `PRIMARY KEY`, `TTL`, `SETTINGS` and `COMMENT`, in
/// any order, as ClickHouse accepts them after a table's columns or a view's name.
fn parse_storage_clauses(p: &mut Parser, mut table: CreateTable) -> Result<CreateTable> {
    loop {
        if p.parse_keyword(Keyword::ENGINE) {
            let _ = p.consume_token(&Token::Eq);
            let engine = p.parse_identifier()?.value;
            let mut args = Vec::new();
            if p.consume_token(&Token::LParen) && !p.consume_token(&Token::RParen) {
                args = p.parse_comma_separated(Parser::parse_expr)?;
                p.expect_token(&Token::RParen)?;
            }
            table.engine = Some((engine, args));
        } else if p.parse_keywords(&[Keyword::PARTITION, Keyword::BY]) {
            table.partition_by = flatten_tuple(p.parse_expr()?);
        } else if p.parse_keywords(&[Keyword::ORDER, Keyword::BY]) {
            table.order_by = flatten_tuple(p.parse_expr()?);
        } else if p.parse_keywords(&[Keyword::PRIMARY, Keyword::KEY]) {
            table.primary_key = flatten_tuple(p.parse_expr()?);
        } else if parse_word(p, "TTL") {
            table.ttl = p.parse_comma_separated(Parser::parse_expr)?;
        } else if p.parse_keyword(Keyword::SETTINGS) {
            table.settings = p.parse_comma_separated(|p| {
                let name = p.parse_identifier()?.value;
                p.expect_token(&Token::Eq)?;
                Ok((name, p.parse_expr()?))
            })?;
        } else if p.parse_keyword(Keyword::COMMENT) {
            p.parse_literal_string()?;
        } else {
            return Ok(table);
        }
    }
}

/// Consumes the next token if it is the (non-keyword) word `word`, any case.
fn parse_word(p: &mut Parser, word: &str) -> bool {
    if peek_word(p, word) {
        p.next_token();
        true
    } else {
        false
    }
}

fn peek_word(p: &Parser, word: &str) -> bool {
    matches!(&p.peek_token().token, Token::Word(w) if w.value.eq_ignore_ascii_case(word))
}

/// `(a, b)` → `[a, b]`; `tuple()` → `[]`; anything else → `[expr]`.
fn flatten_tuple(expr: ast::Expr) -> Vec<ast::Expr> {
    match expr {
        ast::Expr::Tuple(items) => items,
        ast::Expr::Nested(inner) => vec![*inner],
        ast::Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("tuple") => match f.args {
            ast::FunctionArguments::List(list) => list
                .args
                .into_iter()
                .filter_map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
        other => vec![other],
    }
}

/// `name expr TYPE kind[(args)] [GRANULARITY k]`, after the `INDEX` keyword.
fn parse_index_def(p: &mut Parser) -> Result<IndexDef> {
    let name = p.parse_identifier()?.value;
    let expr = p.parse_expr()?;
    p.expect_keyword(Keyword::TYPE)?;
    let kind = p.parse_identifier()?.value;
    let mut args = Vec::new();
    if p.consume_token(&Token::LParen) && !p.consume_token(&Token::RParen) {
        args = p.parse_comma_separated(Parser::parse_expr)?;
        p.expect_token(&Token::RParen)?;
    }
    let granularity = if parse_word(p, "GRANULARITY") { Some(p.parse_expr()?) } else { None };
    Ok(IndexDef { name, expr, kind, args, granularity })
}

fn parse_column_def(p: &mut Parser) -> Result<ColumnDef> {
    let name = p.parse_identifier()?.value;
    let ty = parse_type_spec(p)?;
    let mut column = ColumnDef { name, ty, codec: Vec::new(), default: None, ttl: None };
    loop {
        if p.parse_keyword(Keyword::DEFAULT) {
            column.default = Some(p.parse_expr()?);
        } else if parse_word(p, "CODEC") {
            p.expect_token(&Token::LParen)?;
            column.codec = p.parse_comma_separated(|p| parse_type_spec(p).map_err(|e| ParserError::ParserError(e.message)))?;
            p.expect_token(&Token::RParen)?;
        } else if p.parse_keyword(Keyword::COMMENT) {
            p.parse_literal_string()?;
        } else if p.parse_keywords(&[Keyword::NOT, Keyword::NULL]) {
        } else if parse_word(p, "TTL") {
            column.ttl = Some(p.parse_expr()?);
        } else if p.peek_keyword(Keyword::MATERIALIZED) || p.peek_keyword(Keyword::ALIAS) {
            bail!(NotSupported, "column option {} is not supported yet", p.peek_token());
        } else {
            return Ok(column);
        }
    }
}

/// Parses a ClickHouse type: a name with optional arguments that may be numbers, strings,
/// enum members, nested types or named nested types.
pub fn parse_type_spec(p: &mut Parser) -> Result<TypeSpec> {
    let token = p.next_token();
    let name = match &token.token {
        Token::Word(w) => w.value.clone(),
        other => bail!(Syntax, "syntax error: expected a type name, found {other}"),
    };
    let mut args = Vec::new();
    if p.consume_token(&Token::LParen) {
        loop {
            let next = p.next_token();
            let arg = match next.token {
                Token::Number(n, _) => match n.parse() {
                    Ok(whole) => TypeArg::Number(whole),
                    Err(_) => TypeArg::Fraction(n.parse().map_err(|_| QueryError::new(ErrorKind::Syntax, format!("bad number {n} in type")))?),
                },
                Token::Minus => match p.next_token().token {
                    Token::Number(n, _) => TypeArg::Number(-n.parse::<i64>().map_err(|_| QueryError::new(ErrorKind::Syntax, "bad number in type"))?),
                    other => bail!(Syntax, "syntax error: expected a number, found {other}"),
                },
                Token::SingleQuotedString(s) => {
                    if p.consume_token(&Token::Eq) {
                        let neg = p.consume_token(&Token::Minus);
                        let n = p.parse_literal_uint()? as i64;
                        TypeArg::EnumMember(s, if neg { -n } else { n })
                    } else {
                        TypeArg::String(s)
                    }
                }
                Token::Word(w) => {
                    let named = matches!(p.peek_token().token, Token::Word(_));
                    if named {
                        TypeArg::Named(w.value, parse_type_spec(p)?)
                    } else {
                        p.prev_token();
                        TypeArg::Type(parse_type_spec(p)?)
                    }
                }
                other => bail!(Syntax, "syntax error: unexpected {other} in type arguments"),
            };
            args.push(arg);
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    }
    Ok(TypeSpec { name, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement that starts like one of ours but is sqlparser's (`DROP TABLE`, `CREATE
    /// VIEW`, `ALTER TABLE … ADD`) parses after a `;` and whitespace too.
    #[test]
    fn statements_we_peek_at_parse_after_a_semicolon() {
        let sql = "DROP TABLE IF EXISTS a; DROP TABLE IF EXISTS b;\n  CREATE VIEW v AS SELECT 1;\n-- note\nDROP VIEW v";
        let stmts = parse_script(sql).unwrap();
        assert!(matches!(stmts.as_slice(), [Statement::DropTable { .. }, Statement::DropTable { .. }, Statement::CreateView { .. }, Statement::DropView { .. }]), "{stmts:?}");
    }

    #[test]
    fn clickhouse_ddl_in_any_clause_order() {
        let sql = "CREATE TABLE IF NOT EXISTS db.hits (d Date, ts DateTime64(3) CODEC(ZSTD(3)), e Enum8('a' = 1, 'b' = -2), n Nested(x String, y UInt8))
                   ENGINE = MergeTree() ORDER BY (d, ts) PARTITION BY toYYYYMM(d) TTL d + INTERVAL 90 DAY SETTINGS index_granularity = 8192;
                   SELECT 1";
        let stmts = parse_script(sql).unwrap();
        assert_eq!(stmts.len(), 2);
        let Statement::CreateTable(t) = &stmts[0] else { panic!() };
        assert!(t.if_not_exists);
        assert_eq!(t.name.to_string(), "db.hits");
        assert_eq!(t.columns[1].ty.to_string(), "DateTime64(3)");
        assert_eq!(t.columns[1].codec[0].to_string(), "ZSTD(3)");
        assert_eq!(t.columns[2].ty.to_string(), "Enum8('a' = 1, 'b' = -2)");
        assert_eq!(t.columns[3].ty.to_string(), "Nested(x String, y UInt8)");
        assert_eq!(t.order_by.len(), 2);
        assert_eq!(t.partition_by[0].to_string(), "toYYYYMM(d)");
        assert_eq!(t.ttl.len(), 1);
        assert_eq!(t.settings[0].0, "index_granularity");
    }

    #[test]
    fn postgres_spellings_and_errors() {
        let stmts = parse_script("select \"x\"::text, $1 from t where a ilike 'q%';;").unwrap();
        assert!(matches!(stmts[0], Statement::Query(_)));
        assert_eq!(parse_script("SELEC 1").unwrap_err().kind, ErrorKind::Syntax);
        let user = |sql: &str| parse_script(sql).unwrap().pop().unwrap();
        assert_eq!(user("CREATE USER IF NOT EXISTS a IDENTIFIED WITH sha256_password BY 'p'"), Statement::CreateUser { name: "a".into(), password: Some("p".into()), if_not_exists: true });
        assert_eq!(user("create user b with password 'q'"), Statement::CreateUser { name: "b".into(), password: Some("q".into()), if_not_exists: false });
        assert_eq!(user("ALTER USER c NOT IDENTIFIED").redacted().unwrap(), "ALTER USER c");
        assert_eq!(user("DROP USER IF EXISTS d"), Statement::DropUser { name: "d".into(), if_exists: true });
        let limits = ParseLimits { max_query_size: 1000, max_expression_depth: 10 };
        assert!(parse_script_with(&format!("SELECT {}1", "1 + ".repeat(10)), &limits).is_ok());
        assert_eq!(parse_script_with(&format!("SELECT {}1", "1 + ".repeat(11)), &limits).unwrap_err().kind, ErrorKind::ProgramLimit);
        // Commas and clauses start a new expression; parentheses add to the enclosing one.
        assert!(parse_script_with(&format!("SELECT {} FROM t WHERE {}", ["a + b + c"; 20].join(", "), "x = 1 AND y = 2"), &limits).is_ok());
        assert!(parse_script_with(&format!("SELECT {}1{}", "(1 + ".repeat(6), ")".repeat(6)), &limits).is_err());
        assert_eq!(parse_script_with(&"x".repeat(1001), &limits).unwrap_err().kind, ErrorKind::ProgramLimit);
        assert!(parse_script("  ; -- nothing\n").unwrap().is_empty());
        let Statement::Insert { rows, columns, .. } = &parse_script("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')").unwrap()[0] else { panic!() };
        assert_eq!((rows.len(), columns.len()), (2, 2));
    }
}
