-- Third-party intent signals per company domain, one row per signal_id.
with

source as (

    select * from {{ source('intent', 'intent_signals') }}

),

parsed as (

    select
        nullif(trim(signal_id), '') as signal_id,
        {{ normalize_domain('domain') }} as domain,
        lower(trim(topic)) as topic,
        {{ parse_number('intensity') }} as intensity,
        cast({{ parse_timestamp('observed_on') }} as date) as observed_on,
        lower(trim(provider)) as provider
    from source

),

deduplicated as (

    select
        *,
        row_number() over (partition by signal_id order by observed_on desc, intensity desc) as copy_rank
    from parsed
    where signal_id is not null

),

final as (

    select
        signal_id,
        domain,
        topic,
        intensity,
        observed_on,
        provider
    from deduplicated
    where copy_rank = 1

)

select * from final
