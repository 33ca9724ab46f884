-- One row per (non-deleted) person: account, first/last seen, lifecycle stage,
-- plan, usage tier, decayed scores, identifier counts and current consent.
with

persons_accounts as (

    select * from {{ ref('int_persons_accounts') }}

),

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

scores as (

    select * from {{ ref('int_persons_scored') }}

),

plans as (

    select * from {{ ref('int_persons_plans') }}

),

consent as (

    select * from {{ ref('int_persons_consent_current') }}

),

deleted as (

    select * from {{ ref('int_deleted_persons') }}

),

identifier_counts as (

    select
        person_id,
        {% for identifier_type in ['anonymous_id', 'user_id', 'email', 'contact_id'] %}
            cast(sum(case when identifier_type = '{{ identifier_type }}' then 1 else 0 end) as bigint)
                as {{ identifier_type }}_count,
        {% endfor %}
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from identifiers
    group by person_id

),

profiled as (

    select
        identifier_counts.person_id,
        persons_accounts.account_id,
        persons_accounts.match_method as account_match_method,
        identifier_counts.first_seen_at,
        identifier_counts.last_seen_at,
        plans.plan,
        plans.crm_lifecycle_status,
        plans.is_customer,
        plans.is_former_customer,
        plans.is_product_user,
        coalesce(scores.total_score, 0) as total_score,
        coalesce(scores.engagement_score, 0) as engagement_score,
        coalesce(scores.intent_score, 0) as intent_score,
        coalesce(scores.product_score, 0) as product_score,
        {% for days in var('score_window_days') %}
            coalesce(scores.events_{{ days }}d, 0) as events_{{ days }}d,
            coalesce(scores.product_events_{{ days }}d, 0) as product_events_{{ days }}d,
        {% endfor %}
        scores.last_event_at,
        scores.days_since_last_event,
        scores.last_product_event_at,
        scores.days_since_last_product_event,
        {% for identifier_type in ['anonymous_id', 'user_id', 'email', 'contact_id'] %}
            coalesce(identifier_counts.{{ identifier_type }}_count, 0) as {{ identifier_type }}_count,
        {% endfor %}
        {% for purpose in var('consent_purposes') %}
            coalesce(consent.has_{{ purpose }}_consent, false) as has_{{ purpose }}_consent,
        {% endfor %}
        consent.region as consent_region,
        coalesce(consent.is_opt_in_region, false) as is_opt_in_region
    from identifier_counts
    left join persons_accounts on identifier_counts.person_id = persons_accounts.person_id
    left join scores on identifier_counts.person_id = scores.person_id
    left join plans on identifier_counts.person_id = plans.person_id
    left join consent on identifier_counts.person_id = consent.person_id
    left join deleted on identifier_counts.person_id = deleted.person_id
    where deleted.person_id is null

),

active_product_users as (

    select
        person_id,
        cume_dist() over (order by product_score) as product_score_cume_dist
    from profiled
    where
        is_product_user
        and days_since_last_product_event <= {{ var('ex_user_days') }}

),

final as (

    select
        profiled.*,
        case
            when {{ age_days('profiled.first_seen_at') }} <= {{ var('lifecycle_new_days') }} then 'new'
            when {{ age_days('profiled.last_seen_at') }} <= {{ var('lifecycle_active_days') }} then 'active'
            when {{ age_days('profiled.last_seen_at') }} <= {{ var('lifecycle_dormant_days') }} then 'dormant'
            else 'churned'
        end as lifecycle_stage,
        case
            when active_product_users.product_score_cume_dist > {{ var('usage_power_cume_dist') }} then 'power'
            when active_product_users.product_score_cume_dist > {{ var('usage_light_cume_dist') }} then 'average'
            when active_product_users.person_id is not null then 'light'
            when profiled.is_product_user then 'ex_user'
        end as usage_tier
    from profiled
    left join active_product_users on profiled.person_id = active_product_users.person_id

)

select * from final
