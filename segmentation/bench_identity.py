"""Benchmark of identity resolution on a large synthetic graph.

(a) reference: key factorization + SciPy connected_components, no merge protection;
(b) resolve_identities (the Python model);
(c) the SQL implementation (macro identity_graph_sql) on DuckDB (memory
    capped, spilling into the project's .tmp/);
(d) the same SQL on PostgreSQL, when the PG* environment variables name a
    reachable server (`segmentation pg start`, then `source .pg/env`): the edges
    are loaded with COPY and analyzed first (not timed).
Prints wall times, ratios to (a), rounds, peak memory (RSS; for PostgreSQL the
backend and its parallel workers) and the load average (the machine may be shared),
and checks that (c) and (d) return exactly the rows of (b).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import threading
import time
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH_US = 1_767_225_600_000_000  # 2026-01-01
YEAR_US = 365 * 86_400 * 1_000_000


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def synthesize(n_identifiers: int = 5_000_000, seed: int = 1) -> pa.Table:
    """Edges shaped like int_identity_edges: persons with several devices, a
    user id for some, an email for others, CRM contacts, people sharing a laptop,
    kiosks linked to many users, plus a self pair for every identifier."""
    rng = np.random.default_rng(seed)
    n_persons = int(n_identifiers / 2.65)
    devices = 1 + rng.geometric(0.45, n_persons) - 1  # >= 1 device, mean ~2.2
    has_user = rng.random(n_persons) < 0.30
    has_email = rng.random(n_persons) < 0.35
    has_contact = has_email & (rng.random(n_persons) < 0.25)

    device_owner = np.repeat(np.arange(n_persons), devices)
    n_devices = len(device_owner)
    first = EPOCH_US + rng.integers(0, YEAR_US, n_devices)
    last = first + rng.integers(0, YEAR_US // 4, n_devices)

    parts = []  # (left_type, left_ids, right_type, right_ids, first, last)
    dev = np.arange(n_devices)
    m = has_user[device_owner]
    parts.append(("anonymous_id", "d", dev[m], "user_id", "u", device_owner[m], first[m], last[m]))
    m = has_email[device_owner] & (rng.random(n_devices) < 0.8)
    parts.append(("anonymous_id", "d", dev[m], "email", "e", device_owner[m], first[m], last[m]))
    persons = np.arange(n_persons)
    p_first = EPOCH_US + rng.integers(0, YEAR_US, n_persons)
    m = has_user & has_email
    parts.append(("email", "e", persons[m], "user_id", "u", persons[m], p_first[m], p_first[m]))
    m = has_contact
    parts.append(("contact_id", "c", persons[m], "email", "e", persons[m], p_first[m], p_first[m]))

    # Two users on one laptop: 2% of user devices also seen with another user.
    users = np.flatnonzero(has_user)
    m = has_user[device_owner] & (rng.random(n_devices) < 0.02)
    other = rng.choice(users, int(m.sum()))
    parts.append(("anonymous_id", "d", dev[m], "user_id", "u", other, first[m], last[m] + 1))
    # Kiosks: 0.05% of devices seen with 5-60 random users (hubs).
    kiosks = rng.choice(n_devices, max(1, n_devices // 2000), replace=False)
    fan = rng.integers(5, 61, len(kiosks))
    k_dev = np.repeat(kiosks, fan)
    k_user = rng.choice(users, len(k_dev))
    k_first = EPOCH_US + rng.integers(0, YEAR_US, len(k_dev))
    parts.append(("anonymous_id", "d", k_dev, "user_id", "u", k_user, k_first, k_first))

    # Self pairs: every identifier once.
    parts.append(("anonymous_id", "d", dev, "anonymous_id", "d", dev, first, last))
    for kind, prefix, mask in (
        ("user_id", "u", has_user),
        ("email", "e", has_email),
        ("contact_id", "c", has_contact),
    ):
        ids = persons[mask]
        parts.append((kind, prefix, ids, kind, prefix, ids, p_first[mask], p_first[mask]))

    tables = []
    for lt, lp, lv, rt, rp, rv, f, la in parts:
        n = len(lv)
        tables.append(
            pa.table(
                {
                    "left_type": pa.array([lt] * 1, pa.string()).take(np.zeros(n, np.int64)),
                    "left_value": _ids(lp, lv) if lp != "e" else _email(lv),
                    "right_type": pa.array([rt], pa.string()).take(np.zeros(n, np.int64)),
                    "right_value": _ids(rp, rv) if rp != "e" else _email(rv),
                    "first_seen_at": pa.array(f, pa.int64()).cast(pa.timestamp("us")),
                    "last_seen_at": pa.array(la, pa.int64()).cast(pa.timestamp("us")),
                    "times_seen": pa.array(np.ones(n, np.int64)),
                }
            )
        )
    edges = pa.concat_tables(tables).combine_chunks()
    # Same pair twice (e.g. a laptop user who is also its owner): keep one.
    return _dedupe(edges)


def _email(numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise("p", pc.cast(pa.array(numbers), pa.string()), "@acme.io", "")


def _dedupe(edges: pa.Table) -> pa.Table:
    return (
        edges.group_by(["left_type", "left_value", "right_type", "right_value"])
        .aggregate(
            [
                ("first_seen_at", "min"),
                ("last_seen_at", "max"),
                ("times_seen", "sum"),
            ]
        )
        .rename_columns(list(edges.column_names))
    )


def _rss(processes) -> int:
    total = 0
    for process in processes():
        # A parallel worker may exit between listing and reading.
        with contextlib.suppress(Exception):
            total += process.memory_info().rss
    return total


@contextmanager
def _measure(results: dict, name: str, processes=None):
    """Wall time and peak RSS of `processes()` (default: this process)."""
    import psutil

    if processes is None:
        own = psutil.Process()

        def processes():
            return [own]

    peak = [_rss(processes)]
    stop = threading.Event()
    load_before = os.getloadavg()[0]

    def sample():
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _rss(processes))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        stop.set()
        thread.join()
        results[name] = {
            "seconds": seconds,
            "peak_rss_gib": max(peak[0], _rss(processes)) / 2**30,
            "load_1min": (round(load_before, 2), round(os.getloadavg()[0], 2)),
        }


def reference_components(edges: pa.Table) -> int:
    """(a): factorize (type, value) keys, then SciPy connected components."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    types = pa.concat_arrays(
        [edges["left_type"].combine_chunks(), edges["right_type"].combine_chunks()]
    )
    values = pa.concat_arrays(
        [edges["left_value"].combine_chunks(), edges["right_value"].combine_chunks()]
    )
    encoded = pc.binary_join_element_wise(types, values, ":").dictionary_encode()
    codes = encoded.indices.to_numpy()
    n = len(encoded.dictionary)
    half = edges.num_rows
    graph = coo_matrix((np.ones(half, np.int8), (codes[:half], codes[half:])), shape=(n, n)).tocsr()
    n_components, _ = connected_components(graph, directed=False)
    return n_components


def _postgres_processes(backend_pid: int):
    """The backend serving our connection and the parallel workers of its query."""
    import psutil

    backend = psutil.Process(backend_pid)
    postmaster = backend.parent()

    def processes():
        found = [backend]
        for child in postmaster.children():
            try:
                if "parallel worker" in " ".join(child.cmdline()) and f"{backend_pid}" in " ".join(
                    child.cmdline()
                ):
                    found.append(child)
            except Exception:  # noqa: BLE001 (exited meanwhile)
                pass
        return found

    return processes


def _keep_best(results: dict, attempt: dict) -> None:
    """Merge one attempt: the fastest time, the highest peak memory, all times."""
    for name, new in attempt.items():
        old = results.get(name)
        times = [*(old or {}).get("all_seconds", []), round(new["seconds"], 2)]
        merged = dict(new) if old is None or new["seconds"] < old["seconds"] else dict(old)
        merged["peak_rss_gib"] = max(new["peak_rss_gib"], (old or new)["peak_rss_gib"])
        merged["all_seconds"] = times
        results[name] = merged


def postgres_reachable() -> bool:
    if not os.environ.get("PGPORT") and not os.environ.get("PGHOST"):
        return False
    import psycopg2

    try:
        psycopg2.connect(connect_timeout=3).close()
    except psycopg2.Error:
        return False
    return True


def _run_postgres(edges: pa.Table, resolved: pa.Table, results: dict, max_rounds: int) -> None:
    """(d): COPY the edges into PostgreSQL, time the SQL, compare with (b)."""
    import duckdb
    import psycopg2
    from pyarrow import csv

    from segmentation.identity_sql import EDGES_RELATION, identity_sql

    rendered = identity_sql(max_rounds=max_rounds, target="postgres")
    con = psycopg2.connect()
    con.autocommit = True
    cur = con.cursor()
    try:
        cur.execute("create schema if not exists bench_identity")
        cur.execute("set search_path = bench_identity")
        cur.execute(f"drop table if exists {EDGES_RELATION}, resolved")
        cur.execute(
            f"create table {EDGES_RELATION} (left_type text, left_value text, right_type text,"
            " right_value text, first_seen_at timestamp, last_seen_at timestamp,"
            " times_seen bigint)"
        )
        t0 = time.perf_counter()
        buffer = io.BytesIO()
        csv.write_csv(edges, buffer)
        buffer.seek(0)
        cur.copy_expert(f"copy {EDGES_RELATION} from stdin with (format csv, header true)", buffer)
        del buffer
        cur.execute(f"analyze {EDGES_RELATION}")
        print(
            f"postgres: loaded {edges.num_rows:,} edges (COPY + analyze) in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        cur.execute(
            "select pg_backend_pid(), current_setting('work_mem'),"
            " current_setting('max_parallel_workers_per_gather'), version()"
        )
        pid, work_mem, workers, version = cur.fetchone()
        cur.execute("select temp_bytes from pg_stat_database where datname = current_database()")
        temp_before = cur.fetchone()[0]
        # What the model's pre-hooks set (macro identity_graph_pre_hooks).
        settings = ["set local enable_nestloop = off"]
        with _measure(results, "d_sql_on_postgres", _postgres_processes(pid)):
            cur.execute("begin")
            for statement in settings:
                cur.execute(statement)
            cur.execute(f"create table resolved as {rendered}")
            cur.execute("commit")
        cur.execute("select pg_stat_force_next_flush()")
        cur.execute("select temp_bytes from pg_stat_database where datname = current_database()")
        temp_spilled = cur.fetchone()[0] - temp_before
        out = io.BytesIO()
        cur.copy_expert("copy resolved to stdout with (format csv, header true)", out)
        out.seek(0)
        pg_resolved = csv.read_csv(  # noqa: F841 (read by DuckDB's replacement scan)
            out,
            convert_options=csv.ConvertOptions(
                column_types={c: pa.string() for c in resolved.column_names[:-1]}
                | {"is_shared_device": pa.bool_()},
                true_values=["t"],
                false_values=["f"],
                strings_can_be_null=False,
            ),
        )
        python_resolved = resolved  # noqa: F841 (read by DuckDB's replacement scan)
        check = duckdb.connect()
        differences = check.sql(
            "select (select count(*) from (select * from pg_resolved except all"
            " select * from python_resolved)) + (select count(*) from (select * from"
            " python_resolved except all select * from pg_resolved))"
        ).fetchall()[0][0]
        check.close()
        results["d_sql_on_postgres"].update(
            rows=pg_resolved.num_rows,
            rows_differing_from_python=differences,
            rounds_unrolled=max_rounds,
            temp_spilled_gib=round(temp_spilled / 2**30, 2),
            work_mem=work_mem,
            parallel_workers_per_gather=workers,
            settings=settings,
        )
        print(f"postgres: {version.split(',')[0]}")
    finally:
        cur.execute("drop schema if exists bench_identity cascade")
        con.close()


def run(
    n_identifiers: int = 5_000_000,
    seed: int = 1,
    sql: bool = True,
    threads: int = 2,
    postgres: bool | None = None,
    memory_limit: str = "8GB",
    max_rounds: int = 20,
    repeat: int = 1,
) -> dict:
    """`postgres`: None = when a server is reachable (PG* variables). Steps (a)
    to (c) run `repeat` times, the best time counts (PostgreSQL runs once)."""
    import duckdb

    from segmentation import PROJECT_DIR
    from segmentation.identity import resolve_identities
    from segmentation.identity_sql import EDGES_RELATION, identity_sql

    if postgres is None:
        postgres = sql and postgres_reachable()

    t0 = time.perf_counter()
    edges = synthesize(n_identifiers, seed)
    print(f"synthesized {edges.num_rows:,} edges in {time.perf_counter() - t0:.1f} s")
    rendered = identity_sql(max_rounds=max_rounds) if sql else None

    results: dict = {}
    stats: dict = {}
    for _ in range(repeat):  # best of `repeat`: the machine may be shared
        attempt: dict = {}
        with _measure(attempt, "a_reference_connected_components"):
            n_components = reference_components(edges)
        with _measure(attempt, "b_resolve_identities"):
            resolved = resolve_identities(edges, stats=stats)
        _keep_best(results, attempt)
    results["b_resolve_identities"].update(stats)
    results["a_reference_connected_components"]["components"] = n_components
    if sql:
        spill = PROJECT_DIR / ".tmp" / "bench-identity-duckdb"  # git-ignored
        spill.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect()
            con.execute(f"set threads = {threads}")
            # A shared machine: spill (inside the worktree) rather than swap.
            con.execute(f"set memory_limit = '{memory_limit}'")
            con.execute(f"set temp_directory = '{spill}'")
            con.register(EDGES_RELATION, edges)
            for _ in range(repeat):
                attempt = {}
                con.execute("drop table if exists resolved")
                with _measure(attempt, "c_sql_on_duckdb"):
                    con.execute(f"create table resolved as {rendered}")
                _keep_best(results, attempt)
            n_sql = con.sql("select count(*) from resolved").fetchall()[0][0]
            con.register("python_resolved", resolved)
            differences = con.sql(
                "select (select count(*) from (select * from resolved except all"
                " select * from python_resolved)) + (select count(*) from (select * from"
                " python_resolved except all select * from resolved))"
            ).fetchall()[0][0]
            results["c_sql_on_duckdb"].update(
                rows=n_sql,
                rows_differing_from_python=differences,
                rounds_unrolled=max_rounds,
                memory_limit=memory_limit,
            )
            con.close()
        finally:
            shutil.rmtree(spill, ignore_errors=True)
    if postgres:
        _run_postgres(edges, resolved, results, max_rounds)

    base = results["a_reference_connected_components"]["seconds"]
    edges_proper = int(
        pc.sum(
            pc.invert(
                pc.and_(
                    pc.equal(edges["left_type"], edges["right_type"]),
                    pc.equal(edges["left_value"], edges["right_value"]),
                )
            ).cast(pa.int64())
        ).as_py()
    )
    print(
        f"identifiers: {stats['nodes']:,}  edges: {edges.num_rows:,} "
        f"({edges_proper:,} between two identifiers)  persons: {stats['persons']:,}  "
        f"shared: {stats['shared']:,}"
    )
    print(f"machine: {os.cpu_count()} cores, load average now {os.getloadavg()}")
    for name, r in results.items():
        extra = {k: v for k, v in r.items() if k not in ("seconds", "peak_rss_gib")}
        print(
            f"{name:36s} {r['seconds']:7.2f} s  x{r['seconds'] / base:5.2f}  "
            f"peak RSS {r['peak_rss_gib']:.2f} GiB  {extra}"
        )
    return results
