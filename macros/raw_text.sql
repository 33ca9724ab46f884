{#- Raw text kept for the rejected views, stored only where the parsed value
    does not give it back.

    The classified tables keep, next to each parsed column, the text the
    collector sent, so that the rejected views show a row exactly as it arrived.
    Most raw values are already what their parsed value renders to (an id
    without padding, a lower-case email, a timestamp in the collector's shape),
    so a raw column stores NULL there and the text otherwise:

        stored        = NULL when reconstructed(parsed) is not distinct from raw, else raw
        raw (rebuilt) = coalesce(stored, reconstructed(parsed))

    which gives back the raw text exactly, NULL, empty and padded values
    included, on one condition: a NULL raw value must parse to NULL (every parse
    here does: trim, lower, upper, the taxonomy join, parse_timestamp).
    One pair of macros per kind of column; `stored_*` when the table is built,
    `reconstructed_*` in the views that show raw text. -#}

{#- Text whose parsed value is the raw text in the common case (trimmed,
    case-folded, normalized, or mapped through the taxonomy): rebuilt as the
    parsed value itself. nullif(raw, parsed) is the rule above: NULL when equal,
    NULL when raw is NULL, raw otherwise (also when parsed is NULL). -#}
{% macro stored_raw_text(raw, parsed) -%}
    nullif({{ raw }}, {{ parsed }})
{%- endmacro %}

{% macro reconstructed_raw_text(stored, parsed) -%}
    coalesce({{ stored }}, {{ parsed }})
{%- endmacro %}

{#- Timestamp text: rebuilt from the parsed UTC timestamp in ISO-8601 with a
    `Z` (timestamp_text); offsets, other separators, other fractions or
    unparseable text are stored. -#}
{% macro stored_raw_timestamp(raw, parsed) -%}
    {{ stored_raw_text(raw, timestamp_text(parsed)) }}
{%- endmacro %}

{% macro reconstructed_raw_timestamp(stored, parsed) -%}
    {{ reconstructed_raw_text(stored, timestamp_text(parsed)) }}
{%- endmacro %}

{#- A UTC timestamp as ISO-8601 text the way the collectors write it:
    `YYYY-MM-DDTHH:MM:SS.mmmZ` (the collector's received_at, JavaScript's
    toISOString), or `YYYY-MM-DDTHH:MM:SSZ` for a whole second (the most common
    client occurred_at). A fraction finer than milliseconds, or `.000`, does not
    come back: such text is stored. -#}
{% macro timestamp_text(expression) -%}
    case
        when date_trunc('second', {{ expression }}) = {{ expression }}
            then {{ iso_utc_text(expression, milliseconds=false) }}
        else {{ iso_utc_text(expression, milliseconds=true) }}
    end
{%- endmacro %}

{#- `YYYY-MM-DDTHH:MM:SS[.mmm]Z` of a UTC timestamp (milliseconds truncated). -#}
{% macro iso_utc_text(expression, milliseconds) -%}
    {{ return(adapter.dispatch('iso_utc_text', 'behavioral_segmentation')(expression, milliseconds)) }}
{%- endmacro %}

{% macro default__iso_utc_text(expression, milliseconds) -%}
    strftime({{ expression }}, '%Y-%m-%dT%H:%M:%S{{ ".%g" if milliseconds }}Z')
{%- endmacro %}

{% macro postgres__iso_utc_text(expression, milliseconds) -%}
    to_char({{ expression }}, 'YYYY-MM-DD"T"HH24:MI:SS{{ ".MS" if milliseconds }}"Z"')
{%- endmacro %}

{#- A tag of how the raw text is stored, part of the classification version of
    the incremental table that stores it: a table written under another
    representation stops an incremental build (asks for a full refresh)
    instead of mixing the two. -#}
{% macro raw_text_representation() -%}
    {{ return('raw text: NULL where timestamp_text or the parsed value gives it back') }}
{%- endmacro %}
