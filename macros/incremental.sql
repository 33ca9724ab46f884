{#- Incremental classification of raw events (base_tracking__events_classified).

    Raw events are append-only; the collector's received_at tells what is new.
    Rows are kept in buckets of one received day (`received_day`). An incremental
    build looks at the days from `lookback_start_day_text()` (the last received
    day already classified, minus var incremental_lookback_days) on, reclassifies
    every raw row received on or after the first of them that gained raw rows
    (`reprocessed_from` of received_day_ctes) and replaces those whole days
    (delete+insert on received_day), so rows that land late but inside the
    lookback are classified exactly as a full refresh would. Rows whose
    received_at cannot be parsed share one bucket, reclassified at every build.
    A row landing with a received_at older than the lookback is
    not picked up: the row_count_conserved test on raw.events then fails, and
    `dbt build --full-refresh --select base_tracking__events_classified+` repairs it. -#}

{#- The bucket of rows whose received_at is unparseable. -#}
{% macro unparseable_received_day() -%}
    cast('1900-01-01' as date)
{%- endmacro %}

{#- A row's received-day bucket. -#}
{% macro received_day(received_at) -%}
    coalesce(cast({{ received_at }} as date), {{ unparseable_received_day() }})
{%- endmacro %}

{#- The first received day of an incremental build's lookback window, as
    'YYYY-MM-DD' text: the last received day stored in the model's current
    table minus var incremental_lookback_days ('0001-01-01', i.e. every day,
    when the table is empty or the build is not incremental). Runs one query:
    read it once per model (`set from_day_text = lookback_start_day_text()`),
    before any hook deletes those days. -#}
{% macro lookback_start_day_text() -%}
    {%- if execute and is_incremental() -%}
        {%- set found = run_query(lookback_start_day_query(this)) -%}
        {{ return((found.rows[0][0] | string)[:10]) }}
    {%- endif -%}
    {{ return('0001-01-01') }}
{%- endmacro %}

{#- A 'YYYY-MM-DD' text as a date literal. A literal, not a subquery: DuckDB
    pushes filters on a constant into the table scan. -#}
{% macro date_literal(day_text) -%}
    cast('{{ day_text }}' as date)
{%- endmacro %}

{#- False only for raw received_at text that surely falls in a received day
    before `day_text` ('YYYY-MM-DD'), judged without parsing it: text in the
    collector's canonical UTC shape (YYYY-MM-DDTHH:MM:SS.mmmZ, nothing around
    it) with a valid date and time, whose date part is before `day_text`. Such
    text parses to that date on every target (parse_timestamp), so comparing
    the text compares the received day. Everything else is kept for the full
    parse: NULL, other shapes (offsets, whose UTC day may differ from the text's
    date; the space form; lower-case z) and canonical text with an invalid
    date or time (2026-02-30, hour 24), which is unparseable on DuckDB and
    belongs to the unparseable bucket, reclassified at every build. Only years
    from 1901 are dropped (a parsed 1900-01-01 shares the unparseable bucket's
    day), and February 29 is always kept (leap years are not checked here).
    One regular expression over the raw text: about 8x cheaper on DuckDB than
    the shape check and strptime of parse_timestamp. -#}
{% macro may_be_received_from(received_at, day_text) -%}
    {%- set year = '(190[1-9]|19[1-9][0-9]|[2-9][0-9]{3})' -%}
    {%- set month_day = '((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)' -%}
    {%- set time = '([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][.][0-9]{3}' -%}
    (
        {{ received_at }} is null
        or {{ binary_text(received_at) }} >= '{{ day_text }}'
        or not {{ regex_matches(received_at, "'^" ~ year ~ '-' ~ month_day ~ 'T' ~ time ~ "Z$'") }}
    )
{%- endmacro %}

{#- The last received day stored in `relation`, minus var incremental_lookback_days
    (0001-01-01 when it is empty), as a query returning one date. -#}
{% macro lookback_start_day_query(relation) -%}
    select coalesce(
        cast({{ dbt.dateadd('day', -(var('incremental_lookback_days') | int), 'max(received_day)') }} as date),
        cast('0001-01-01' as date)
    )
    from {{ relation }}
    where received_day <> {{ unparseable_received_day() }}
{%- endmacro %}

{#- Rows per received day of `relation` (a relation or CTE name), the day
    given by `day_expression`; only the days from `from_day_text` on when
    given. Columns received_day, row_count. -#}
{% macro day_counts_sql(relation, day_expression, from_day_text=none) -%}
    select {{ day_expression }} as received_day, count(*) as row_count
    from {{ relation }}
    {%- if from_day_text %}
    where {{ day_expression }} >= {{ date_literal(from_day_text) }}
    {%- endif %}
    group by {{ day_expression }}
{%- endmacro %}

{#- The first received day whose row count differs between two day_counts_sql
    queries, as a one-row, one-column query (received_day); 9999-12-31, a day
    after every row, when none differs. Raw tables are append-only, so the
    first day whose count changed is the first day that gained rows. -#}
{% macro first_changed_day_sql(current_counts, stored_counts) -%}
    select coalesce(
        min(coalesce(current_days.received_day, stored_days.received_day)),
        {{ date_literal('9999-12-31') }}
    ) as received_day
    from ({{ current_counts }}) as current_days
    full outer join ({{ stored_counts }}) as stored_days
        on current_days.received_day = stored_days.received_day
    where current_days.row_count is distinct from stored_days.row_count
{%- endmacro %}

{#- The columns received_day_ctes adds to a raw row (also read by the events
    classifier's pass over repeated message ids, which must parse them the
    same way): `raw_row_id` (DuckDB's rowid) when row_ids, and
    `received_at_utc`, the parsed received_at. -#}
{% macro raw_received_columns(row_ids=false) -%}
    {%- if row_ids %}
    rowid as raw_row_id,
    {%- endif %}
    {{ parse_timestamp('received_at') }} as received_at_utc
{%- endmacro %}

{#- The CTEs every incrementally classified raw table starts with, each
    followed by a comma:
    - `source`: the raw rows (an incremental build: only those that
      `may_be_received_from` the first day of the lookback window, in a
      materialized CTE so that DuckDB applies that test in the scan and reads
      the other columns of the kept rows only) with `received_at_utc`, the
      parsed received_at, and with `row_ids` (a DuckDB full refresh from a
      table only: rank_copies_apart) `raw_row_id`, DuckDB's rowid;
    - `reprocessed_from` (incremental builds only): the first received day of
      the window whose raw row count differs from the stored one, i.e. the
      first day that gained raw rows since the last build (raw tables are
      append-only); a day after every row when none did. The days of the
      window before it are left as they are: a row landing later cannot
      change how an earlier-received row is classified (a copy received
      later is the duplicate);
    - `received`: those rows with their `received_day` (an incremental build:
      only the days from `reprocessed_from` on and the unparseable bucket);
    - `accepted_earlier` (incremental builds only): the message_ids accepted
      in the days before (not in the unparseable bucket's, reclassified with
      them), for quarantine_ctes (a new copy of one of them is a duplicate, as
      in a full refresh). -#}
{% macro received_day_ctes(raw_relation, from_day_text, row_ids=false) -%}
{%- if is_incremental() %}
raw_rows as materialized (

    select * from {{ raw_relation }}
    where {{ may_be_received_from('received_at', from_day_text) }}

),
{%- endif %}

source as not materialized (

    select
        *,
        {{ raw_received_columns(row_ids) }}
    from {{ 'raw_rows' if is_incremental() else raw_relation }}

),

{%- if is_incremental() %}

reprocessed_from as (

    {{ first_changed_day_sql(
        day_counts_sql('source', received_day('received_at_utc'), from_day_text),
        day_counts_sql(this, 'received_day', from_day_text)
    ) }}

),
{%- endif %}

received as not materialized (

    select
        *,
        {{ received_day('received_at_utc') }} as received_day
    from source
    {%- if is_incremental() %}
    where
        {{ received_day('received_at_utc') }} >= (select received_day from reprocessed_from)
        or {{ received_day('received_at_utc') }} = {{ unparseable_received_day() }}
    {%- endif %}

),
{%- if is_incremental() %}

accepted_earlier as (

    -- The days before the window apart (a constant bound: DuckDB prunes
    -- and joins that scan far better). Not the unparseable bucket's day: it
    -- is reclassified with the new rows, and its stored rows are not copies
    -- of themselves.
    select message_id from {{ this }}
    where
        received_day < {{ date_literal(from_day_text) }}
        and received_day <> {{ unparseable_received_day() }}
        and failed_rule is null
    union all
    select message_id from {{ this }}
    where
        received_day >= {{ date_literal(from_day_text) }}
        and received_day < (select received_day from reprocessed_from)
        and failed_rule is null

),
{%- endif %}
{%- endmacro %}

{#- A short fingerprint of everything the stored classification depends on
    besides the raw row (rules, seeds, vars). -#}
{% macro classification_version(parts) -%}
    {%- set plain = [] -%}
    {%- for part in parts -%}
        {%- if part is iterable and part is not string -%}
            {%- for item in part -%}
                {%- do plain.append(item | list if item is iterable and item is not string else item) -%}
            {%- endfor -%}
        {%- else -%}
            {%- do plain.append(part) -%}
        {%- endif -%}
        {%- do plain.append('|') -%}
    {%- endfor -%}
    {{ return(local_md5(plain | tojson)[:12]) }}
{%- endmacro %}

{#- classification_version(parts), once the stored rows are known to be
    classified under it (assert_classification_version). -#}
{% macro checked_classification_version(parts) -%}
    {%- set version = classification_version(parts) -%}
    {%- do assert_classification_version(version) -%}
    {{ return(version) }}
{%- endmacro %}

{#- Stops an incremental build whose stored rows were classified under other
    rules (a changed taxonomy, alias, bot pattern or placeholder list) or stored
    in another representation (raw_text_representation): mixing them would make
    the table disagree with a full refresh. -#}
{% macro assert_classification_version(version) -%}
    {%- if execute and is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'classification_version' not in columns -%}
            {{ exceptions.raise_compiler_error(
                this ~ ' predates incremental classification. Rebuild it with'
                ~ ' `dbt build --full-refresh --select ' ~ this.identifier ~ '+`.'
            ) }}
        {%- endif -%}
        {%- set found = run_query(
            'select distinct classification_version from ' ~ this
            ~ " where classification_version <> '" ~ version ~ "'"
        ) -%}
        {%- if found.rows | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                this ~ ' was classified under other rules (version '
                ~ found.rows[0][0] ~ ', now ' ~ version ~ '): the taxonomy, aliases, bot patterns,'
                ~ ' placeholder identifiers or the way raw text or columns are stored changed. Rebuild it with'
                ~ ' `dbt build --full-refresh --select ' ~ this.identifier ~ '+`.'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The reason an event is quarantined, as of the build: the stored,
    as_of-independent reason, with outside_retention (which moves with as_of)
    placed in its rule order, after the timestamp rules. -#}
{% macro event_rejection_reason(stored_reason, occurred_at) -%}
    {{ first_failing_rule_as_of(
        stored_reason,
        [('missing_message_id', none)] + timestamp_rules()
        + [('outside_retention', occurred_at ~ ' < ' ~ retention_start())],
        ['outside_retention'],
    ) }}
{%- endmacro %}

{#- The oldest occurred_at kept: var retention_days before as_of. -#}
{% macro retention_start() -%}
    {{ dbt.dateadd('day', -var('retention_days'), as_of_timestamp()) }}
{%- endmacro %}
