-- description: each programme municipality compared with similar municipalities outside the programme (docs/metrics.md): (a) its comparison group's pooled share, the difference, the rank, and the change since the baseline over the balanced panel; (b) for the metrics per person, the expected level by indirect standardisation on sex, age band and months since the first integrationsydelse
-- params: min_municipalities int64, min_reference_persons int64
-- tables: target_metrics, peer_comparison_members, population_cells, comparison_groups, comparison_expected_metrics, program_municipalities, metric_baselines
-- period_key: period
-- columns: program utf8, municipality_code int32, municipality utf8, metric utf8, period utf8, sex utf8, share float64 null, comparison_group utf8 null, group_label utf8 null, group_members int32 null, group_municipalities int32, group_share float64 null, group_method utf8 null, difference_pp float64 null, group_rank int32 null, baseline_period utf8, change_pp float64 null, panel_municipalities int32, panel_share_baseline float64 null, panel_share float64 null, group_change_pp float64 null, difference_change_pp float64 null, expected_share float64 null, expected_difference_pp float64 null, reference_persons int64 null
-- order_by: metric, period, sex, municipality_code
with own as (
    select t.*
    from target_metrics t
    join program_municipalities p on p.municipality_code = t.municipality_code
),
groups as (
    select g.municipality_code, g.comparison_group, g.group_label
    from comparison_groups g
    join program_municipalities p on p.municipality_code = g.municipality_code
),
group_size as (
    -- |C(k)|: the group's municipalities minus k and minus every programme municipality.
    select k.municipality_code, cast(sum(case when p.municipality_code is null then 1 else 0 end) as int) as group_members
    from groups k
    join comparison_groups g on g.comparison_group = k.comparison_group
    left join program_municipalities p on p.municipality_code = g.municipality_code
    group by k.municipality_code
),
contributing as (
    -- The members that count in period t, with their numerators and denominators.
    select m.municipality_code, m.metric, m.period, m.sex, m.member_code,
           t.numerator, t.denominator, t.share
    from peer_comparison_members m
    join target_metrics t
      on t.municipality_code = m.member_code and t.metric = m.metric
     and t.period = m.period and t.sex = m.sex
    where m.contributes
),
group_now as (
    select c.municipality_code, c.metric, c.period, c.sex,
           count(*) as n,
           cast(sum(c.numerator) as double) / cast(sum(c.denominator) as double) as pooled,
           -- k's rank among itself and the contributing members: 1 + those above it
           sum(case when c.share > o.share then 1 else 0 end) as above
    from contributing c
    join own o on o.municipality_code = c.municipality_code and o.metric = c.metric
              and o.period = c.period and o.sex = c.sex
    group by c.municipality_code, c.metric, c.period, c.sex
),
panel as (
    -- The balanced panel: members contributing both in t and at the baseline, so that
    -- a member missing in one period cannot fake a change.
    select c.municipality_code, c.metric, c.period, c.sex,
           count(*) as n,
           cast(sum(c.numerator) as double) / cast(sum(c.denominator) as double) as share_now,
           cast(sum(b.numerator) as double) / cast(sum(b.denominator) as double) as share_base
    from contributing c
    join metric_baselines bl on bl.metric = c.metric and bl.sex = c.sex
    join contributing b
      on b.municipality_code = c.municipality_code and b.member_code = c.member_code
     and b.metric = c.metric and b.sex = c.sex and b.period = bl.baseline_period
    group by c.municipality_code, c.metric, c.period, c.sex
),
sexes as (
    select column1 as sex from (values ('alle'), ('M'), ('K'))
),
reference as (
    -- The reference rates: M1's population in the municipalities outside the programme,
    -- per cell (sex × age band × months band).
    select c.metric, c.period, c.sex as koen, c.age_band, c.months_band,
           sum(c.persons) as persons, sum(c.meeting) as meeting
    from population_cells c
    left join program_municipalities p on p.municipality_code = c.municipality_code
    where p.municipality_code is null
    group by c.metric, c.period, c.sex, c.age_band, c.months_band
),
reference_total as (
    select r.metric, r.period, s.sex, sum(r.persons) as persons
    from reference r
    join sexes s on s.sex = 'alle' or s.sex = r.koen
    group by r.metric, r.period, s.sex
),
expected as (
    -- k's persons per cell times the reference rate of the cell, over k's persons. A
    -- cell of k's with fewer than $min_reference_persons reference persons: no value.
    -- Each cell's product is made exact (decimal) before the sum, so the sum does not
    -- depend on the order the rows arrive in: the same lake gives the same bytes.
    select c.municipality_code, c.metric, c.period, s.sex,
           cast(sum(cast(cast(c.persons as double) * cast(r.meeting as double) / cast(r.persons as double) as decimal(38, 15))) as double)
               / cast(sum(c.persons) as double) as expected_share,
           min(coalesce(r.persons, 0)) as thinnest
    from population_cells c
    join program_municipalities p on p.municipality_code = c.municipality_code
    join comparison_expected_metrics em on em.metric = c.metric
    join sexes s on s.sex = 'alle' or s.sex = c.sex
    left join reference r
      on r.metric = c.metric and r.period = c.period and r.koen = c.sex
     and r.age_band = c.age_band and r.months_band = c.months_band
    where c.persons > 0
    group by c.municipality_code, c.metric, c.period, s.sex
),
compared as (
    select o.program, o.municipality_code, o.municipality, o.metric, o.period, o.sex, o.share,
           g.comparison_group, g.group_label,
           gs.group_members,
           cast(coalesce(gn.n, 0) as int) as group_municipalities,
           case when gn.n >= $min_municipalities then gn.pooled end as group_share,
           case when g.comparison_group is not null then 'pooled' end as group_method,
           case when o.share is not null and gn.n >= $min_municipalities then cast(gn.above + 1 as int) end as group_rank,
           bl.baseline_period,
           (o.share - base.share) * 100.0 as change_pp,
           cast(coalesce(pn.n, 0) as int) as panel_municipalities,
           case when pn.n >= $min_municipalities then pn.share_base end as panel_share_baseline,
           case when pn.n >= $min_municipalities then pn.share_now end as panel_share,
           case when em.metric is not null and e.thinnest >= $min_reference_persons then e.expected_share end as expected_share,
           case when em.metric is not null then rt.persons end as reference_persons
    from own o
    join metric_baselines bl on bl.metric = o.metric and bl.sex = o.sex
    left join own base
           on base.municipality_code = o.municipality_code and base.metric = o.metric
          and base.sex = o.sex and base.period = bl.baseline_period
    left join groups g on g.municipality_code = o.municipality_code
    left join group_size gs on gs.municipality_code = o.municipality_code
    left join group_now gn
           on gn.municipality_code = o.municipality_code and gn.metric = o.metric
          and gn.period = o.period and gn.sex = o.sex
    left join panel pn
           on pn.municipality_code = o.municipality_code and pn.metric = o.metric
          and pn.period = o.period and pn.sex = o.sex
    left join comparison_expected_metrics em on em.metric = o.metric
    left join expected e
           on e.municipality_code = o.municipality_code and e.metric = o.metric
          and e.period = o.period and e.sex = o.sex
    left join reference_total rt on rt.metric = o.metric and rt.period = o.period and rt.sex = o.sex
)
select program,
       municipality_code,
       municipality,
       metric,
       period,
       sex,
       share,
       comparison_group,
       group_label,
       group_members,
       group_municipalities,
       group_share,
       group_method,
       (share - group_share) * 100.0 as difference_pp,
       group_rank,
       baseline_period,
       change_pp,
       panel_municipalities,
       panel_share_baseline,
       panel_share,
       (panel_share - panel_share_baseline) * 100.0 as group_change_pp,
       change_pp - (panel_share - panel_share_baseline) * 100.0 as difference_change_pp,
       expected_share,
       (share - expected_share) * 100.0 as expected_difference_pp,
       cast(reference_persons as bigint) as reference_persons
from compared
order by metric, period, sex, municipality_code
