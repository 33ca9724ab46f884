-- The log's state (memberships whose latest change is `entered`) is exactly the
-- current membership: a sync that applies every change ends up with the table.
with

changes as (

    select * from {{ ref('fct_segment_membership_changes') }}

),

membership as (

    select * from {{ ref('fct_segment_membership') }}

),

latest as (

    select
        membership_id,
        change_type,
        row_number() over (partition by membership_id order by change_sequence desc) as recency_rank
    from changes

),

log_members as (

    select membership_id from latest
    where recency_rank = 1 and change_type = 'entered'

),

final as (

    select
        coalesce(log_members.membership_id, membership.membership_id) as membership_id,
        case when membership.membership_id is null then 'in log only' else 'in membership only' end as problem
    from log_members
    full outer join membership on log_members.membership_id = membership.membership_id
    where log_members.membership_id is null or membership.membership_id is null

)

select * from final
