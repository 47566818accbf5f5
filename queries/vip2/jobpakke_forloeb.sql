-- description: VIP2: every job package of a quarter's register extract, with where it counts in that quarter (../shared/spec/vip2.md §2): started, ended, running, followed up 3 and 6 months after its end, and its status at the quarter's last day
-- params:
-- tables: jobpakker_forloeb, settings, municipality_names
-- period_key: period
-- columns: program utf8, period utf8, municipality_code int32, municipality utf8, sex utf8, jobpakke_id utf8, person_id utf8, pakketype utf8, sektor utf8, branche utf8, afslutning utf8 null, started bool, ended bool, running bool, follow_3 bool, follow_6 bool, status_slut utf8 null, status_3mdr utf8 null, status_6mdr utf8 null, status_nu utf8 null
-- order_by: period, municipality_code, jobpakke_id
--
-- A quarter q runs from q0 to R, its last calendar day; its extract holds every
-- package started by R. A follow-up date is slutdato + N calendar months (a day the
-- month lacks becomes its last day), and falls in q exactly when it lies in [q0, R].
with q as (
    select f.*,
           make_date(cast(substr(f.quarter, 1, 4) as int), (cast(substr(f.quarter, 6, 1) as int) - 1) * 3 + 1, 1) as q0
    from jobpakker_forloeb f
),
r as (
    select q.*, cast(q0 + interval '3 months' - interval '1 day' as date) as r_end,
           slutdato + interval '3 months' as f3,
           slutdato + interval '6 months' as f6
    from q
)
select s.program, r.quarter as period, r.kommune as municipality_code,
       coalesce(n.municipality, cast(r.kommune as varchar)) as municipality,
       r.koen as sex, r.jobpakke_id, r.person_id, r.pakketype, r.sektor, r.branche, r.afslutning,
       r.startdato between r.q0 and r.r_end as started,
       coalesce(r.slutdato between r.q0 and r.r_end, false) as ended,
       r.slutdato is null as running,
       coalesce(r.f3 between r.q0 and r.r_end, false) as follow_3,
       coalesce(r.f6 between r.q0 and r.r_end, false) as follow_6,
       r.status_slut, r.status_3mdr, r.status_6mdr,
       -- The status at R: the latest follow-up due by R, taken as recorded.
       case when r.slutdato is null then 'i_forloeb'
            when r.f6 <= r.r_end then r.status_6mdr
            when r.f3 <= r.r_end then r.status_3mdr
            else r.status_slut end as status_nu
from r
cross join settings s
left join municipality_names n on n.municipality_code = r.kommune
