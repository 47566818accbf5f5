-- description: VIP2 i alt: jobpakke_activity summed over the programme's municipalities per quarter and sex; borgere_i_alt counts a person once, also one with packages in two municipalities
-- params:
-- tables: jobpakke_forloeb, program_municipalities, settings
-- period_key: period
-- columns: program utf8, period utf8, sex utf8, startede int64, afsluttede int64, afbrudte int64, i_gang int64, i_alt int64, borgere_i_alt int64
-- order_by: period, sex
with sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
),
periods as (
    select distinct period from jobpakke_forloeb
),
counts as (
    select f.period, s.sex,
           count(*) filter (where f.started) as startede,
           count(*) filter (where f.ended) as afsluttede,
           count(*) filter (where f.ended and f.afslutning = 'afbrudt') as afbrudte,
           count(*) filter (where f.running) as i_gang,
           count(*) as i_alt,
           count(distinct f.person_id) as borgere_i_alt
    from jobpakke_forloeb f
    join program_municipalities pm on pm.municipality_code = f.municipality_code
    join sexes s on s.sex = 'alle' or s.sex = f.sex
    group by f.period, s.sex
)
select st.program, p.period, s.sex,
       coalesce(k.startede, 0) as startede, coalesce(k.afsluttede, 0) as afsluttede,
       coalesce(k.afbrudte, 0) as afbrudte, coalesce(k.i_gang, 0) as i_gang,
       coalesce(k.i_alt, 0) as i_alt, coalesce(k.borgere_i_alt, 0) as borgere_i_alt
from periods p
cross join sexes s
cross join settings st
left join counts k on k.period = p.period and k.sex = s.sex
