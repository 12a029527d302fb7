//! Array functions: `arraySort` (ascending, by the element type's order; arrays of aggregate
//! results such as `groupUniqArray` are unordered until sorted).

use granary_storage::{array, Column, ColumnData, ColumnRef, DataType, StringData};

use super::{arity, call, Context};
use crate::error::{bail, Result};
use crate::expr::Expr;

/// An array function evaluated by this module.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayFn {
    /// `arraySort(arr)`.
    Sort,
}

impl ArrayFn {
    /// The ClickHouse name of the function.
    pub fn name(&self) -> &'static str {
        "arraySort"
    }

    /// The array's own type.
    pub fn result_type(&self, args: &[DataType]) -> Result<DataType> {
        match &args[0] {
            t @ DataType::Array(_) => Ok(t.clone()),
            t => bail!(DatatypeMismatch, "illegal type {t} of argument of function {}: it needs an array", self.name()),
        }
    }

    /// Sorts the elements of each row.
    pub fn eval(&self, args: &[ColumnRef], ty: &DataType) -> Result<Column> {
        let (ColumnData::Bytes(rows), Some(element)) = (&args[0].data, ty.element()) else { bail!(DatatypeMismatch, "arraySort needs an array") };
        let mut out = StringData::with_capacity(rows.len());
        let mut buf = Vec::new();
        for row in rows.iter() {
            let items = array::decode_row(element, row)?;
            let mut order: Vec<u32> = (0..items.len() as u32).collect();
            order.sort_by(|&a, &b| items.cmp_rows(a as usize, &items, b as usize));
            buf.clear();
            array::encode_row(&items.take(&order), &mut buf);
            out.push(&buf);
        }
        Ok(Column::new(ty.clone(), ColumnData::Bytes(out)))
    }
}

/// Binds an array function by name, or returns `None` if `name` is not one.
pub fn bind(name: &str, args: &[Expr], _ctx: &Context) -> Result<Option<Expr>> {
    Ok(Some(match name {
        "arraysort" => {
            arity(name, args, 1..=1)?;
            call(ArrayFn::Sort, args.to_vec())?
        }
        _ => return Ok(None),
    }))
}
