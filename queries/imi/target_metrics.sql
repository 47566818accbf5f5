-- description: the target metrics (målsætninger) per municipality, period and sex: M1 and its two parts from DREAM (quarterly), M2 (monthly) and M3 (quarterly) from Jobindsats
-- params: measure utf8, jobparat utf8
-- tables: population_cells, dream_weeks, jobindsats_visitation, jobindsats_offers, program_municipalities, municipality_names, metric_categories, settings
-- period_key: period
-- columns: program utf8, municipality_code int32, municipality utf8, metric utf8, period utf8, sex utf8, numerator int64 null, denominator int64 null, share float64 null
-- order_by: metric, municipality_code, period, sex
with quarters as (
    -- Every quarter landed in DREAM.
    select distinct quarter from dream_weeks
),
sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
),
m1_counts as (
    -- M1 and its two parts: the sums of population_cells (queries/population_cells.sql,
    -- which holds the population and the rules) over the cells of a municipality and sex.
    select c.municipality_code, c.metric, c.period, s.sex,
           sum(c.persons) as denominator,
           sum(c.meeting) as numerator
    from population_cells c
    join sexes s on s.sex = 'alle' or s.sex = c.sex
    group by c.municipality_code, c.metric, c.period, s.sex
),
m1_keys as (
    -- Every programme municipality gets a row for every landed quarter, also with no population.
    select municipality_code, metric, period, sex from m1_counts
    union
    select pm.municipality_code, mm.metric, q.quarter, s.sex
    from program_municipalities pm
    cross join quarters q
    cross join sexes s
    cross join (select column1 as metric from (values ('M1'), ('M1_selvforsoergelse'), ('M1_uddannelse'))) mm
),
m1 as (
    select k.municipality_code, k.metric, k.period, k.sex,
           coalesce(c.denominator, 0) as denominator,
           coalesce(c.numerator, 0) as numerator
    from m1_keys k
    left join m1_counts c
           on c.municipality_code = k.municipality_code and c.metric = k.metric
          and c.period = k.period and c.sex = k.sex
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
           case when count(case when c.setting = 'offer_labels' then 1 end) = count(case when c.setting = 'offer_labels' then o.value end)
                 and count(case when c.setting = 'offer_labels' then 1 end) > 0
                then sum(case when c.setting = 'offer_labels' then o.value end) end as numerator,
           max(case when c.setting = 'recipients_label' then o.value end) as denominator
    from jobindsats_offers o
    join metric_categories c on c.setting in ('offer_labels', 'recipients_label') and c.category = o.category
    where o.measure = $measure and o.municipality_code is not null
    group by o.municipality_code, o.period, o.sex
),
all_metrics as (
    select cast(municipality_code as int) as municipality_code, metric, period, sex, cast(numerator as bigint) as numerator, cast(denominator as bigint) as denominator from m1
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
