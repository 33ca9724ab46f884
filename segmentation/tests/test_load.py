"""The loader on hand-made landing directories, on DuckDB and (when PGHOST/PGPORT
point at a reachable server) on PostgreSQL. Each test loads into its own schema,
so a developer's `raw` is never touched."""

from __future__ import annotations

import csv
import os
import socket
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation import warehouse
from segmentation.load import CONTRACT, LoadError, load


def _pg_available() -> bool:
    host, port = os.environ.get("PGHOST"), os.environ.get("PGPORT")
    if not host or not port:
        return False
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


TARGETS = [
    "duckdb",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not _pg_available(), reason="no PostgreSQL (PGHOST/PGPORT)"),
        ],
    ),
]


@pytest.fixture(params=TARGETS)
def target(request, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGMENTATION_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    return request.param


@pytest.fixture
def schema(target):
    name = f"raw_test_{uuid.uuid4().hex[:10]}"
    yield name
    if target == "postgres":
        con = warehouse.connect("postgres")
        with con, con.cursor() as cur:
            cur.execute(f"drop schema if exists {name} cascade")
        con.close()


def _value(table: str, column: str, i: int) -> str:
    return f"{table}.{column}.{i}"


def _rows(table: str, n: int, tag: str = "") -> dict[str, list]:
    return {c: [_value(table, c, i) + tag for i in range(n)] for c in CONTRACT[table]}


def write_landing(root: Path, fmt: str = "parquet", n: int = 3, tag: str = "", **overrides) -> Path:
    """One file per contract table; `overrides[table]` = {column: values} replaces
    or adds columns, None as a value removes the column."""
    for table in CONTRACT:
        data = _rows(table, n, tag)
        for column, values in overrides.get(table, {}).items():
            if values is None:
                data.pop(column)
            else:
                data[column] = values
        folder = root / table
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            pq.write_table(pa.table(data), folder / "part-0.parquet")
        else:
            with (folder / "part-0.csv").open("w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(data)
                w.writerows(zip(*data.values(), strict=True))
    return root


def read_raw(target: str, schema: str, table: str) -> list[tuple]:
    con = warehouse.connect(target)
    try:
        cur = con.cursor()
        cols = ", ".join(CONTRACT[table])
        cur.execute(f"select {cols} from {schema}.{table} order by {cols}")
        return [tuple(r) for r in cur.fetchall()]
    finally:
        con.close()


def column_types(target: str, schema: str, table: str) -> set[str]:
    con = warehouse.connect(target)
    try:
        cur = con.cursor()
        cur.execute(
            "select data_type from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}'"
        )
        return {r[0].lower() for r in cur.fetchall()}
    finally:
        con.close()


def expected(table: str, n: int, tag: str = "") -> list[tuple]:
    data = _rows(table, n, tag)
    return sorted(zip(*(data[c] for c in CONTRACT[table]), strict=True))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_loads_every_table_as_text(target, schema, tmp_path, fmt, capsys):
    landing = write_landing(tmp_path / "landing", fmt, n=4)
    counts = load(landing, target=target, schema=schema)
    assert counts == dict.fromkeys(CONTRACT, 4)
    for table in CONTRACT:
        assert read_raw(target, schema, table) == expected(table, 4)
        assert column_types(target, schema, table) <= {"varchar", "text", "character varying"}
    out = capsys.readouterr().out
    assert f"{schema}.events" in out and "4 rows" in out


def test_mixed_files_extra_columns_and_typed_values(target, schema, tmp_path):
    landing = write_landing(
        tmp_path / "landing",
        "parquet",
        n=2,
        crm_accounts={"employee_count": pa.array([10, None]), "unrelated": [1, 2]},
        intent_signals={"intensity": pa.array([0, 100], pa.int16())},
    )
    # A second events file, in CSV, with columns in another order plus an extra one.
    cols = ["extra", *reversed(CONTRACT["events"])]
    with (landing / "events" / "part-1.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerow(["x", *(f"csv.{c}" for c in reversed(CONTRACT["events"]))])
        # Commas, quotes and newlines survive; an empty field is NULL.
        w.writerow(["x", *(['a,b "q"\nline2'] + [""] * (len(cols) - 2))])
    (landing / "_truth").mkdir()
    (landing / "_truth" / "garbage.parquet").write_bytes(b"not parquet")
    (landing / "events" / "README.txt").write_text("not a data file")

    counts = load(landing, target=target, schema=schema)
    assert counts["events"] == 4
    events = read_raw(target, schema, "events")
    assert tuple(f"csv.{c}" for c in CONTRACT["events"]) in events
    props_last = [r for r in events if r[-1] == 'a,b "q"\nline2']
    assert props_last == [(None,) * (len(CONTRACT["events"]) - 1) + ('a,b "q"\nline2',)]
    employee_counts = {r[4] for r in read_raw(target, schema, "crm_accounts")}
    assert employee_counts == {"10", None}
    assert {r[3] for r in read_raw(target, schema, "intent_signals")} == {"0", "100"}
    # Extra columns are not loaded.
    assert _columns(target, schema, "crm_accounts") == list(CONTRACT["crm_accounts"])


def _columns(target: str, schema: str, table: str) -> list[str]:
    con = warehouse.connect(target)
    try:
        cur = con.cursor()
        cur.execute(
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' "
            "order by ordinal_position"
        )
        return [r[0] for r in cur.fetchall()]
    finally:
        con.close()


def test_reload_replaces_previous_data(target, schema, tmp_path):
    load(write_landing(tmp_path / "a", n=5, tag="-old"), target=target, schema=schema)
    load(write_landing(tmp_path / "b", "csv", n=2, tag="-new"), target=target, schema=schema)
    for table in CONTRACT:
        assert read_raw(target, schema, table) == expected(table, 2, "-new")


def _missing_folder(landing: Path) -> str:
    import shutil

    shutil.rmtree(landing / "deletion_requests")
    return "deletion_requests"


def _empty_folder(landing: Path) -> str:
    for f in (landing / "intent_signals").iterdir():
        f.unlink()
    (landing / "intent_signals" / "notes.txt").write_text("no data here")
    return "intent_signals"


def _missing_column(landing: Path) -> str:
    path = landing / "crm_contacts" / "part-0.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["plan"]), path)
    return "part-0.parquet"


def _corrupt_parquet(landing: Path) -> str:
    (landing / "events" / "part-9.parquet").write_bytes(b"PAR1 this is not a parquet file")
    return "part-9.parquet"


def _truncated_parquet(landing: Path) -> str:
    path = landing / "identifies" / "part-0.parquet"
    path.write_bytes(path.read_bytes()[:-20])
    return "part-0.parquet"


def _corrupt_parquet_pages(landing: Path) -> str:
    # Valid footer, garbage in the data pages: only reading the data finds it.
    path = landing / "events" / "part-5.parquet"
    n = 2000
    data = {c: [f"{c}-{i:08d}-payload" for i in range(n)] for c in CONTRACT["events"]}
    pq.write_table(pa.table(data), path, compression="snappy")
    raw = bytearray(path.read_bytes())
    for i in range(200, len(raw) // 2, 7):
        raw[i] = (raw[i] * 31 + 17) % 256
    path.write_bytes(bytes(raw))
    return "part-5.parquet"


def _bad_csv_row(landing: Path) -> str:
    path = landing / "consent_events" / "part-1.csv"
    header = ",".join(CONTRACT["consent_events"])
    path.write_text(header + "\n" + "a,b\n")  # a row with too few fields
    return "part-1.csv"


def _empty_csv(landing: Path) -> str:
    (landing / "consent_events" / "part-2.csv").write_text("")
    return "part-2.csv"


BAD_INPUTS = [
    _missing_folder,
    _empty_folder,
    _missing_column,
    _corrupt_parquet,
    _truncated_parquet,
    _corrupt_parquet_pages,
    _bad_csv_row,
    _empty_csv,
]


@pytest.mark.parametrize("breaker", BAD_INPUTS, ids=lambda f: f.__name__.strip("_"))
def test_bad_input_fails_and_keeps_previous_raw(target, schema, tmp_path, breaker):
    load(write_landing(tmp_path / "good", n=3, tag="-good"), target=target, schema=schema)
    bad = write_landing(tmp_path / "bad", n=7, tag="-bad")
    culprit = breaker(bad)
    with pytest.raises(LoadError) as excinfo:
        load(bad, target=target, schema=schema)
    assert culprit in str(excinfo.value)
    for table in CONTRACT:
        assert read_raw(target, schema, table) == expected(table, 3, "-good"), table


def test_missing_landing_dir(tmp_path):
    with pytest.raises(LoadError, match="does not exist"):
        load(tmp_path / "nope", target="duckdb")


def test_cli_reports_load_errors(tmp_path, monkeypatch, capsys):
    from segmentation.cli import main

    monkeypatch.setenv("SEGMENTATION_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    landing = write_landing(tmp_path / "landing")
    _missing_folder(landing)
    assert main(["load", "--landing", str(landing), "--target", "duckdb"]) == 2
    assert "deletion_requests" in capsys.readouterr().err
