//! What the SQL reads: the lake's tables, config as small tables, and the wide-weeks
//! register narrowed to the periods asked for.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::config::Config;
use crate::land::{self, ColumnSpec};
use crate::municipality::MUNICIPALITIES;
use crate::period::Period;
use crate::query::QueryError;

pub(super) fn register(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<(), QueryError> {
    let reg = |e: datafusion::error::DataFusionError| QueryError::Register {
        table: name.to_string(),
        message: e.to_string(),
    };
    let _ = ctx.deregister_table(name).map_err(reg)?;
    let table = MemTable::try_new(schema, vec![batches]).map_err(reg)?;
    ctx.register_table(name, Arc::new(table)).map_err(reg)?;
    Ok(())
}

pub(super) fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Registers the config as tables, and empty tables for raw tables not landed.
pub(super) fn register_inputs(
    ctx: &SessionContext,
    cfg: &Config,
) -> Result<Vec<String>, QueryError> {
    let fmt = |e: arrow::error::ArrowError| QueryError::Format {
        message: e.to_string(),
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "municipality_code",
        DataType::Int32,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int32Array::from(
            cfg.program.municipalities.clone(),
        ))],
    )
    .map_err(fmt)?;
    register(ctx, "program_municipalities", schema, vec![batch])?;

    let schema = Arc::new(Schema::new(vec![
        Field::new("municipality_code", DataType::Int32, false),
        Field::new("municipality", DataType::Utf8, false),
    ]));
    let codes: Vec<i32> = MUNICIPALITIES.iter().map(|(c, _)| *c).collect();
    let names: Vec<&str> = MUNICIPALITIES.iter().map(|(_, n)| *n).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int32Array::from(codes)), strings(&names)],
    )
    .map_err(fmt)?;
    register(ctx, "municipality_names", schema, vec![batch])?;

    // The `[metrics]` category settings as (setting, category) rows; which metric
    // counts which is the SQL's.
    let m = &cfg.metrics;
    let mut rows: Vec<(&str, &str)> = m
        .offer_labels
        .iter()
        .map(|l| ("offer_labels", l.as_str()))
        .collect();
    rows.push(("recipients_label", m.recipients_label.as_str()));
    rows.push(("jobparat_label", m.jobparat_label.as_str()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("setting", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        strings(&rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        strings(&rows.iter().map(|r| r.1).collect::<Vec<_>>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(fmt)?;
    register(ctx, "metric_categories", schema, vec![batch])?;

    let mart_period = |p: Period| {
        if p.is_quarter() {
            p.to_string()
        } else {
            p.jobindsats_code()
        }
    };
    // One row per metric and sex: the sex split of some metrics has a baseline of its
    // own (the catalogue's `sex_gap_baseline`).
    let rows: Vec<(&str, &str, String)> = m
        .baseline
        .iter()
        .flat_map(|(metric, p)| {
            ["alle", "M", "K"].into_iter().map(move |sex| {
                let own = m.info(metric).is_some_and(|i| i.sex_gap_baseline);
                let period = if sex != "alle" && own {
                    m.sex_gap_baseline
                } else {
                    *p
                };
                (metric.as_str(), sex, mart_period(period))
            })
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("metric", DataType::Utf8, false),
        Field::new("sex", DataType::Utf8, false),
        Field::new("baseline_period", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        strings(&rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        strings(&rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        strings(&rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(fmt)?;
    register(ctx, "metric_baselines", schema, vec![batch])?;

    let schema = Arc::new(Schema::new(vec![Field::new(
        "program",
        DataType::Utf8,
        false,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![strings(&[cfg.program.id.as_str()])])
        .map_err(fmt)?;
    register(ctx, "settings", schema, vec![batch])?;

    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ]));
    let params = &cfg.program.parameters;
    let cols: Vec<ArrayRef> = vec![
        strings(&params.iter().map(|r| r.0.as_str()).collect::<Vec<_>>()),
        strings(&params.iter().map(|r| r.1.as_str()).collect::<Vec<_>>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(fmt)?;
    register(ctx, "parameters", schema, vec![batch])?;

    register_comparison(ctx, cfg)?;

    let mut missing = Vec::new();
    for source in &cfg.sources.csv {
        for file in &source.files {
            let name = format!("{}_{}", source.name, file.name);
            let exists = ctx.table_exist(&name).map_err(|e| QueryError::Register {
                table: name.clone(),
                message: e.to_string(),
            })?;
            if !exists {
                // Registered empty with the columns landing would give it.
                let base = crate::parse::bundle::lake_schema(file);
                let mut fields: Vec<Field> =
                    base.fields().iter().map(|f| f.as_ref().clone()).collect();
                if !source.municipalities.is_empty() {
                    fields.push(Field::new("kommune", DataType::Int32, false));
                }
                let key = if source.span == crate::schedule::Span::Quarter {
                    "quarter"
                } else {
                    "month"
                };
                fields.push(Field::new(key, DataType::Utf8, false));
                register(ctx, &name, Arc::new(Schema::new(fields)), vec![])?;
                missing.push(name);
            }
        }
    }
    // The register's and the API's tables, by the names the config gives them.
    let mut raw: Vec<(String, &[ColumnSpec], &str)> = Vec::new();
    if let Some(w) = &cfg.sources.wide_weeks {
        let tables = crate::parse::wide_weeks::tables(&w.name);
        raw.push((
            tables[0].clone(),
            crate::parse::wide_weeks::PERSONS,
            "quarter",
        ));
        raw.push((
            tables[1].clone(),
            crate::parse::wide_weeks::WEEKS,
            "quarter",
        ));
    }
    if let Some(j) = &cfg.sources.jobindsats {
        for t in &j.tables {
            let key = if t.quarterly { "quarter" } else { "month" };
            raw.push((j.table(t), crate::parse::jobindsats::COLUMNS, key));
        }
    }
    for (name, cols, partition) in raw {
        let exists = ctx.table_exist(&name).map_err(|e| QueryError::Register {
            table: name.clone(),
            message: e.to_string(),
        })?;
        if !exists {
            let base = land::schema(cols);
            let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.push(Field::new(partition, DataType::Utf8, false));
            register(ctx, &name, Arc::new(Schema::new(fields)), vec![])?;
            missing.push(name);
        }
    }
    Ok(missing)
}

/// Registers `[comparison]` as tables: `comparison_groups` (group, label, municipality),
/// `comparison_expected_metrics`, and the bands of the expected level, `age_bands` and
/// `months_bands` (label, lower and upper bound as intervals, so the SQL compares dates
/// by the same rule as the population's `interval '18 years'`).
fn register_comparison(ctx: &SessionContext, cfg: &Config) -> Result<(), QueryError> {
    use arrow::array::{BooleanArray, IntervalMonthDayNanoArray};
    use arrow::datatypes::{IntervalMonthDayNano, IntervalUnit};
    let fmt = |e: arrow::error::ArrowError| QueryError::Format {
        message: e.to_string(),
    };
    let c = &cfg.comparison;
    let rows: Vec<(&str, &str, i32)> = c
        .groups
        .iter()
        .flat_map(|g| {
            g.municipalities
                .iter()
                .map(move |m| (g.id.as_str(), g.label.as_str(), *m))
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("comparison_group", DataType::Utf8, false),
        Field::new("group_label", DataType::Utf8, false),
        Field::new("municipality_code", DataType::Int32, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        strings(&rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        strings(&rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(fmt)?;
    register(ctx, "comparison_groups", schema, vec![batch])?;

    let schema = Arc::new(Schema::new(vec![Field::new(
        "metric",
        DataType::Utf8,
        false,
    )]));
    let metrics: Vec<&str> = c.expected_metrics.iter().map(String::as_str).collect();
    let batch = RecordBatch::try_new(schema.clone(), vec![strings(&metrics)]).map_err(fmt)?;
    register(ctx, "comparison_expected_metrics", schema, vec![batch])?;

    let interval = DataType::Interval(IntervalUnit::MonthDayNano);
    let schema = Arc::new(Schema::new(vec![
        Field::new("band", DataType::Utf8, false),
        Field::new("lower_bound", interval.clone(), false),
        Field::new("upper_bound", interval, false),
        Field::new("last", DataType::Boolean, false),
    ]));
    let months = |n: i64| IntervalMonthDayNano::new(i32::try_from(n).unwrap_or(i32::MAX), 0, 0);
    for (name, bands, unit) in [
        ("age_bands", c.age_band_bounds(), 12),
        ("months_bands", c.months_band_bounds(), 1),
    ] {
        let n = bands.len();
        let cols: Vec<ArrayRef> = vec![
            strings(&bands.iter().map(|b| b.0.as_str()).collect::<Vec<_>>()),
            Arc::new(IntervalMonthDayNanoArray::from(
                bands.iter().map(|b| months(b.1 * unit)).collect::<Vec<_>>(),
            )),
            Arc::new(IntervalMonthDayNanoArray::from(
                bands.iter().map(|b| months(b.2 * unit)).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                (0..n).map(|i| i + 1 == n).collect::<Vec<_>>(),
            )),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(fmt)?;
        register(ctx, name, schema.clone(), vec![batch])?;
    }
    Ok(())
}

/// Replaces the wide-weeks register's tables by views of the covered quarters only.
/// Rows of other quarters would be masked out after the query anyway; the filter on
/// the partition column means their files are never opened.
pub(super) async fn narrow_register(
    ctx: &SessionContext,
    cfg: &Config,
    keys: &BTreeSet<String>,
) -> Result<(), QueryError> {
    use datafusion::prelude::{col, lit};
    let quarters: Vec<datafusion::prelude::Expr> = keys
        .iter()
        .filter(|k| k.contains('Q'))
        .map(|k| lit(k.as_str()))
        .collect();
    let Some(w) = &cfg.sources.wide_weeks else {
        return Ok(());
    };
    for table in crate::parse::wide_weeks::tables(&w.name) {
        let table = table.as_str();
        let err = |e: datafusion::error::DataFusionError| QueryError::Register {
            table: table.to_string(),
            message: e.to_string(),
        };
        if !ctx.table_exist(table).map_err(err)? {
            continue;
        }
        let predicate = if quarters.is_empty() {
            lit(false)
        } else {
            col("quarter").in_list(quarters.clone(), false)
        };
        let view = ctx
            .table(table)
            .await
            .map_err(err)?
            .filter(predicate)
            .map_err(err)?;
        ctx.deregister_table(table).map_err(err)?;
        ctx.register_table(table, view.into_view()).map_err(err)?;
    }
    Ok(())
}
