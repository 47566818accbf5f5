-- description: VIP2's share metrics (../shared/spec/vip2.md §2) per municipality, quarter and sex: in work, in ordinary work and in education at the end, 3 and 6 months after; in work, in ordinary work and still running of all packages since the start; in work of the ended ones; new packages
-- params:
-- tables: jobpakke_forloeb, jobpakke_cells, municipality_names, parameters, settings
-- period_key: period
-- columns: program utf8, municipality_code int32, municipality utf8, metric utf8, period utf8, sex utf8, numerator int64 null, denominator int64 null, share float64 null
-- order_by: metric, municipality_code, period, sex
with sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
),
-- Which status codes count as what: the programme's parameters.
classes as (
    select case name when 'work_statuses' then 'arbejde'
                     when 'ordinary_statuses' then 'ordinaer'
                     else 'uddannelse' end as class,
           value as status
    from parameters
    where name in ('work_statuses', 'ordinary_statuses', 'education_statuses')
    union all
    select 'i_forloeb', 'i_forloeb'
),
-- Each metric: the packages of a view (its denominator) and the class of status (or
-- `ny`: a new package) its numerator counts.
metrics as (
    select column1 as metric, column2 as view, column3 as class from (values
        ('JP_slut_arbejde', 'slut', 'arbejde'), ('JP_slut_ordinaer', 'slut', 'ordinaer'),
        ('JP_slut_uddannelse', 'slut', 'uddannelse'),
        ('JP_3mdr_arbejde', '3mdr', 'arbejde'), ('JP_3mdr_ordinaer', '3mdr', 'ordinaer'),
        ('JP_3mdr_uddannelse', '3mdr', 'uddannelse'),
        ('JP_6mdr_arbejde', '6mdr', 'arbejde'), ('JP_6mdr_ordinaer', '6mdr', 'ordinaer'),
        ('JP_6mdr_uddannelse', '6mdr', 'uddannelse'),
        ('JP_alle_arbejde', 'alle', 'arbejde'), ('JP_alle_ordinaer', 'alle', 'ordinaer'),
        ('JP_alle_i_forloeb', 'alle', 'i_forloeb'), ('JP_alle_nye', 'alle', 'ny'),
        ('JP_afsluttede_arbejde', 'afsluttede', 'arbejde'))
),
long as (
    -- ENDED(q) with the status at the end; FOLLOW_3(q), FOLLOW_6(q) with the
    -- follow-up's; ALL(R) and ALL_ENDED(R) with the status at R (`uoplyst` stays in).
    select municipality_code, period, sex, pakketype, 'slut' as view, status_slut as status from jobpakke_forloeb where ended
    union all
    select municipality_code, period, sex, pakketype, '3mdr', status_3mdr from jobpakke_forloeb where follow_3
    union all
    select municipality_code, period, sex, pakketype, '6mdr', status_6mdr from jobpakke_forloeb where follow_6
    union all
    select municipality_code, period, sex, pakketype, 'alle', status_nu from jobpakke_forloeb
    union all
    select municipality_code, period, sex, pakketype, 'afsluttede', status_nu from jobpakke_forloeb where not running
),
denominators as (
    select l.municipality_code, l.period, s.sex, l.view, count(*) as n
    from long l join sexes s on s.sex = 'alle' or s.sex = l.sex
    group by l.municipality_code, l.period, s.sex, l.view
),
numerators as (
    select l.municipality_code, l.period, s.sex, m.metric, count(*) as n
    from long l
    join sexes s on s.sex = 'alle' or s.sex = l.sex
    join metrics m on m.view = l.view
    left join classes c on c.class = m.class and c.status = l.status
    where c.status is not null or (m.class = 'ny' and l.pakketype = 'ny')
    group by l.municipality_code, l.period, s.sex, m.metric
)
select st.program, c.municipality_code,
       coalesce(nm.municipality, cast(c.municipality_code as varchar)) as municipality,
       m.metric, c.period, c.sex,
       coalesce(k.n, 0) as numerator,
       coalesce(d.n, 0) as denominator,
       case when coalesce(d.n, 0) > 0
            then cast(coalesce(k.n, 0) as double) / cast(d.n as double) end as share
from jobpakke_cells c
cross join metrics m
cross join settings st
left join denominators d on d.municipality_code = c.municipality_code and d.period = c.period
                        and d.sex = c.sex and d.view = m.view
left join numerators k on k.municipality_code = c.municipality_code and k.period = c.period
                      and k.sex = c.sex and k.metric = m.metric
left join municipality_names nm on nm.municipality_code = c.municipality_code
