-- Hand-written baseline for `segmentation bench`: the pipeline's core work on
-- the raw events in one plain DuckDB script, no dbt, no tests, no quarantine
-- bookkeeping. It is the yardstick the dbt build is compared with, so it does
-- the same kind of work and writes its results as tables, like the models do:
--   1. alias mapping of raw event names to canonical names (taxonomy seed),
--   2. timestamp parsing, placeholder identifiers, the cheap validity rules
--      (unparseable / future / outside retention / unknown event / no identifier),
--   3. dedupe on message_id (earliest received copy wins),
--   4. one-hop identity: an anonymous_id belongs to the user_id it was most
--      recently seen with (events and identifies),
--   5. decayed sums per person (total and per score category),
--   6. two segment rules.
-- Not done (the dbt project does them): required properties, bot filtering,
-- email and CRM identity, multi-hop merging, consent, deletion, accounts.
--
-- Needs raw.events, raw.identifies and reference.event_taxonomy, and the build
-- time as a variable:
--   set variable as_of = timestamp '2026-06-01 00:00:00';

-- Timestamps without an offset are UTC (as in staging).
set timezone = 'UTC';

create schema if not exists bench_baseline;

create or replace table bench_baseline.event_names as
with

taxonomy as (
    select
        event_name,
        score_category,
        cast(weight as double) as weight,
        cast(half_life_days as double) as half_life_days,
        string_split(coalesce(aliases, ''), '|') || [event_name] as names
    from reference.event_taxonomy
),

names as (
    select
        lower(trim(unnest(names))) as name,
        event_name,
        score_category,
        weight,
        half_life_days
    from taxonomy
)

select distinct * from names
where name <> '';

create or replace table bench_baseline.events as
with

parsed as (
    select
        trim(e.message_id) as message_id,
        n.event_name,
        n.score_category,
        n.weight,
        n.half_life_days,
        case
            when lower(trim(e.anonymous_id)) in (
                '', 'null', 'none', 'undefined', 'anonymous', 'nil', 'nan', '-1', 'unknown'
            ) or regexp_full_match(trim(e.anonymous_id), '[0-]+') then null
            else trim(e.anonymous_id)
        end as anonymous_id,
        case
            when lower(trim(e.user_id)) in (
                '', 'null', 'none', 'undefined', 'anonymous', 'nil', 'nan', '-1', 'unknown'
            ) or regexp_full_match(trim(e.user_id), '[0-]+') then null
            else trim(e.user_id)
        end as user_id,
        case
            when regexp_full_match(lower(trim(e.email)), '[^@\s]+@[^@\s]+[.][^@\s]+')
                then lower(trim(e.email))
        end as email,
        timezone('UTC', try_cast(trim(e.occurred_at) as timestamptz)) as occurred_at,
        timezone('UTC', try_cast(trim(e.received_at) as timestamptz)) as received_at
    from raw.events as e
    inner join bench_baseline.event_names as n
        on lower(trim(e.event)) = n.name
),

valid as (
    select * from parsed
    where
        message_id <> ''
        and occurred_at is not null
        and received_at is not null
        and occurred_at <= received_at + interval 10 minute
        and occurred_at >= getvariable('as_of') - interval 395 day
        and (anonymous_id is not null or user_id is not null or email is not null)
)

select * from valid
qualify row_number() over (partition by message_id order by received_at) = 1;

create or replace table bench_baseline.anonymous_users as
with

pairs as (
    select anonymous_id, user_id, occurred_at
    from bench_baseline.events
    where anonymous_id is not null and user_id is not null
    union all
    select
        nullif(trim(anonymous_id), ''),
        nullif(trim(user_id), ''),
        timezone('UTC', try_cast(trim(occurred_at) as timestamptz))
    from raw.identifies
)

select
    anonymous_id,
    arg_max(user_id, occurred_at) as user_id
from pairs
where anonymous_id is not null and user_id is not null and occurred_at is not null
group by anonymous_id;

create or replace table bench_baseline.person_scores as
with

scored as (
    select
        coalesce(e.user_id, a.user_id, e.anonymous_id, e.email) as person_key,
        e.score_category,
        e.occurred_at,
        e.weight * pow(
            0.5,
            (epoch(getvariable('as_of')) - epoch(e.occurred_at)) / 86400.0 / e.half_life_days
        ) as score
    from bench_baseline.events as e
    left join bench_baseline.anonymous_users as a
        on e.anonymous_id = a.anonymous_id
)

select
    person_key,
    count(*) as n_events,
    max(occurred_at) as last_seen_at,
    sum(score) as score_total,
    coalesce(sum(score) filter (where score_category = 'engagement'), 0) as score_engagement,
    coalesce(sum(score) filter (where score_category = 'intent'), 0) as score_intent,
    coalesce(sum(score) filter (where score_category = 'product'), 0) as score_product
from scored
group by person_key;

create or replace table bench_baseline.segment_membership as
select
    'high_intent' as segment_id,
    person_key,
    score_intent as score
from bench_baseline.person_scores
where score_intent >= 10
union all
select
    'active_product_users' as segment_id,
    person_key,
    score_product as score
from bench_baseline.person_scores
where score_product >= 5 and last_seen_at >= getvariable('as_of') - interval 14 day;
