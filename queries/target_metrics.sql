-- description: the target metrics (målsætninger) per municipality, period and sex: M1 and its two parts from DREAM (quarterly), M2 (monthly) and M3 (quarterly) from Jobindsats
-- params: min_weeks int64, measure utf8, jobparat utf8
-- tables: dream_persons, dream_weeks, jobindsats_visitation, jobindsats_offers, program_municipalities, municipality_names, metric_categories, settings
-- order_by: metric, municipality_code, period, sex
with quarter_ends as (
    -- The quarter's end is the Sunday of its last ISO week; a week belongs to the
    -- quarter that holds its Thursday, so a quarter has 12, 13 or 14 weeks.
    select quarter, max(week_start) + interval '6 days' as reference_end, count(distinct week) as weeks
    from dream_weeks
    group by quarter
),
population as (
    -- M1's population in municipality k and quarter q.
    select p.person_id, p.quarter, p.kommune, p.koen
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
    from dream_weeks
    group by person_id, quarter
),
status as (
    -- At least $min_weeks weeks (default 5) in the quarter, not necessarily in a row,
    -- whether the quarter has 12, 13 or 14 weeks.
    select pop.person_id, pop.quarter, pop.kommune, pop.koen,
           coalesce(w.selv_weeks, 0) >= $min_weeks as selv,
           coalesce(w.su_weeks, 0) >= $min_weeks as udd
    from population pop
    left join person_weeks w on w.person_id = pop.person_id and w.quarter = pop.quarter
),
sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
),
m1_counts as (
    -- A person counts once in M1 even when both self-supporting and in education.
    select st.kommune as municipality_code, st.quarter as period, s.sex,
           count(*) as denominator,
           sum(case when st.selv or st.udd then 1 else 0 end) as n_m1,
           sum(case when st.selv then 1 else 0 end) as n_selv,
           sum(case when st.udd then 1 else 0 end) as n_udd
    from status st
    join sexes s on s.sex = 'alle' or s.sex = st.koen
    group by st.kommune, st.quarter, s.sex
),
m1_keys as (
    -- Every programme municipality gets a row for every landed quarter, also with no population.
    select municipality_code, period, sex from m1_counts
    union
    select pm.municipality_code, q.quarter, s.sex
    from program_municipalities pm cross join quarter_ends q cross join sexes s
),
m1 as (
    select k.municipality_code, k.period, k.sex,
           coalesce(c.denominator, 0) as denominator,
           coalesce(c.n_m1, 0) as n_m1, coalesce(c.n_selv, 0) as n_selv, coalesce(c.n_udd, 0) as n_udd
    from m1_keys k
    left join m1_counts c on c.municipality_code = k.municipality_code and c.period = k.period and c.sex = k.sex
),
m2 as (
    -- Share job-ready among integrationsydelse recipients in the programme: "Jobparat" /
    -- all visitation categories (including "Uoplyst"). A suppressed cell makes its sum unknown.
    select v.municipality_code, v.period, v.sex,
           sum(case when v.category = $jobparat then v.value end) as numerator,
           case when count(v.value) = count(*) then sum(v.value) end as denominator
    from jobindsats_visitation v
    where v.measure = $measure and v.municipality_code is not null
    group by v.municipality_code, v.period, v.sex
),
m3 as (
    -- Share in company-oriented offers: løntilskud + virksomhedspraktik + nytteindsats /
    -- all recipients. Unknown (null) when any part is suppressed.
    select o.municipality_code, o.period, o.sex,
           case when count(case when c.part = 'numerator' then 1 end) = count(case when c.part = 'numerator' then o.value end)
                 and count(case when c.part = 'numerator' then 1 end) > 0
                then sum(case when c.part = 'numerator' then o.value end) end as numerator,
           max(case when c.part = 'denominator' then o.value end) as denominator
    from jobindsats_offers o
    join metric_categories c on c.metric = 'M3' and c.category = o.category
    where o.measure = $measure and o.municipality_code is not null
    group by o.municipality_code, o.period, o.sex
),
all_metrics as (
    select cast(municipality_code as int) as municipality_code, 'M1' as metric, period, sex, cast(n_m1 as bigint) as numerator, cast(denominator as bigint) as denominator from m1
    union all
    select municipality_code, 'M1_selvforsoergelse', period, sex, cast(n_selv as bigint), cast(denominator as bigint) from m1
    union all
    select municipality_code, 'M1_uddannelse', period, sex, cast(n_udd as bigint), cast(denominator as bigint) from m1
    union all
    select municipality_code, 'M2', period, sex, cast(numerator as bigint), cast(denominator as bigint) from m2
    union all
    select municipality_code, 'M3', period, sex, cast(numerator as bigint), cast(denominator as bigint) from m3
)
select st.program,
       a.municipality_code,
       coalesce(n.municipality, 'ukendt') as municipality,
       a.metric,
       a.period,
       a.sex,
       a.numerator,
       a.denominator,
       case when a.denominator > 0 and a.numerator is not null
            then cast(a.numerator as double) / cast(a.denominator as double) end as share
from all_metrics a
cross join settings st
left join municipality_names n on n.municipality_code = a.municipality_code
order by metric, municipality_code, period, sex
