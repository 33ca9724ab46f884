-- The current members: qualified members that hold the segment's required
-- consent purpose now. Person members need the purpose; account members need
-- none (an account is not a data subject, and its engagement is built only
-- from analytics-consented events of non-deleted persons). Adds the
-- deterministic membership_id and holdout assignment.
with

qualified as (

    select * from {{ ref('int_segment_members_qualified') }}

),

definitions as (

    select * from {{ ref('segment_definitions') }}

),

consent as (

    select * from {{ ref('int_persons_consent_current') }}

),

with_consent as (

    select
        qualified.*,
        definitions.holdout_percent,
        case
            when qualified.member_type = 'account' then true
            {% for purpose in var('consent_purposes') %}
                when definitions.required_consent_purpose = '{{ purpose }}'
                    then coalesce(consent.has_{{ purpose }}_consent, false)
            {% endfor %}
            else false
        end as has_required_consent
    from qualified
    inner join definitions on qualified.segment_id = definitions.segment_id
    -- The member_type test is inside the join key, not a separate condition: a
    -- filter on the preserved side of a left join made DuckDB fall back to a
    -- nested-loop join (10 s at 10M events).
    left join consent
        on case when qualified.member_type = 'person' then qualified.member_id end = consent.person_id

),

final as (

    select
        {{ md5_key(['segment_id', 'member_id']) }} as membership_id,
        segment_id,
        member_type,
        member_id,
        member_score,
        reason,
        {{ hex_bucket_10000(md5_key(["'holdout'", 'segment_id', 'member_id'])) }}
        < holdout_percent * 100 as is_holdout
    from with_consent
    where has_required_consent

)

select * from final
