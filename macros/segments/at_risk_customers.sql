{#- Paying customers (plan pro or enterprise) whose product use stopped (no
    product event in 30 days) or halved (product events in the last 30 days
    below half of the 30 days before). Score: product events in the 30 days
    before (the usage at stake). -#}
{% macro segment_rule__at_risk_customers() %}
    select
        persons.person_id as member_id,
        cast(coalesce(usage.previous_30d, 0) as double precision) as member_score,
        case
            when coalesce(usage.last_30d, 0) = 0 then 'no product use in 30d'
            else 'product events 30d: ' || cast(usage.last_30d as {{ dbt.type_string() }})
                || ' vs ' || cast(usage.previous_30d as {{ dbt.type_string() }}) || ' the 30d before'
        end as reason
    from persons
    left join (
        select
            person_id,
            sum(case when {{ within_days('occurred_at', 30) }} then 1 else 0 end) as last_30d,
            sum(case when {{ within_days('occurred_at', 60) }} and not {{ within_days('occurred_at', 30) }} then 1 else 0 end)
                as previous_30d
        from events
        where score_category = 'product'
        group by person_id
    ) as usage on persons.person_id = usage.person_id
    where
        persons.plan in ('pro', 'enterprise')
        and (
            coalesce(usage.last_30d, 0) = 0
            or usage.last_30d < 0.5 * usage.previous_30d
        )
{% endmacro %}
