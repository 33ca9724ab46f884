-- One row per CRM account: firmographics, ICP fit, third- and first-party
-- intent, engagement, the blended score and its tier, engaged persons.
{%- set weights = var('blended_score_weights') %}
{%- set weight_sum = weights['fit'] + weights['engagement'] + weights['intent'] %}
with

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

fit as (

    select * from {{ ref('int_accounts_fit_scored') }}

),

third_party_intent as (

    select * from {{ ref('int_accounts_intent_scored') }}

),

scores as (

    select * from {{ ref('int_accounts_scored') }}

),

persons as (

    select * from {{ ref('dim_persons') }}

),

account_persons as (

    select
        account_id,
        cast(count(*) as bigint) as persons,
        cast(sum(case when is_customer then 1 else 0 end) as bigint) as customer_persons
    from persons
    where account_id is not null
    group by account_id

),

indexed as (

    select
        accounts.account_id,
        accounts.account_name,
        accounts.domain,
        accounts.industry,
        accounts.employee_count,
        accounts.annual_revenue_usd,
        accounts.country,
        coalesce(account_persons.persons, 0) as persons,
        coalesce(scores.engaged_persons, 0) as engaged_persons,
        coalesce(account_persons.customer_persons, 0) > 0 as is_customer,
        fit.fit_score,
        third_party_intent.third_party_intent_raw,
        third_party_intent.third_party_intent_score,
        third_party_intent.has_intent_surge,
        third_party_intent.last_intent_signal_on,
        coalesce(scores.total_score, 0) as total_score,
        coalesce(scores.engagement_score, 0) as engagement_score,
        coalesce(scores.intent_score, 0) as intent_score,
        coalesce(scores.product_score, 0) as product_score,
        {% for days in var('score_window_days') %}
            coalesce(scores.events_{{ days }}d, 0) as events_{{ days }}d,
        {% endfor %}
        scores.last_event_at,
        scores.days_since_last_event,
        {{ saturate_100('scores.intent_score', var('first_party_intent_scale')) }} as first_party_intent_score,
        {{ saturate_100('scores.total_score', var('account_engagement_scale')) }} as engagement_index
    from accounts
    left join fit on accounts.account_id = fit.account_id
    left join third_party_intent on accounts.account_id = third_party_intent.account_id
    left join scores on accounts.account_id = scores.account_id
    left join account_persons on accounts.account_id = account_persons.account_id

),

blended as (

    select
        *,
        (first_party_intent_score + third_party_intent_score) / 2.0 as intent_index,
        (
            {{ weights['fit'] }} * fit_score
            + {{ weights['engagement'] }} * engagement_index
            + {{ weights['intent'] }} * (first_party_intent_score + third_party_intent_score) / 2.0
        ) / {{ weight_sum }} as blended_score
    from indexed

),

final as (

    select
        *,
        {{ score_tier('fit_score', var('fit_tier_thresholds')) }} as fit_tier,
        {{ score_tier('blended_score', var('account_tier_thresholds')) }} as account_tier
    from blended

)

select * from final
