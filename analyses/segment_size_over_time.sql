-- Segment size after each build, replayed from the append-only changes log:
-- running sum of entries minus exits per segment, by the build's as_of
-- (changed_at). Deleted persons' rows are gone from the log, so sizes before
-- a deletion are slightly understated: the right to delete wins over history.
with

changes as (

    select * from {{ ref('fct_segment_membership_changes') }}

),

per_build as (

    select
        segment_id,
        changed_at,
        sum(case when change_type = 'entered' then 1 else 0 end) as entries,
        sum(case when change_type = 'exited' then 1 else 0 end) as exits
    from changes
    group by segment_id, changed_at

),

final as (

    select
        segment_id,
        changed_at,
        entries,
        exits,
        sum(entries - exits) over (
            partition by segment_id order by changed_at rows between unbounded preceding and current row
        ) as members_after_build
    from per_build
    order by segment_id, changed_at

)

select * from final
