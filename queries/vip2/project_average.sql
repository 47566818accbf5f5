-- description: VIP2 i alt per metric, quarter and sex: pooled over the programme's municipalities, the sum of the numerators over the sum of the denominators (as the seeds count: 39 % is 121/313), municipalities = those with packages in the denominator
-- params:
-- tables: target_metrics, program_municipalities
-- period_key: period
-- columns: program utf8, metric utf8, period utf8, sex utf8, share float64 null, method utf8, municipalities int32
-- order_by: metric, period, sex
select t.program, t.metric, t.period, t.sex,
       case when sum(t.denominator) > 0
            then cast(sum(t.numerator) as double) / cast(sum(t.denominator) as double) end as share,
       'pooled' as method,
       cast(count(*) filter (where t.denominator > 0) as int) as municipalities
from target_metrics t
join program_municipalities p on p.municipality_code = t.municipality_code
group by t.program, t.metric, t.period, t.sex
