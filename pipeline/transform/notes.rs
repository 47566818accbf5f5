//! What `transform` says about the comparison: why an expected level is missing, like
//! the "missing <metric>: …" lines for a source not landed.

use std::collections::BTreeSet;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;

use crate::query::QueryError;

/// Per metric and period: programme municipalities with a share but no expected level,
/// and why (no reference population at all, or a cell of theirs too thin).
const WHY_NO_EXPECTED: &str = "
select metric, period, count(*) as municipalities, max(coalesce(reference_persons, 0)) as reference_persons
from peer_comparison
where sex = 'alle' and share is not null and expected_share is null
  and metric in (select metric from comparison_expected_metrics)
group by metric, period
order by metric, period";

fn column(b: &RecordBatch, i: usize, ty: &DataType) -> Result<arrow::array::ArrayRef, QueryError> {
    cast(b.column(i), ty).map_err(|e| QueryError::Format {
        message: e.to_string(),
    })
}

/// The notes for the periods `covered` (all periods when `None`).
pub(super) async fn expected_notes(
    ctx: &SessionContext,
    covered: Option<&BTreeSet<String>>,
    min_reference_persons: i64,
    register: &str,
) -> Result<Vec<String>, QueryError> {
    let err = |e: datafusion::error::DataFusionError| QueryError::Sql {
        query: "transform: notes on the expected level".into(),
        message: e.to_string(),
    };
    // A programme without a comparison with similar municipalities has nothing to say.
    if !ctx.table_exist("peer_comparison").unwrap_or(false) {
        return Ok(Vec::new());
    }
    let batches = ctx
        .sql(WHY_NO_EXPECTED)
        .await
        .map_err(err)?
        .collect()
        .await
        .map_err(err)?;
    let mut notes = Vec::new();
    for b in &batches {
        let metric = column(b, 0, &DataType::Utf8)?;
        let period = column(b, 1, &DataType::Utf8)?;
        let n = column(b, 2, &DataType::Int64)?;
        let reference = column(b, 3, &DataType::Int64)?;
        let (metric, period) = (metric.as_string::<i32>(), period.as_string::<i32>());
        let (n, reference) = (
            n.as_primitive::<Int64Type>(),
            reference.as_primitive::<Int64Type>(),
        );
        for i in 0..b.num_rows() {
            let (m, p) = (metric.value(i), period.value(i));
            if covered.is_some_and(|c| !c.contains(p)) {
                continue;
            }
            let count = n.value(i);
            notes.push(if reference.is_null(i) || reference.value(i) == 0 {
                format!(
                    "{m} {p}: no expected level and no group value: the {register} extract holds no persons outside the programme (ask for the comparison municipalities in the pull)"
                )
            } else {
                format!(
                    "{m} {p}: no expected level for {count} municipalit{}: a cell of theirs has fewer than {min_reference_persons} reference persons (comparison.min_reference_persons)",
                    if count == 1 { "y" } else { "ies" }
                )
            });
        }
    }
    Ok(notes)
}
