-- Current segment members, one row per membership_id = md5(segment_id|member_id).
-- entered_at comes from the changes log (the entry that opened the current
-- stay), so it survives rebuilds.
with

current_members as (

    select * from {{ ref('int_segment_members_consented') }}

),

changes as (

    select * from {{ ref('fct_segment_membership_changes') }}

),

stays as (

    select
        membership_id,
        changed_at as entered_at,
        row_number() over (partition by membership_id order by change_sequence desc) as entry_rank
    from changes
    where change_type = 'entered'

),

final as (

    select
        current_members.membership_id,
        current_members.segment_id,
        current_members.member_type,
        current_members.member_id,
        coalesce(stays.entered_at, {{ as_of_timestamp() }}) as entered_at,
        current_members.member_score,
        current_members.reason,
        current_members.is_holdout,
        {{ as_of_timestamp() }} as updated_at
    from current_members
    left join stays on current_members.membership_id = stays.membership_id and stays.entry_rank = 1

)

select * from final
