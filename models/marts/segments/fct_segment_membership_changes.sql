-- Append-only log of membership changes: each build compares the current
-- members with the state the log itself records (latest change per
-- membership_id) and appends an `entered` row per new member and an `exited`
-- row per member gone, so an unchanged rebuild appends nothing.
-- Right to delete: the post-hook removes every row of deleted persons; the
-- exit written for a deleted member is a tombstone without member_id (only the
-- opaque membership_id the destinations already hold, so they can delete too).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} where member_type = 'person' and member_id in "
            ~ "(select person_id from {{ ref('int_deleted_persons') }})",
        ],
    )
}}

with

current_members as (

    select * from {{ ref('int_segment_members_consented') }}

),

qualified as (

    select * from {{ ref('int_segment_members_qualified') }}

),

deleted as (

    select * from {{ ref('int_deleted_persons') }}

),

history as (

    {% if is_incremental() %}
        select
            membership_id,
            segment_id,
            member_type,
            member_id,
            change_type,
            change_sequence,
            is_holdout
        from {{ this }}
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as membership_id,
            cast(null as {{ dbt.type_string() }}) as segment_id,
            cast(null as {{ dbt.type_string() }}) as member_type,
            cast(null as {{ dbt.type_string() }}) as member_id,
            cast(null as {{ dbt.type_string() }}) as change_type,
            cast(null as bigint) as change_sequence,
            cast(null as boolean) as is_holdout
        where false
    {% endif %}

),

latest_changes as (

    select *
    from (
        select
            *,
            row_number() over (partition by membership_id order by change_sequence desc) as recency_rank
        from history
    ) as ranked
    where recency_rank = 1

),

entries as (

    select
        current_members.membership_id,
        current_members.segment_id,
        current_members.member_type,
        current_members.member_id,
        'entered' as change_type,
        'rule_met' as reason,
        current_members.member_score,
        current_members.is_holdout,
        coalesce(latest_changes.change_sequence, 0) + 1 as change_sequence
    from current_members
    left join latest_changes on current_members.membership_id = latest_changes.membership_id
    where latest_changes.membership_id is null or latest_changes.change_type = 'exited'

),

exits as (

    select
        latest_changes.membership_id,
        latest_changes.segment_id,
        latest_changes.member_type,
        case when deleted.person_id is null then latest_changes.member_id end as member_id,
        'exited' as change_type,
        case
            when deleted.person_id is not null then 'deleted_person'
            when qualified.member_id is not null then 'consent_withdrawn'
            else 'rule_no_longer_met'
        end as reason,
        cast(null as double precision) as member_score,
        latest_changes.is_holdout,
        latest_changes.change_sequence + 1 as change_sequence
    from latest_changes
    left join current_members on latest_changes.membership_id = current_members.membership_id
    left join qualified
        on
            latest_changes.segment_id = qualified.segment_id
            and latest_changes.member_id = qualified.member_id
    -- member_type inside the join key: see int_segment_members_consented.
    left join deleted
        on case when latest_changes.member_type = 'person' then latest_changes.member_id end = deleted.person_id
    where
        latest_changes.change_type = 'entered'
        and current_members.membership_id is null

),

changes as (

    select * from entries
    union all
    select * from exits

),

final as (

    select
        {{ md5_key(['membership_id', 'change_sequence']) }} as change_id,
        membership_id,
        segment_id,
        member_type,
        member_id,
        change_type,
        reason,
        member_score,
        is_holdout,
        cast(change_sequence as bigint) as change_sequence,
        {{ as_of_timestamp() }} as changed_at,
        {{ build_started_at() }} as recorded_at
    from changes

)

select * from final
