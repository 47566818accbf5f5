-- description: which municipalities each comparison value rests on: per programme municipality, metric, period and sex, every municipality of its comparison group with its role and whether it contributes (and why not)
-- params:
-- tables: target_metrics, comparison_groups, program_municipalities, municipality_names, settings
-- period_key: period
-- columns: program utf8, comparison_group utf8, municipality_code int32, member_code int32, member utf8, metric utf8, period utf8, sex utf8, role utf8, contributes bool, reason utf8 null
-- order_by: municipality_code, metric, period, sex, member_code
with own as (
    -- The rows a comparison is made for: a programme municipality with a group, each
    -- metric, period and sex it has a target_metrics row for.
    select g.comparison_group, t.municipality_code, t.metric, t.period, t.sex
    from target_metrics t
    join program_municipalities p on p.municipality_code = t.municipality_code
    join comparison_groups g on g.municipality_code = t.municipality_code
),
listed as (
    -- Everyone the group lists, with the role it has for the programme municipality k:
    -- k itself, another programme municipality (treated: never counted), or a member.
    select o.comparison_group, o.municipality_code, o.metric, o.period, o.sex,
           g.municipality_code as member_code,
           case when g.municipality_code = o.municipality_code then 'self'
                when p.municipality_code is not null then 'programme'
                else 'member' end as role
    from own o
    join comparison_groups g on g.comparison_group = o.comparison_group
    left join program_municipalities p on p.municipality_code = g.municipality_code
)
select st.program,
       l.comparison_group,
       l.municipality_code,
       l.member_code,
       coalesce(n.municipality, 'ukendt') as member,
       l.metric,
       l.period,
       l.sex,
       l.role,
       -- A member counts when its row has a known numerator and a denominator above 0;
       -- a missing or suppressed one is left out of the period, never counted as zero.
       coalesce(l.role = 'member' and t.denominator > 0 and t.numerator is not null, false) as contributes,
       case when l.role <> 'member' then l.role
            when t.municipality_code is null then 'no_row'
            when t.numerator is null or t.denominator is null then 'suppressed'
            when t.denominator = 0 then 'zero_denominator' end as reason
from listed l
cross join settings st
left join target_metrics t
       on t.municipality_code = l.member_code and t.metric = l.metric
      and t.period = l.period and t.sex = l.sex
left join municipality_names n on n.municipality_code = l.member_code
order by municipality_code, metric, period, sex, member_code
