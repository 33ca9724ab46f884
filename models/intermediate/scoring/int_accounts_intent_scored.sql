-- Third-party intent per account from the provider signals on its domain:
-- decayed intensity (signal observed_on at midnight UTC, half-life var
-- intent_signal_half_life_days), mapped to 0-100 with a saturating curve, and
-- a surge flag (a signal of intensity >= intent_surge_min_intensity in the
-- last intent_surge_days days). Signals observed after as_of are ignored.
with

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

signals as (

    select * from {{ ref('stg_intent__signals') }}
    where
        observed_on is not null
        and intensity is not null
        and cast(observed_on as timestamp) <= {{ as_of_timestamp() }}

),

aggregated as (

    select
        accounts.account_id,
        sum(
            {{ decayed_weight(
                'signals.intensity',
                var('intent_signal_half_life_days'),
                'cast(signals.observed_on as timestamp)',
            ) }}
        ) as third_party_intent_raw,
        cast(count(*) as bigint) as intent_signals,
        max(signals.observed_on) as last_intent_signal_on,
        max(
            case
                when
                    signals.intensity >= {{ var('intent_surge_min_intensity') }}
                    and {{ within_days('cast(signals.observed_on as timestamp)', var('intent_surge_days')) }}
                    then 1
                else 0
            end
        ) as surge_flag
    from accounts
    inner join signals on accounts.domain = signals.domain
    group by accounts.account_id

),

final as (

    select
        accounts.account_id,
        coalesce(aggregated.third_party_intent_raw, 0) as third_party_intent_raw,
        {{ saturate_100('aggregated.third_party_intent_raw', var('third_party_intent_scale')) }}
            as third_party_intent_score,
        coalesce(aggregated.intent_signals, 0) as intent_signals,
        aggregated.last_intent_signal_on,
        coalesce(aggregated.surge_flag, 0) = 1 as has_intent_surge
    from accounts
    left join aggregated on accounts.account_id = aggregated.account_id

)

select * from final
