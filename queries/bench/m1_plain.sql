-- description: M1 as queries/bench/m1.sql computes it, without the semi-join that
--   limits the week sums to the population: every person's weeks are summed, and the
--   left join keeps the population's. The same rows; the form DuckDB runs fastest
--   (m1.sql's semi-join takes it 4 times as long), so the benchmark gives DuckDB its
--   best of the two (docs/performance.md).
-- tables: dream_persons, dream_weeks
with quarter_ends as (
    -- The Sunday of the quarter's last ISO week, from the calendar as in
    -- population_cells.sql.
    select quarter,
           cast(date_trunc('week', make_date(cast(substr(quarter, 1, 4) as int), 3 * cast(substr(quarter, 6, 1) as int), 1)
                                   + interval '1 month' - interval '4 days') as date) + interval '6 days' as reference_end
    from (select distinct quarter from dream_persons) landed
),
population as (
    select p.person_id, p.quarter, p.kommune, p.koen
    from dream_persons p
    join quarter_ends q on q.quarter = p.quarter
    where p.herkomst = 3
      and p.integrationsprogram
      and p.foedselsdato + interval '18 years' <= q.reference_end
      and p.foedselsdato + interval '65 years' > q.reference_end
      and p.foerste_integrationsydelse <= q.reference_end
      and p.foerste_integrationsydelse >= q.reference_end - interval '36 months'
),
person_weeks as (
    select person_id, quarter,
           sum(case when code is null or class = 'igu_praktik' then 1 else 0 end) as selv_weeks,
           sum(case when class = 'su' then 1 else 0 end) as su_weeks
    from dream_weeks w
    group by person_id, quarter
),
status as (
    select pop.quarter, pop.kommune, pop.koen,
           coalesce(w.selv_weeks, 0) >= 5 as selv,
           coalesce(w.su_weeks, 0) >= 5 as udd
    from population pop
    left join person_weeks w on w.person_id = pop.person_id and w.quarter = pop.quarter
)
select cast(kommune as int) as municipality_code,
       quarter as period,
       s.sex,
       count(*) as denominator,
       sum(case when selv or udd then 1 else 0 end) as n_m1,
       sum(case when selv then 1 else 0 end) as n_selv,
       sum(case when udd then 1 else 0 end) as n_udd
from status st
join (select 'alle' as sex union all select 'M' union all select 'K') s
  on s.sex = 'alle' or s.sex = st.koen
group by kommune, quarter, s.sex
order by municipality_code, period, sex
