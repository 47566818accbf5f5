-- description: VIP2: job packages per municipality, quarter and sex: started, ended (and of those dropped out), running at the quarter's end, all since the programme's start, and the persons they are for
-- params:
-- tables: jobpakke_forloeb, jobpakke_cells, municipality_names, settings
-- period_key: period
-- columns: program utf8, municipality_code int32, municipality utf8, period utf8, sex utf8, startede int64, afsluttede int64, afbrudte int64, i_gang int64, i_alt int64, borgere_i_alt int64
-- order_by: municipality_code, period, sex
with sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
),
counts as (
    select f.municipality_code, f.period, s.sex,
           count(*) filter (where f.started) as startede,
           count(*) filter (where f.ended) as afsluttede,
           count(*) filter (where f.ended and f.afslutning = 'afbrudt') as afbrudte,
           count(*) filter (where f.running) as i_gang,
           count(*) as i_alt,
           count(distinct f.person_id) as borgere_i_alt
    from jobpakke_forloeb f
    join sexes s on s.sex = 'alle' or s.sex = f.sex
    group by f.municipality_code, f.period, s.sex
)
select st.program, c.municipality_code,
       coalesce(n.municipality, cast(c.municipality_code as varchar)) as municipality,
       c.period, c.sex,
       coalesce(k.startede, 0) as startede, coalesce(k.afsluttede, 0) as afsluttede,
       coalesce(k.afbrudte, 0) as afbrudte, coalesce(k.i_gang, 0) as i_gang,
       coalesce(k.i_alt, 0) as i_alt, coalesce(k.borgere_i_alt, 0) as borgere_i_alt
from jobpakke_cells c
cross join settings st
left join counts k on k.municipality_code = c.municipality_code and k.period = c.period and k.sex = c.sex
left join municipality_names n on n.municipality_code = c.municipality_code
