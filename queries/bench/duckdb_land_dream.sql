-- description: DuckDB's side of the landing benchmark (docs/performance.md): the work
--   `maaltal ingest dream` does, written the way a DuckDB user would. Read the CSV
--   (typed: a bad value fails the cast), pseudonymise the CPR (sha256 of key and CPR:
--   DuckDB has no HMAC, and one hash is less work than HMAC's two), unpivot the
--   quarter's week columns, classify the codes, write both tables as zstd Parquet.
-- placeholders: {csv} {codes} {weeks} (the quarter's weeks as values) {columns} (their
--   column names) {key} {out}
create temp table codes as
    select code, class
    from read_csv('{codes}', delim = ';', header = false, comment = '#', all_varchar = true,
                  names = ['code', 'class', 'description']);
create temp table quarter_weeks(col varchar, week varchar, week_start date);
insert into quarter_weeks values {weeks};
create temp table src as
    select row_number() over () + 1 as source_line, *
    from read_csv('{csv}', delim = ';', header = true, all_varchar = true);
copy (
    select sha256('{key}' || cpr) as person_id,
           koen,
           cast(foedselsdato as date) as foedselsdato,
           cast(herkomst as int) as herkomst,
           cast(kommune as int) as kommune,
           cast(integrationsprogram as int) = 1 as integrationsprogram,
           cast(foerste_integrationsydelse as date) as foerste_integrationsydelse,
           source_line
    from src
) to '{out}/persons.parquet' (format parquet, compression zstd);
copy (
    select sha256('{key}' || u.cpr) as person_id, w.week, w.week_start, u.code, c.class
    from (select cpr, col, code from src unpivot include nulls (code for col in ({columns}))) u
    join quarter_weeks w on w.col = u.col
    left join codes c on c.code = u.code
) to '{out}/weeks.parquet' (format parquet, compression zstd);
