-- One row per declared segment: its definition, current size, holdout size,
-- entries and exits of the build, and review state (stale when last reviewed
-- more than segment_review_max_age_days before as_of).
with

definitions as (

    select * from {{ ref('segment_definitions') }}

),

members as (

    select * from {{ ref('fct_segment_membership') }}

),

changes as (

    select * from {{ ref('fct_segment_membership_changes') }}

),

this_build_changes as (

    -- The changes log stamps this run's start as recorded_at.
    select
        segment_id,
        cast(sum(case when change_type = 'entered' then 1 else 0 end) as bigint) as entries,
        cast(sum(case when change_type = 'exited' then 1 else 0 end) as bigint) as exits
    from changes
    where recorded_at = {{ build_started_at() }}
    group by segment_id

),

sizes as (

    select
        segment_id,
        cast(count(*) as bigint) as member_count,
        cast(sum(case when is_holdout then 1 else 0 end) as bigint) as holdout_count
    from members
    group by segment_id

),

final as (

    select
        definitions.segment_id,
        definitions.name as segment_name,
        definitions.description,
        definitions.owner,
        definitions.motion,
        definitions.channel,
        definitions.member_type,
        definitions.required_consent_purpose,
        cast(definitions.holdout_percent as double precision) as holdout_percent,
        cast(definitions.last_reviewed_on as date) as last_reviewed_on,
        case
            when
                cast(definitions.last_reviewed_on as timestamp)
                < {{ as_of_timestamp() }} - interval '{{ var("segment_review_max_age_days") }} days'
                then 'stale'
            else 'current'
        end as review_state,
        coalesce(sizes.member_count, 0) as member_count,
        coalesce(sizes.holdout_count, 0) as holdout_count,
        coalesce(sizes.member_count, 0) - coalesce(sizes.holdout_count, 0) as activated_count,
        coalesce(this_build_changes.entries, 0) as entries_last_build,
        coalesce(this_build_changes.exits, 0) as exits_last_build,
        {{ as_of_timestamp() }} as updated_at,
        {{ build_started_at() }} as built_at
    from definitions
    left join sizes on definitions.segment_id = sizes.segment_id
    left join this_build_changes on definitions.segment_id = this_build_changes.segment_id

)

select * from final
