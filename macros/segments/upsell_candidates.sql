{#- Free-plan persons who used an advanced feature (Feature_Used with
    feature_tier = 'advanced') 3+ times in the last 7 days. Score: product score. -#}
{% macro segment_rule__upsell_candidates() %}
    select
        persons.person_id as member_id,
        persons.product_score as member_score,
        'free plan, advanced feature uses 7d: ' || cast(usage.advanced_uses as {{ dbt.type_string() }}) as reason
    from persons
    inner join (
        select
            person_id,
            count(*) as advanced_uses
        from events
        where
            event_name = 'Feature_Used'
            and lower({{ json_text('properties', "'feature_tier'") }}) = 'advanced'
            and {{ within_days('occurred_at', 7) }}
        group by person_id
    ) as usage on persons.person_id = usage.person_id
    where
        persons.plan = 'free'
        and usage.advanced_uses >= 3
{% endmacro %}
