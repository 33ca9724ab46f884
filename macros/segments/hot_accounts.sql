{#- Accounts of fit tier A or B with a third-party intent surge and 2+ engaged
    persons. Score: blended score. Account members need no person consent: the
    engagement behind them is built only from analytics-consented events. -#}
{% macro segment_rule__hot_accounts() %}
    select
        account_id as member_id,
        blended_score as member_score,
        'fit tier ' || fit_tier || ', intent surge, engaged persons: '
        || cast(engaged_persons as {{ dbt.type_string() }}) as reason
    from accounts
    where
        fit_tier in ('A', 'B')
        and has_intent_surge
        and engaged_persons >= 2
{% endmacro %}
