{#- Consent and privacy building blocks shared by the consent, events and privacy models. -#}

{#- Start of time for consent intervals: a person's first interval (the regional
    default) is valid from here. Intervals are half-open [valid_from, valid_to);
    the last one has valid_to NULL (open-ended). -#}
{% macro consent_epoch() -%}
    cast('1970-01-01 00:00:00' as timestamp)
{%- endmacro %}

{#- True when `ts` lies in the half-open interval [valid_from, valid_to) of the
    relation alias `interval_alias` (valid_to NULL = open-ended). No OR in the
    condition: with `or valid_to is null` DuckDB cannot hash-join on person_id
    and falls back to a nested-loop join (int_events_resolved: 6 s -> minutes at 1M). -#}
{% macro in_consent_interval(ts, interval_alias) -%}
    ({{ ts }} >= {{ interval_alias }}.valid_from
        and {{ ts }} < coalesce({{ interval_alias }}.valid_to, cast('infinity' as timestamp)))
{%- endmacro %}

{#- Rank of a consent status when several events of one person and purpose share
    a timestamp: the most restrictive wins (withdrawn, then denied, then granted). -#}
{% macro consent_status_rank(status) -%}
    case {{ status }} when 'withdrawn' then 1 when 'denied' then 2 when 'granted' then 3 else 4 end
{%- endmacro %}

{#- Left joins of the identity map onto the row alias `row_alias`, which carries
    user_id, email and anonymous_id; use with resolved_person_id(). -#}
{% macro join_person_identifiers(row_alias) -%}
    left join {{ ref('int_person_identifiers') }} as by_user_id
        on by_user_id.identifier_type = 'user_id'
        and {{ row_alias }}.user_id = by_user_id.identifier_value
    left join {{ ref('int_person_identifiers') }} as by_email
        on by_email.identifier_type = 'email'
        and {{ row_alias }}.email = by_email.identifier_value
    left join {{ ref('int_person_identifiers') }} as by_anonymous_id
        on by_anonymous_id.identifier_type = 'anonymous_id'
        and {{ row_alias }}.anonymous_id = by_anonymous_id.identifier_value
{%- endmacro %}

{#- The person of a row joined with join_person_identifiers(): through its
    user_id, else its email, else its anonymous_id (the identity map assigns
    each identifier to one person; the strongest identifier decides). -#}
{% macro resolved_person_id() -%}
    coalesce(by_user_id.person_id, by_email.person_id, by_anonymous_id.person_id)
{%- endmacro %}

{#- Right to delete: a condition that is true when the person in `person_id_column`
    has NOT asked to be deleted. Every model after staging that is keyed by, or
    carries, a person uses it (or anti-joins int_deleted_persons itself).
    Pass a QUALIFIED column (`persons.person_id`): a bare name would bind to
    the subquery's own person_id. -#}
{% macro is_not_deleted_person(person_id_column) -%}
    not exists (
        select 1
        from {{ ref('int_deleted_persons') }} as deleted_persons
        where deleted_persons.person_id = {{ person_id_column }}
    )
{%- endmacro %}

{#- Rows of literal text values in one column (optionally with their 1-based
    position in `position_column`), joined with union all: a small inline table. -#}
{% macro literal_rows(column_name, values, position_column=none) -%}
    {%- for value in values %}
    select '{{ value }}' as {{ column_name }}{% if position_column %}, {{ loop.index }} as {{ position_column }}{% endif %}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Why an accepted event of int_events_resolved is kept out of fct_events:
    ordered (reason, condition) pairs, first matching wins (as in staging). -#}
{% macro event_exclusion_rules() -%}
    {{ return([
        ('unresolved', 'person_id is null'),
        ('deleted_person', 'is_deleted_person'),
        ('outside_retention', 'occurred_at < ' ~ retention_start()),
        ('after_as_of', 'occurred_at > ' ~ as_of_timestamp()),
        ('no_analytics_consent', 'not has_analytics_consent'),
        ('no_purpose_consent', 'not has_purpose_consent'),
    ]) }}
{%- endmacro %}

{#- The exclusion reasons that move with as_of: int_events_resolved_stored does
    not store them, int_events_resolved adds them. -#}
{% macro as_of_exclusion_reasons() -%}
    {{ return(['outside_retention', 'after_as_of']) }}
{%- endmacro %}

{#- The rules int_events_resolved_stored applies: those that do not move with as_of. -#}
{% macro stored_exclusion_rules() -%}
    {%- set rules = [] -%}
    {%- for rule in event_exclusion_rules() if rule[0] not in as_of_exclusion_reasons() -%}
        {%- do rules.append(rule) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}

{#- The reason as of the build from the stored, as_of-independent one. -#}
{% macro event_exclusion_reason(stored_reason) -%}
    {{ first_failing_rule_as_of(stored_reason, event_exclusion_rules(), as_of_exclusion_reasons()) }}
{%- endmacro %}
