-- description: what the reports print per programme municipality, metric, period and sex: the share, the baseline and the change since, the project average, the rank and the spread across the programme
-- params:
-- tables: target_metrics, project_average, program_municipalities, metric_baselines
-- period_key: period
-- columns: program utf8, municipality_code int32, municipality utf8, metric utf8, period utf8, sex utf8, share float64 null, baseline_period utf8, baseline_share float64 null, change_pp float64 null, project_average float64 null, project_average_baseline float64 null, rank int32 null, ranked_municipalities int32, lowest_share float64 null, lowest_municipality utf8 null, highest_share float64 null, highest_municipality utf8 null
-- order_by: metric, period, sex, municipality_code
with program_rows as (
    select t.*
    from target_metrics t
    join program_municipalities p on p.municipality_code = t.municipality_code
),
ranked as (
    select r.*,
           -- rank 1 is the highest share; municipalities without a share are not ranked
           case when r.share is not null then rank() over (partition by r.metric, r.period, r.sex order by r.share desc nulls last) end as rank,
           count(r.share) over (partition by r.metric, r.period, r.sex) as ranked_municipalities,
           min(r.share) over (partition by r.metric, r.period, r.sex) as lowest_share,
           max(r.share) over (partition by r.metric, r.period, r.sex) as highest_share,
           -- a tie goes to the lowest municipality code, whatever order the rows came in
           first_value(case when r.share is not null then r.municipality end)
               over (partition by r.metric, r.period, r.sex order by r.share asc nulls last, r.municipality_code
                     rows between unbounded preceding and unbounded following) as lowest_municipality,
           first_value(case when r.share is not null then r.municipality end)
               over (partition by r.metric, r.period, r.sex order by r.share desc nulls last, r.municipality_code
                     rows between unbounded preceding and unbounded following) as highest_municipality
    from program_rows r
)
select r.program,
       r.municipality_code,
       r.municipality,
       r.metric,
       r.period,
       r.sex,
       r.share,
       b.baseline_period,
       base.share as baseline_share,
       -- change since the baseline in percentage points
       (r.share - base.share) * 100.0 as change_pp,
       pa.share as project_average,
       pa_base.share as project_average_baseline,
       cast(r.rank as int) as rank,
       cast(r.ranked_municipalities as int) as ranked_municipalities,
       r.lowest_share,
       r.lowest_municipality,
       r.highest_share,
       r.highest_municipality
from ranked r
-- The metric's baseline for the sex (config); the sex split of M1 has its own (2017Q1).
join metric_baselines b on b.metric = r.metric and b.sex = r.sex
left join program_rows base
       on base.municipality_code = r.municipality_code and base.metric = r.metric
      and base.sex = r.sex and base.period = b.baseline_period
left join project_average pa on pa.metric = r.metric and pa.period = r.period and pa.sex = r.sex
left join project_average pa_base on pa_base.metric = r.metric and pa_base.period = b.baseline_period and pa_base.sex = r.sex
order by metric, period, sex, municipality_code
