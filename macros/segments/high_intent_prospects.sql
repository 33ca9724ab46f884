{#- Non-customers with a pricing view in 14 days, 2+ email opens or clicks in
    30 days and a case study viewed in 30 days. Score: intent score. -#}
{% macro segment_rule__high_intent_prospects() %}
    select
        persons.person_id as member_id,
        persons.intent_score as member_score,
        'pricing views 14d: ' || cast(signals.pricing_views as {{ dbt.type_string() }})
        || ', email engagements 30d: ' || cast(signals.email_engagements as {{ dbt.type_string() }})
        || ', case studies 30d: ' || cast(signals.case_study_views as {{ dbt.type_string() }}) as reason
    from persons
    inner join (
        select
            person_id,
            sum(case when event_name = 'Pricing_Viewed' and {{ within_days('occurred_at', 14) }} then 1 else 0 end)
                as pricing_views,
            sum(
                case
                    when event_name in ('Email_Opened', 'Email_Clicked') and {{ within_days('occurred_at', 30) }}
                        then 1
                    else 0
                end
            ) as email_engagements,
            sum(case when event_name = 'Case_Study_Viewed' and {{ within_days('occurred_at', 30) }} then 1 else 0 end)
                as case_study_views
        from events
        where event_name in ('Pricing_Viewed', 'Email_Opened', 'Email_Clicked', 'Case_Study_Viewed')
        group by person_id
    ) as signals on persons.person_id = signals.person_id
    where
        not persons.is_customer
        and signals.pricing_views >= 1
        and signals.email_engagements >= 2
        and signals.case_study_views >= 1
{% endmacro %}
