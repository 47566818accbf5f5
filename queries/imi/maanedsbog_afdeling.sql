-- description: the månedsbog per department and month, aggregated directly from the department's rows (distinct persons stay distinct; the mean waiting time is over all the department's placements, not a mean of employee means)
-- params:
-- tables: fagsystem_medarbejdere, fagsystem_sager, fagsystem_samtaler, fagsystem_virksomhedsbesoeg, fagsystem_placeringer
-- month_key: month
-- columns: kommune int32, month utf8, afdeling utf8, aktive_sager int64, aktiverede int64, samtaler int64, virksomhedsbesoeg_6_mdr int64, afsluttede_placeringer int64, gns_ventetid_dage float64 null
-- order_by: kommune, month, afdeling
with months as (
    select distinct kommune, month,
           cast(month || '-01' as date) as d0,
           cast(month || '-01' as date) + interval '1 month' - interval '1 day' as d1
    from fagsystem_medarbejdere
),
departments as (
    -- a row belongs to the department its employee has in that month's medarbejdere.csv
    select distinct e.kommune, e.month, e.afdeling from fagsystem_medarbejdere e
),
emp as (
    select e.kommune, e.month, e.medarbejder_id, e.afdeling, m.d0, m.d1
    from fagsystem_medarbejdere e
    join months m on m.kommune = e.kommune and m.month = e.month
),
aktive_sager as (
    select e.kommune, e.month, e.afdeling, count(*) as n
    from fagsystem_sager s
    join emp e on e.kommune = s.kommune and e.month = s.month and e.medarbejder_id = s.medarbejder_id
    where s.oprettet <= e.d1 and (s.afsluttet is null or s.afsluttet > e.d1)
    group by e.kommune, e.month, e.afdeling
),
aktiverede as (
    select e.kommune, e.month, e.afdeling, count(distinct p.person_id) as n
    from fagsystem_placeringer p
    join emp e on e.kommune = p.kommune and e.month = p.month and e.medarbejder_id = p.medarbejder_id
    where p.start <= e.d1 and (p.slut is null or p.slut >= e.d0)
    group by e.kommune, e.month, e.afdeling
),
samtaler as (
    select e.kommune, e.month, e.afdeling, count(*) as n
    from fagsystem_samtaler s
    join emp e on e.kommune = s.kommune and e.month = s.month and e.medarbejder_id = s.medarbejder_id
    where s.dato between e.d0 and e.d1
    group by e.kommune, e.month, e.afdeling
),
besoeg as (
    select e.kommune, e.month, e.afdeling, count(*) as n
    from fagsystem_virksomhedsbesoeg b
    join emp e on e.kommune = b.kommune and e.month = b.month and e.medarbejder_id = b.medarbejder_id
    where b.dato between e.d0 - interval '5 months' and e.d1
    group by e.kommune, e.month, e.afdeling
),
afsluttede as (
    select e.kommune, e.month, e.afdeling,
           count(distinct p.person_id) as n,
           avg(cast(cast(p.start as int) - cast(p.henvist as int) as double)) as ventetid
    from fagsystem_placeringer p
    join emp e on e.kommune = p.kommune and e.month = p.month and e.medarbejder_id = p.medarbejder_id
    where p.slut between e.d0 and e.d1
    group by e.kommune, e.month, e.afdeling
)
select d.kommune,
       d.month,
       d.afdeling,
       coalesce(a.n, 0) as aktive_sager,
       coalesce(ak.n, 0) as aktiverede,
       coalesce(s.n, 0) as samtaler,
       coalesce(b.n, 0) as virksomhedsbesoeg_6_mdr,
       coalesce(af.n, 0) as afsluttede_placeringer,
       af.ventetid as gns_ventetid_dage
from departments d
left join aktive_sager a on a.kommune = d.kommune and a.month = d.month and a.afdeling = d.afdeling
left join aktiverede ak on ak.kommune = d.kommune and ak.month = d.month and ak.afdeling = d.afdeling
left join samtaler s on s.kommune = d.kommune and s.month = d.month and s.afdeling = d.afdeling
left join besoeg b on b.kommune = d.kommune and b.month = d.month and b.afdeling = d.afdeling
left join afsluttede af on af.kommune = d.kommune and af.month = d.month and af.afdeling = d.afdeling
order by kommune, month, afdeling
