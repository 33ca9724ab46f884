{#- Product users in usage tier power (top decile of product score among
    current product users). Score: product score. -#}
{% macro segment_rule__power_users() %}
    select
        person_id as member_id,
        product_score as member_score,
        'usage tier power, product events 30d: ' || cast(product_events_30d as {{ dbt.type_string() }}) as reason
    from persons
    where usage_tier = 'power'
{% endmacro %}
