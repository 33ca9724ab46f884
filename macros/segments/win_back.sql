{#- Former customers re-engaging: 2+ consented events in the last 30 days.
    Score: total score. -#}
{% macro segment_rule__win_back() %}
    select
        person_id as member_id,
        total_score as member_score,
        'former customer, events 30d: ' || cast(events_30d as {{ dbt.type_string() }}) as reason
    from persons
    where
        is_former_customer
        and not is_customer
        and events_30d >= 2
{% endmacro %}
