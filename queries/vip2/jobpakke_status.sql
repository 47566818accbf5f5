-- description: VIP2: how the job packages stand, per municipality, quarter, sex and view: at their end (`slut`, ended in the quarter), 3 and 6 months after (`3mdr`, `6mdr`, followed up in the quarter) and at the quarter's end (`nu`, all since the start, `i_forloeb` for those running); one row per status, zeros included
-- params:
-- tables: jobpakke_forloeb, jobpakke_cells, municipality_names, parameters, settings
-- period_key: period
-- columns: program utf8, municipality_code int32, municipality utf8, period utf8, sex utf8, view utf8, status utf8, count int64, denominator int64
-- order_by: municipality_code, period, sex, view, status
with sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
),
view_codes as (
    select v.column1 as view, c.value as status
    from (values ('slut'), ('3mdr'), ('6mdr'), ('nu')) v
    cross join (select value from parameters where name = 'status_codes') c
    union all
    select 'nu', 'i_forloeb'
),
long as (
    select municipality_code, period, sex, 'slut' as view, status_slut as status from jobpakke_forloeb where ended
    union all
    select municipality_code, period, sex, '3mdr', status_3mdr from jobpakke_forloeb where follow_3
    union all
    select municipality_code, period, sex, '6mdr', status_6mdr from jobpakke_forloeb where follow_6
    union all
    select municipality_code, period, sex, 'nu', status_nu from jobpakke_forloeb
),
counts as (
    select l.municipality_code, l.period, s.sex, l.view, l.status, count(*) as n
    from long l join sexes s on s.sex = 'alle' or s.sex = l.sex
    group by l.municipality_code, l.period, s.sex, l.view, l.status
),
denominators as (
    select l.municipality_code, l.period, s.sex, l.view, count(*) as n
    from long l join sexes s on s.sex = 'alle' or s.sex = l.sex
    group by l.municipality_code, l.period, s.sex, l.view
)
select st.program, c.municipality_code,
       coalesce(nm.municipality, cast(c.municipality_code as varchar)) as municipality,
       c.period, c.sex, vc.view, vc.status,
       coalesce(k.n, 0) as count, coalesce(d.n, 0) as denominator
from jobpakke_cells c
cross join view_codes vc
cross join settings st
left join counts k on k.municipality_code = c.municipality_code and k.period = c.period
                  and k.sex = c.sex and k.view = vc.view and k.status = vc.status
left join denominators d on d.municipality_code = c.municipality_code and d.period = c.period
                        and d.sex = c.sex and d.view = vc.view
left join municipality_names nm on nm.municipality_code = c.municipality_code
