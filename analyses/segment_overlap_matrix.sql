-- How much segments of the same member type overlap: for each ordered pair of
-- segments, shared current members, the share of the row segment they make up,
-- and the Jaccard index. High overlap means two motions target the same people.
with

membership as (

    select * from {{ ref('fct_segment_membership') }}

),

sizes as (

    select
        segment_id,
        count(*) as members
    from membership
    group by segment_id

),

pairs as (

    select
        left_side.segment_id,
        right_side.segment_id as other_segment_id,
        count(*) as shared_members
    from membership as left_side
    inner join membership as right_side
        on
            left_side.member_type = right_side.member_type
            and left_side.member_id = right_side.member_id
    group by left_side.segment_id, right_side.segment_id

),

final as (

    select
        pairs.segment_id,
        pairs.other_segment_id,
        pairs.shared_members,
        1.0 * pairs.shared_members / segment_sizes.members as share_of_segment,
        1.0 * pairs.shared_members
        / (segment_sizes.members + other_sizes.members - pairs.shared_members) as jaccard_index
    from pairs
    inner join sizes as segment_sizes on pairs.segment_id = segment_sizes.segment_id
    inner join sizes as other_sizes on pairs.other_segment_id = other_sizes.segment_id
    order by pairs.segment_id, pairs.other_segment_id

)

select * from final
