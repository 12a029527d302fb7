//! Binding window functions: `f(args) OVER (PARTITION BY … ORDER BY … frame)` in the SELECT
//! list and ORDER BY.
//!
//! Each call becomes a `WindowCall` of the plan, computed over the rows that reach the
//! projection (the aggregate's output in a grouping query), and the expression that used it
//! reads the call's value as a column after those rows' columns. While binding, that column
//! is a placeholder index (`WINDOW_BASE + i`); `place_windows` moves it once the input's
//! width is known.

use std::ops::ControlFlow;

use super::*;
use crate::plan::{Frame, FrameBound, WindowCall, WindowFunc};

/// Placeholder column indexes of window values start here while a SELECT binds.
pub(super) const WINDOW_BASE: usize = usize::MAX / 2;

/// The window calls of a SELECT being bound, and its named windows (`WINDOW w AS (…)`).
pub(super) struct Windows {
    named: Vec<(String, ast::WindowSpec)>,
    calls: Vec<WindowCall>,
}

impl Windows {
    /// No calls yet; `named` is the SELECT's WINDOW clause.
    pub(super) fn new(named: &[ast::NamedWindowDefinition]) -> Windows {
        let named = named
            .iter()
            .filter_map(|ast::NamedWindowDefinition(name, expr)| match expr {
                ast::NamedWindowExpr::WindowSpec(spec) => Some((name.value.clone(), spec.clone())),
                ast::NamedWindowExpr::NamedWindow(_) => None,
            })
            .collect();
        Windows { named, calls: Vec::new() }
    }

    /// The calls, in placeholder order.
    pub(super) fn into_calls(self) -> Vec<WindowCall> {
        self.calls
    }

    fn spec<'w>(&'w self, over: &'w ast::WindowType) -> Result<&'w ast::WindowSpec> {
        let spec = match over {
            ast::WindowType::WindowSpec(spec) => spec,
            ast::WindowType::NamedWindow(name) => match self.named.iter().find(|(n, _)| *n == name.value) {
                Some((_, spec)) => spec,
                None => bail!(Syntax, "window {name} is not defined"),
            },
        };
        if spec.window_name.is_some() {
            bail!(NotSupported, "a window that extends a named window is not supported yet");
        }
        Ok(spec)
    }
}

/// The expressions a window call reads: its arguments, PARTITION BY and ORDER BY.
pub(super) fn window_exprs(f: &ast::Function) -> impl Iterator<Item = &ast::Expr> {
    let args: Vec<&ast::Expr> = match &f.args {
        ast::FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let (partition, order): (Vec<&ast::Expr>, Vec<&ast::Expr>) = match &f.over {
        Some(ast::WindowType::WindowSpec(spec)) => (spec.partition_by.iter().collect(), spec.order_by.iter().map(|o| &o.expr).collect()),
        _ => (Vec::new(), Vec::new()),
    };
    args.into_iter().chain(partition).chain(order)
}

/// True when the expression calls a window function.
pub(super) fn contains_window(e: &ast::Expr) -> bool {
    ast::visit_expressions(e, |x: &ast::Expr| match x {
        ast::Expr::Function(f) if f.over.is_some() => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// Moves window placeholders in the plan's post-window expressions to follow the input
/// columns: the aggregate's outputs in a grouping query, else the `scan_width` scanned ones.
pub(super) fn place_windows(plan: &mut SelectPlan, scan_width: usize) {
    let base = plan.aggregate.as_ref().map_or(scan_width, AggregatePlan::width);
    let place = |i: usize| i.checked_sub(WINDOW_BASE).map_or(i, |w| base + w);
    let exprs = plan
        .outputs
        .iter_mut()
        .chain(plan.sort.iter_mut().map(|s| &mut s.expr))
        .chain(plan.limit_by.iter_mut().flat_map(|l| l.keys.iter_mut()))
        .chain(plan.qualify.iter_mut());
    for e in exprs {
        e.remap_columns(&place);
    }
}

/// A constant non-negative integer argument of a window function.
fn constant_count(binder: &Binder, e: &ast::Expr, what: &str) -> Result<u64> {
    match binder.bind_constant(e)? {
        Value::UInt(n) => Ok(n),
        Value::Int(n) if n >= 0 => Ok(n as u64),
        other => bail!(InvalidParameter, "{what} must be a non-negative integer constant, got {other:?}"),
    }
}

impl Binder<'_> {
    /// A window function call: bound over the projection's input, its value a placeholder.
    pub(super) fn bind_window(&self, f: &ast::Function, scope: &mut Scope) -> Result<Expr> {
        let name = f.name.to_string();
        let Some(windows) = scope.windows.take() else {
            bail!(Grouping, "window function {name} is not allowed here");
        };
        let call = self.window_call(f, &name, &windows, scope);
        scope.windows = Some(windows);
        let call = call?;
        let windows = scope.windows.as_mut().expect("windows");
        let ty = call.ty.clone();
        let index = match windows.calls.iter().position(|c| *c == call) {
            Some(i) => i,
            None => {
                windows.calls.push(call);
                windows.calls.len() - 1
            }
        };
        Ok(Expr::Column { index: WINDOW_BASE + index, ty })
    }

    fn window_call(&self, f: &ast::Function, name: &str, windows: &Windows, scope: &mut Scope) -> Result<WindowCall> {
        let spec = windows.spec(f.over.as_ref().expect("a window call"))?;
        let (args, distinct) = function_args(&f.args)?;
        let mut bound = args.iter().map(|a| self.bind_expr(a, scope)).collect::<Result<Vec<_>>>()?;
        let partition = spec.partition_by.iter().map(|e| self.bind_expr(e, scope)).collect::<Result<Vec<_>>>()?;
        let mut order = Vec::new();
        for o in &spec.order_by {
            let desc = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
            order.push(SortKey { expr: self.bind_expr(&o.expr, scope)?, desc, nulls_first: o.options.nulls_first.unwrap_or(false) });
        }
        let frame = frame(spec.window_frame.as_ref(), !order.is_empty(), self)?;
        let offset = |b: FrameBound| matches!(b, FrameBound::Preceding(n) | FrameBound::Following(n) if n > 0);
        if !frame.rows && (offset(frame.start) || offset(frame.end)) {
            match order.as_slice() {
                [key] if key.expr.ty().non_null().is_numeric() || key.expr.ty().non_null().is_temporal() => {}
                _ => bail!(Syntax, "a RANGE frame with an offset needs exactly one numeric or date ORDER BY key"),
            }
        }
        let lower = name.to_ascii_lowercase();
        let arity = |lo: usize, hi: usize| -> Result<()> {
            if bound.len() < lo || bound.len() > hi {
                bail!(UndefinedFunction, "window function {name} takes {lo} to {hi} arguments, got {}", bound.len());
            }
            Ok(())
        };
        let first_type = |bound: &[Expr]| bound.first().map(Expr::ty).unwrap_or(DataType::UInt8);
        let (func, ty) = match lower.as_str() {
            "row_number" | "rank" | "dense_rank" => {
                arity(0, 0)?;
                let func = match lower.as_str() {
                    "row_number" => WindowFunc::RowNumber,
                    "rank" => WindowFunc::Rank,
                    _ => WindowFunc::DenseRank,
                };
                (func, DataType::UInt64)
            }
            "percent_rank" | "cume_dist" => {
                arity(0, 0)?;
                (if lower == "percent_rank" { WindowFunc::PercentRank } else { WindowFunc::CumeDist }, DataType::Float64)
            }
            "ntile" => {
                arity(1, 1)?;
                if order.is_empty() {
                    bail!(Syntax, "ntile needs an ORDER BY in its window");
                }
                if constant_count(self, &args[0], "the argument of ntile")? == 0 {
                    bail!(InvalidParameter, "the argument of ntile must be positive");
                }
                (WindowFunc::Ntile, DataType::UInt64)
            }
            "lag" | "lead" | "laginframe" | "leadinframe" => {
                arity(1, 3)?;
                if let Some(offset) = args.get(1) {
                    constant_count(self, offset, "the offset of lag and lead")?;
                }
                let ty = first_type(&bound);
                if bound.len() == 3 {
                    bound[2] = bound[2].clone().cast(ty.clone())?;
                }
                let in_frame = lower.ends_with("inframe");
                if !in_frame && spec.window_frame.is_some() {
                    bail!(Syntax, "{name} looks at the whole partition and takes no frame; use {name}InFrame");
                }
                (if lower.starts_with("lag") { WindowFunc::Lag { in_frame } } else { WindowFunc::Lead { in_frame } }, ty)
            }
            "first_value" | "last_value" | "any" | "anylast" => {
                arity(1, 1)?;
                // As in ClickHouse, NULLs are skipped unless the call says RESPECT NULLS.
                let ignore_nulls = !matches!(f.null_treatment, Some(ast::NullTreatment::RespectNulls));
                let func = if matches!(lower.as_str(), "first_value" | "any") { WindowFunc::FirstValue { ignore_nulls } } else { WindowFunc::LastValue { ignore_nulls } };
                (func, first_type(&bound))
            }
            "nth_value" => {
                arity(2, 2)?;
                if constant_count(self, &args[1], "the position of nth_value")? == 0 {
                    bail!(InvalidParameter, "the position of nth_value must be positive");
                }
                (WindowFunc::NthValue, first_type(&bound))
            }
            _ => {
                let Some((agg, mode)) = AggMode::parse(&lower) else {
                    bail!(UndefinedFunction, "window function {name} does not exist");
                };
                let filter = f.filter.as_ref().map(|c| self.bind_condition(c, scope, "FILTER")).transpose()?;
                let call = self.aggregate_call(f, agg, mode, std::mem::take(&mut bound), distinct, filter)?;
                bound = call.args;
                (WindowFunc::Aggregate { func: call.func, mode: call.mode }, call.ty)
            }
        };
        // Constant arguments (offsets, positions, ntile's n) are read when computing.
        Ok(WindowCall { func, args: bound, partition, order, frame, ty })
    }
}

/// The frame of a window: as written, else the whole partition without ORDER BY and the
/// rows up to the current row's last peer with it.
fn frame(frame: Option<&ast::WindowFrame>, ordered: bool, binder: &Binder) -> Result<Frame> {
    let Some(frame) = frame else {
        let end = if ordered { FrameBound::CurrentRow } else { FrameBound::UnboundedFollowing };
        return Ok(Frame { rows: false, start: FrameBound::UnboundedPreceding, end });
    };
    let rows = match frame.units {
        ast::WindowFrameUnits::Rows => true,
        ast::WindowFrameUnits::Range => false,
        ast::WindowFrameUnits::Groups => bail!(NotSupported, "GROUPS frames are not supported yet"),
    };
    let bound = |b: &ast::WindowFrameBound| -> Result<FrameBound> {
        Ok(match b {
            ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
            ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
            ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
            ast::WindowFrameBound::Preceding(Some(n)) | ast::WindowFrameBound::Following(Some(n)) => {
                let n = constant_count(binder, n, "a frame offset")?;
                match b {
                    ast::WindowFrameBound::Preceding(_) => FrameBound::Preceding(n),
                    _ => FrameBound::Following(n),
                }
            }
        })
    };
    let start = bound(&frame.start_bound)?;
    let end = frame.end_bound.as_ref().map(bound).transpose()?.unwrap_or(FrameBound::CurrentRow);
    if start == FrameBound::UnboundedFollowing || end == FrameBound::UnboundedPreceding {
        bail!(Syntax, "a frame cannot start at UNBOUNDED FOLLOWING or end at UNBOUNDED PRECEDING");
    }
    Ok(Frame { rows, start, end })
}
