-- description: DuckDB's side of the M1 benchmark (docs/performance.md): the lake's
--   DREAM tables as views over the same Parquet files maaltal reads, then m1.sql.
-- placeholders: {lake} {m1} (the text of m1.sql)
create view dream_persons as
    select * from read_parquet('{lake}/raw/dream/persons/*/*.parquet', hive_partitioning = true);
create view dream_weeks as
    select * from read_parquet('{lake}/raw/dream/weeks/*/*.parquet', hive_partitioning = true);
{m1}
