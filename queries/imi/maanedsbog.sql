-- description: the månedsbog per employee and month: the figures of month m come from month m's export, counted on the rows that carry the employee's medarbejder_id
-- params:
-- tables: fagsystem_medarbejdere, fagsystem_sager, fagsystem_samtaler, fagsystem_virksomhedsbesoeg, fagsystem_placeringer
-- month_key: month
-- columns: kommune int32, month utf8, medarbejder_id utf8, navn utf8, afdeling utf8, rolle utf8, aktive_sager int64, aktiverede int64, samtaler int64, virksomhedsbesoeg_6_mdr int64, afsluttede_placeringer int64, gns_ventetid_dage float64 null
-- order_by: kommune, month, afdeling, medarbejder_id
with months as (
    -- d0 and d1: the first and the last day of the export's month
    select distinct kommune, month,
           cast(month || '-01' as date) as d0,
           cast(month || '-01' as date) + interval '1 month' - interval '1 day' as d1
    from fagsystem_medarbejdere
),
employees as (
    -- everyone in the month's medarbejdere.csv, with the department of that month
    select e.kommune, e.month, e.medarbejder_id, e.navn, e.afdeling, e.rolle
    from fagsystem_medarbejdere e
),
aktive_sager as (
    -- cases opened by the month's end and not closed by it (closed on the last day: not active)
    select s.kommune, s.month, s.medarbejder_id, count(*) as n
    from fagsystem_sager s
    join months m on m.kommune = s.kommune and m.month = s.month
    where s.oprettet <= m.d1 and (s.afsluttet is null or s.afsluttet > m.d1)
    group by s.kommune, s.month, s.medarbejder_id
),
aktiverede as (
    -- distinct persons with a placement overlapping the month
    select p.kommune, p.month, p.medarbejder_id, count(distinct p.person_id) as n
    from fagsystem_placeringer p
    join months m on m.kommune = p.kommune and m.month = p.month
    where p.start <= m.d1 and (p.slut is null or p.slut >= m.d0)
    group by p.kommune, p.month, p.medarbejder_id
),
samtaler as (
    select s.kommune, s.month, s.medarbejder_id, count(*) as n
    from fagsystem_samtaler s
    join months m on m.kommune = s.kommune and m.month = s.month
    where s.dato between m.d0 and m.d1
    group by s.kommune, s.month, s.medarbejder_id
),
besoeg as (
    -- company visits from the first day of month m-5 to the last day of month m
    select b.kommune, b.month, b.medarbejder_id, count(*) as n
    from fagsystem_virksomhedsbesoeg b
    join months m on m.kommune = b.kommune and m.month = b.month
    where b.dato between m.d0 - interval '5 months' and m.d1
    group by b.kommune, b.month, b.medarbejder_id
),
afsluttede as (
    -- placements ending in the month: distinct persons, and the mean wait from referral to start
    select p.kommune, p.month, p.medarbejder_id,
           count(distinct p.person_id) as n,
           avg(cast(cast(p.start as int) - cast(p.henvist as int) as double)) as ventetid
    from fagsystem_placeringer p
    join months m on m.kommune = p.kommune and m.month = p.month
    where p.slut between m.d0 and m.d1
    group by p.kommune, p.month, p.medarbejder_id
)
select e.kommune,
       e.month,
       e.medarbejder_id,
       e.navn,
       e.afdeling,
       e.rolle,
       coalesce(a.n, 0) as aktive_sager,
       coalesce(ak.n, 0) as aktiverede,
       coalesce(s.n, 0) as samtaler,
       coalesce(b.n, 0) as virksomhedsbesoeg_6_mdr,
       coalesce(af.n, 0) as afsluttede_placeringer,
       af.ventetid as gns_ventetid_dage
from employees e
left join aktive_sager a on a.kommune = e.kommune and a.month = e.month and a.medarbejder_id = e.medarbejder_id
left join aktiverede ak on ak.kommune = e.kommune and ak.month = e.month and ak.medarbejder_id = e.medarbejder_id
left join samtaler s on s.kommune = e.kommune and s.month = e.month and s.medarbejder_id = e.medarbejder_id
left join besoeg b on b.kommune = e.kommune and b.month = e.month and b.medarbejder_id = e.medarbejder_id
left join afsluttede af on af.kommune = e.kommune and af.month = e.month and af.medarbejder_id = e.medarbejder_id
order by kommune, month, afdeling, medarbejder_id
