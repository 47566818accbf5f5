-- description: the programme's average per metric, period and sex, over the programme's municipalities only
-- params:
-- tables: target_metrics, program_municipalities
-- period_key: period
-- columns: program utf8, metric utf8, period utf8, sex utf8, share float64 null, method utf8, municipalities int32
-- order_by: metric, period, sex
select t.program,
       t.metric,
       t.period,
       t.sex,
       case when t.metric in ('M2', 'M3')
            -- pooled: the sum of numerators over the sum of denominators
            then cast(sum(t.numerator) as double) / cast(sum(t.denominator) as double)
            -- mean of shares: the plain mean of the municipalities' shares, summed as
            -- decimals so the result does not depend on the order rows arrive in
            else cast(avg(cast(t.share as decimal(38, 18))) as double) end as share,
       case when t.metric in ('M2', 'M3') then 'pooled' else 'mean_of_shares' end as method,
       cast(count(*) as int) as municipalities
from target_metrics t
join program_municipalities p on p.municipality_code = t.municipality_code
-- A municipality without a share in the period (no population, or a suppressed value) is left out.
where t.share is not null
group by t.program, t.metric, t.period, t.sex
order by metric, period, sex
