-- description: M1's population per municipality, quarter, sex, age band and months since the first integrationsydelse, with how many in each cell meet M1 and its two parts: what target_metrics sums and what the expected level in peer_comparison standardises on
-- params: min_weeks int64
-- tables: dream_persons, dream_weeks, age_bands, months_bands, settings
-- period_key: period
-- columns: program utf8, municipality_code int32, metric utf8, period utf8, sex utf8, age_band utf8, months_band utf8, persons int64, meeting int64
-- order_by: metric, municipality_code, period, sex, age_band, months_band
with quarter_ends as (
    -- The quarter's end is the Sunday of its last ISO week; a week belongs to the
    -- quarter that holds its Thursday, so a quarter has 12, 13 or 14 weeks. That week
    -- holds the quarter's last day minus 3 days, so it comes from the calendar (the
    -- quarters landed, first day of the next one minus 4 days, its week's Monday plus
    -- 6 days): as max(week_start) of dream_weeks it read every week row (155 million
    -- at national scale) twice.
    select quarter,
           cast(date_trunc('week', make_date(cast(substr(quarter, 1, 4) as int), 3 * cast(substr(quarter, 6, 1) as int), 1)
                                   + interval '1 month' - interval '4 days') as date) + interval '6 days' as reference_end
    from (select distinct quarter from dream_persons) landed
),
population as (
    -- M1's population in municipality k and quarter q.
    select p.person_id, p.quarter, p.kommune, p.koen, p.foedselsdato, p.foerste_integrationsydelse, q.reference_end
    from dream_persons p
    join quarter_ends q on q.quarter = p.quarter
    where p.herkomst = 3                                                      -- immigrant from a non-western country
      and p.integrationsprogram                                               -- covered by the integration programme
      and p.foedselsdato + interval '18 years' <= q.reference_end             -- 18 or older at the quarter's end ...
      and p.foedselsdato + interval '65 years' > q.reference_end              -- ... and not yet 65 (aged 18-64)
      and p.foerste_integrationsydelse <= q.reference_end
      and p.foerste_integrationsydelse >= q.reference_end - interval '36 months' -- first integrationsydelse at most 36 months before
),
person_weeks as (
    select person_id, quarter,
           -- self-supporting weeks: no public benefit at all, or an IGU work period (counts as self-supporting)
           sum(case when code is null or class = 'igu_praktik' then 1 else 0 end) as selv_weeks,
           -- education weeks: SU. An IGU school period (igu_skole) counts as integrationsydelse, not as education.
           sum(case when class = 'su' then 1 else 0 end) as su_weeks
    from dream_weeks w
    -- Only the population's weeks: a semi-join first, so the aggregation holds the
    -- population's persons (a few hundred thousand), not everyone on a benefit.
    where exists (select 1 from population p where p.person_id = w.person_id and p.quarter = w.quarter)
    group by person_id, quarter
),
status as (
    -- At least $min_weeks weeks (default 5) in the quarter, not necessarily in a row,
    -- whether the quarter has 12, 13 or 14 weeks. The cell: the age band by the same
    -- birthday rule as the population (born + lower bound <= the quarter's end), and
    -- the months band by the first integrationsydelse (band "0-11" when it is less than
    -- 12 months before the end; the last band holds its upper bound, 36 months).
    select pop.kommune, pop.quarter, pop.koen, a.band as age_band, m.band as months_band,
           coalesce(w.selv_weeks, 0) >= $min_weeks as selv,
           coalesce(w.su_weeks, 0) >= $min_weeks as udd
    from population pop
    left join person_weeks w on w.person_id = pop.person_id and w.quarter = pop.quarter
    join age_bands a
      on pop.foedselsdato + a.lower_bound <= pop.reference_end
     and pop.foedselsdato + a.upper_bound > pop.reference_end
    join months_bands m
      on pop.foerste_integrationsydelse <= pop.reference_end - m.lower_bound
     and (m.last or pop.foerste_integrationsydelse > pop.reference_end - m.upper_bound)
),
cells as (
    -- A person counts once in M1 even when both self-supporting and in education.
    select kommune as municipality_code, quarter as period, koen as sex, age_band, months_band,
           count(*) as persons,
           sum(case when selv or udd then 1 else 0 end) as n_m1,
           sum(case when selv then 1 else 0 end) as n_selv,
           sum(case when udd then 1 else 0 end) as n_udd
    from status
    group by kommune, quarter, koen, age_band, months_band
),
by_metric as (
    select municipality_code, 'M1' as metric, period, sex, age_band, months_band, persons, n_m1 as meeting from cells
    union all
    select municipality_code, 'M1_selvforsoergelse', period, sex, age_band, months_band, persons, n_selv from cells
    union all
    select municipality_code, 'M1_uddannelse', period, sex, age_band, months_band, persons, n_udd from cells
)
select st.program,
       cast(c.municipality_code as int) as municipality_code,
       c.metric,
       c.period,
       c.sex,
       c.age_band,
       c.months_band,
       cast(c.persons as bigint) as persons,
       cast(c.meeting as bigint) as meeting
from by_metric c
cross join settings st
order by metric, municipality_code, period, sex, age_band, months_band
