use super::*;

#[tokio::test]
async fn sql_errors_name_file_line_and_column() {
    let ctx = SessionContext::new();
    let sql = "-- description: x\n-- params:\nselect 1,\n       2 3\nfrom t";
    let err = run_file(&ctx, "queries/broken.sql", sql, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("queries/broken.sql:4:10: "), "{err}");
    let sql = "-- description: x\nselect a,\n       nope\nfrom (select 1 as a) t";
    let err = run_file(&ctx, "queries/unknown.sql", sql, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("queries/unknown.sql:3:8: "), "{err}");
    let sql = "select 1 from missing_table";
    let err = run_file(&ctx, "queries/t.sql", sql, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("queries/t.sql:1:15: "), "{err}");
}

#[tokio::test]
async fn a_declared_parameter_without_a_value_is_an_error() {
    let ctx = SessionContext::new();
    let sql = "-- params: limit_rows int64\nselect 1 where 1 < $limit_rows";
    let err = run_file(&ctx, "queries/p.sql", sql, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("parameter `$limit_rows` has no value"),
        "{err}"
    );
    let ok = run_file(
        &ctx,
        "queries/p.sql",
        sql,
        &[("limit_rows", ScalarValue::Int64(Some(5)))],
    )
    .await
    .unwrap();
    assert_eq!(ok.0[0].num_rows(), 1);
    assert_eq!(ok.1, Spilled::default(), "nothing spills without a limit");
}

#[test]
fn a_quarter_covers_its_months_for_m2() {
    let c = covered_periods("2018Q4".parse().unwrap());
    assert_eq!(
        c.into_iter().collect::<Vec<_>>(),
        ["2018M10", "2018M11", "2018M12", "2018Q4"]
    );
}
