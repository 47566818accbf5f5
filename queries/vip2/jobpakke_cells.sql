-- description: VIP2: the cells every count and share is given for: every programme municipality in every landed quarter, and any other municipality with packages, each for sex `alle`, `M` and `K`
-- params:
-- tables: jobpakke_forloeb, program_municipalities
-- period_key: period
-- columns: municipality_code int32, period utf8, sex utf8
-- order_by: municipality_code, period, sex
with sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
)
select pm.municipality_code, p.period, s.sex
from program_municipalities pm
cross join (select distinct period from jobpakke_forloeb) p
cross join sexes s
union
select f.municipality_code, f.period, s.sex
from jobpakke_forloeb f cross join sexes s
