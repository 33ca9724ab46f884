"""Load a landing directory (DESIGN.md section 2) into the target's `raw` schema.

Layout: `<dir>/<table>/*.parquet` and/or `<dir>/<table>/*.csv` for the 7 tables of
`CONTRACT`; several files per table, formats may be mixed. Folders starting with
`_` (ground truth) and columns outside the contract are ignored.

Every raw column is nullable VARCHAR/text, whatever the file's type: raw is what
the collector sent, and staging owns every cast (so a bad value is quarantined
by staging instead of failing the load). Non-string Parquet columns are cast to
text (nested ones as JSON text). In CSV an empty field is NULL (quoted or not),
on both targets.

Everything is validated before the warehouse is touched (table folders, data
files, contract columns, readable Parquet footers and CSV headers); then all
tables are loaded in ONE transaction, so a file that fails half-way (a corrupt
Parquet page, a broken CSV row) rolls everything back and the previous raw data
stays as it was. Bulk paths only: DuckDB reads the files itself; PostgreSQL gets
each file streamed as CSV through `COPY ... FROM STDIN` in Arrow record batches
(memory bounded by the batch size, not the file size)."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmentation import warehouse
from segmentation.contract import RAW_TABLES

CONTRACT = RAW_TABLES

DATA_SUFFIXES = (".parquet", ".csv")
# Rows per Arrow batch streamed to PostgreSQL: ~20-50 MB of CSV for events.
PG_BATCH_ROWS = 100_000


class LoadError(Exception):
    """The landing directory cannot be loaded; the message names the file and the problem."""


@dataclass(frozen=True)
class DataFile:
    path: Path
    format: str  # "parquet" | "csv"
    columns: tuple[str, ...]  # all columns in the file, in file order
    nested: frozenset[str] = frozenset()  # Parquet contract columns of nested type


# ---------------------------------------------------------------- validation


def _inspect(path: Path) -> DataFile:
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: empty file (no Parquet footer / no CSV header)")
    if path.suffix == ".parquet":
        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            raise LoadError(f"{path}: unreadable Parquet file ({exc})") from exc
        nested = frozenset(f.name for f in schema if pa.types.is_nested(f.type))
        return DataFile(path, "parquet", tuple(schema.names), nested)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LoadError(f"{path}: unreadable CSV header ({exc})") from exc
    if not header:
        raise LoadError(f"{path}: CSV file without a header row")
    return DataFile(path, "csv", tuple(h.strip() for h in header))


def validate(landing_dir: str | Path, *, append: bool = False) -> dict[str, list[DataFile]]:
    """Check the whole landing directory; return the data files per contract table.
    With `append`, table folders may be absent (those tables get no new rows), but
    at least one must be there."""
    root = Path(landing_dir)
    if not root.is_dir():
        raise LoadError(f"{root}: landing directory does not exist")
    plan: dict[str, list[DataFile]] = {}
    for table, columns in CONTRACT.items():
        folder = root / table
        if not folder.is_dir():
            if append:
                continue
            raise LoadError(f"{folder}: table folder for {table!r} is missing")
        paths = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
        )
        if not paths:
            raise LoadError(f"{folder}: no data files (*.parquet or *.csv) for table {table!r}")
        files = []
        for path in paths:
            info = _inspect(path)
            missing = [c for c in columns if c not in info.columns]
            if missing:
                raise LoadError(
                    f"{path}: missing contract column(s) {', '.join(missing)} of table {table!r}"
                )
            dupes = sorted({c for c in columns if info.columns.count(c) > 1})
            if dupes:
                raise LoadError(f"{path}: duplicate column(s) {', '.join(dupes)}")
            files.append(info)
        plan[table] = files
    if not plan:
        raise LoadError(f"{root}: no table folder of the raw contract ({', '.join(CONTRACT)})")
    return plan


# ---------------------------------------------------------------- DuckDB


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_groups(files: list[DataFile]) -> list[list[DataFile]]:
    """Files one read_parquet/read_csv call can take together (one scan over a
    file list is much faster than one insert per file)."""
    groups: dict[tuple, list[DataFile]] = {}
    for f in files:
        key = (f.format, f.columns if f.format == "csv" else f.nested)
        groups.setdefault(key, []).append(f)
    return list(groups.values())


def _duckdb_source(group: list[DataFile], columns: tuple[str, ...]) -> tuple[str, list]:
    f, paths = group[0], [str(g.path) for g in group]
    if f.format == "parquet":
        exprs = [
            f"to_json({_q(c)})::varchar as {_q(c)}" if c in f.nested else f"{_q(c)}::varchar"
            for c in columns
        ]
        return f"select {', '.join(exprs)} from read_parquet(?, union_by_name = true)", [paths]
    # Same header in every file of the group: explicit all-VARCHAR columns and
    # dialect, no sniffing, nothing converted.
    spec = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in f.columns)
    sql = (
        f"select {', '.join(_q(c) for c in columns)} from read_csv(?, header = true, "
        f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = {{{spec}}})"
    )
    return sql, [paths]


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _GroupFailed(Exception):
    def __init__(self, group: list[DataFile], error: Exception):
        super().__init__(str(error))
        self.group, self.error = group, error


def _culprit(con, group: list[DataFile], columns: tuple[str, ...], error: Exception) -> LoadError:
    """Name the file of a failed multi-file read: the one DuckDB's message names,
    else the first that fails on its own."""
    message = " ".join(str(error).split())
    named = [f for f in group if str(f.path) in str(error)]
    if not named:
        for f in group:
            sql, params = _duckdb_source([f], columns)
            try:
                con.execute(f"select count(*) from ({sql})", params).fetchall()
            except Exception as exc:
                named, message = [f], " ".join(str(exc).split())
                break
    where = str(named[0].path) if named else ", ".join(str(f.path) for f in group)
    return LoadError(f"{where}: cannot be read ({message})")


def _load_duckdb(cfg, plan: dict[str, list[DataFile]], schema: str, append: bool) -> dict[str, int]:
    con = warehouse.connect(cfg.name)
    try:
        # Raw rows have no meaningful order (staging breaks ties on content), and
        # not keeping file order lets DuckDB write in parallel.
        con.execute("set preserve_insertion_order = false")
        counts: dict[str, int] = {}
        con.execute("begin transaction")
        try:
            con.execute(f"create schema if not exists {_q(schema)}")
            for table, files in plan.items():
                columns = CONTRACT[table]
                target = f"{_q(schema)}.{_q(table)}"
                cols = ", ".join(f"{_q(c)} varchar" for c in columns)
                existing = tuple(
                    r[0]
                    for r in con.execute(
                        "select column_name from information_schema.columns where"
                        " table_schema = ? and table_name = ? order by ordinal_position",
                        [schema, table],
                    ).fetchall()
                )
                if not append:
                    con.execute(f"create or replace table {target} ({cols})")
                elif not existing:
                    con.execute(f"create table {target} ({cols})")
                elif existing != columns:
                    raise LoadError(_append_mismatch(target, existing, columns))
                total = 0
                for group in _duckdb_groups(files):
                    sql, params = _duckdb_source(group, columns)
                    try:
                        total += con.execute(f"insert into {target} {sql}", params).fetchone()[0]
                    except Exception as exc:
                        raise _GroupFailed(group, exc) from exc
                counts[table] = total
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        return counts
    except _GroupFailed as failed:
        table_columns = next(CONTRACT[t] for t, fs in plan.items() if failed.group[0] in fs)
        raise _culprit(con, failed.group, table_columns, failed.error) from failed.error
    finally:
        con.close()


# ---------------------------------------------------------------- PostgreSQL


def _arrow_batches(f: DataFile, columns: tuple[str, ...]):
    if f.format == "parquet":
        yield from pq.ParquetFile(f.path).iter_batches(batch_size=PG_BATCH_ROWS, columns=columns)
        return
    reader = pacsv.open_csv(
        f.path,
        # Names from the validated header, so both targets see the same columns.
        read_options=pacsv.ReadOptions(
            column_names=list(f.columns), skip_rows=1, block_size=16 << 20
        ),
        parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in f.columns},
            include_columns=list(columns),
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    yield from reader


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type):
        return array
    if pa.types.is_nested(array.type):
        import json

        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
            pa.string(),
        )
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return pc.cast(array, pa.string())


class _CsvStream(io.RawIOBase):
    """Read-only file object over the CSV rendering of a file's record batches,
    for psycopg2's copy_expert: one batch in memory at a time."""

    def __init__(self, f: DataFile, columns: tuple[str, ...]):
        self._batches = _arrow_batches(f, columns)
        self._columns = columns
        self._buffer = memoryview(b"")
        self.rows = 0

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bool:
        batch = next(self._batches, None)
        if batch is None:
            return False
        table = pa.Table.from_arrays(
            [_as_text(batch.column(c)) for c in self._columns], names=list(self._columns)
        )
        sink = io.BytesIO()
        # Strings are always quoted, NULL is an empty unquoted field: exactly how
        # COPY ... (format csv) tells NULL from ''.
        pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=False))
        self._buffer = memoryview(sink.getvalue())
        self.rows += batch.num_rows
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            if not self._next_chunk():
                return b""
        if size is None or size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out.tobytes()


def _append_mismatch(target: str, existing: tuple[str, ...], columns: tuple[str, ...]) -> str:
    return (
        f"{target} has columns ({', '.join(existing)}), not the contract's"
        f" ({', '.join(columns)}): cannot append; load without --append to replace it"
    )


def _load_postgres(
    cfg, plan: dict[str, list[DataFile]], schema: str, append: bool
) -> dict[str, int]:
    import psycopg2

    con = warehouse.connect(cfg.name)
    try:
        counts: dict[str, int] = {}
        with con:  # one transaction: commit on success, rollback on any error
            cur = con.cursor()
            cur.execute(f"create schema if not exists {_q(schema)}")
            for table, files in plan.items():
                columns = CONTRACT[table]
                target = f"{_q(schema)}.{_q(table)}"
                cur.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, table),
                )
                existing = tuple(r[0] for r in cur.fetchall())
                if append and existing and existing != columns:
                    raise LoadError(_append_mismatch(target, existing, columns))
                if append and existing:
                    pass  # new rows go after the old ones
                elif existing == columns:
                    # Keeps dependent views (staging) valid; truncate is transactional.
                    cur.execute(f"truncate table {target}")
                else:
                    if existing:
                        cur.execute(f"drop table {target} cascade")
                    cols = ", ".join(f"{_q(c)} text" for c in columns)
                    cur.execute(f"create table {target} ({cols})")
                collist = ", ".join(_q(c) for c in columns)
                # FREEZE: the table was created or truncated in this transaction.
                freeze = "" if append and existing else ", freeze"
                copy_sql = f"copy {target} ({collist}) from stdin with (format csv{freeze})"
                total = 0
                for f in files:
                    stream = _CsvStream(f, columns)
                    try:
                        cur.copy_expert(copy_sql, stream, size=1 << 20)
                    except (psycopg2.Error, pa.ArrowException, OSError) as exc:
                        msg = str(exc).strip().splitlines()
                        raise LoadError(f"{f.path}: cannot be loaded ({' '.join(msg)})") from exc
                    total += stream.rows
                counts[table] = total
                cur.execute(f"analyze {target}")
        return counts
    finally:
        con.close()


# ---------------------------------------------------------------- entry point


def load(
    landing_dir: str | Path,
    target: str | None = None,
    *,
    schema: str = "raw",
    append: bool = False,
) -> dict:
    """Replace the raw tables of `target` (default: the profile's) with the landing
    directory's data, or with `append` add its rows to them (raw is append-only
    for incremental builds; absent table folders add nothing); return {table: rows
    loaded}. Raises LoadError, leaving the previous raw data untouched, when
    anything is wrong with the input."""
    started = time.perf_counter()
    plan = validate(landing_dir, append=append)
    cfg = warehouse.target_config(target)
    if cfg.type == "duckdb":
        counts = _load_duckdb(cfg, plan, schema, append)
    elif cfg.type == "postgres":
        counts = _load_postgres(cfg, plan, schema, append)
    else:
        raise LoadError(f"target {cfg.name!r} has unsupported type {cfg.type!r}")
    for table, rows in counts.items():
        n_files = len(plan[table])
        print(f"{schema}.{table:<18} {rows:>12,} rows  ({n_files} file{'s' * (n_files > 1)})")
    verb = "appended to" if append else "loaded into"
    print(f"{verb} {cfg.name} in {time.perf_counter() - started:.1f} s")
    return counts
