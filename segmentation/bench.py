"""`segmentation bench`: how fast the dbt build is at 1M and 10M events, next to
floors measured in the same run on the same data.

Per target and size: generate a sample (cached under `data/bench/events-<n>/`),
load it into a fresh warehouse of its own (DuckDB: `data/bench/warehouse-<n>.duckdb`;
PostgreSQL: the server of `segmentation pg start`, its project schemas
dropped first), then time
- the load,
- a full `dbt build`, split by stage from dbt's run_results.json (`STAGE_RULES`),
- the floors: one scan of raw.events, a plain per-person decayed sum over it,
  and the hand-written baseline script `bench_baseline.sql` (DuckDB only),
- `dbt build` without tests (seeds + models, "dbt run") and `dbt test` separately,
- when the project has incremental models (else "not implemented"): one
  incremental build with no new events (what every build costs whatever
  landed: the idle build), then three incremental builds, each after
  appending 1% events (the median is reported, every time is kept; its
  excess over the idle build is the cost that follows the new events), and
  unless verify=False the check that those builds equal a full refresh
  (table checksums before and after `dbt build --full-refresh`),
- the reference for the incremental builds, first and in a warehouse of its
  own: the same pipeline built from nothing on a sample of 1% of the events
  (generated alike) and then built again with nothing new. An incremental
  build processes about that many new events into the large history, so this
  build of the new data alone, and its idle build (what dbt and this DAG cost
  at any size), are the yardstick an incremental build is measured against,
with the peak memory of the whole process tree (psutil sampling; dbt runs in a
child process) and of the child processes alone: for the dbt phases that is
the build itself, without this harness (which has generated and loaded the
sample and run the floors in-process, and keeps some of that memory). The
memory target is judged on the dbt phases' child processes. DuckDB gets a
2.5 GiB memory limit through the profile's SEGMENTATION_DUCKDB_MEMORY_LIMIT. The profile used is a copy of
profiles.example.yml in the bench's work dir, and dbt writes to its own
--target-path, so a bench run never touches the developer's warehouse.

Results: a table on stdout and `<out>/<timestamp>.json` (`RESULTS_VERSION`)
for comparison between commits."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

from segmentation import PROJECT_DIR
from segmentation.equivalence import FLOAT_DECIMALS, compared_relations, table_checksum

RESULTS_VERSION = 1
SEED = 42
END_DATE = dt.date(2026, 6, 1)
AS_OF = "2026-06-01 00:00:00"
# DuckDB's memory_limit bounds its buffer manager only, not the process: dbt's
# Python process (the identity model's arrays) adds ~1-1.5 GiB on top. With
# 3 GiB the tree peaked at 4.15 GiB at 10M events; 2.5 GiB is the profile's
# default and keeps it under the 4 GiB target (MEMORY_LIMIT_BYTES).
MEMORY_LIMIT = "2.5GiB"
MEMORY_LIMIT_BYTES = 4 * 1024**3
DEFAULT_SIZES = (1_000_000, 10_000_000)
DEFAULT_TARGETS = ("duckdb", "postgres")
POSTGRES_MAX_EVENTS = 1_000_000
CACHE_DIR = PROJECT_DIR / "data" / "bench"
BASELINE_SQL = Path(__file__).with_name("bench_baseline.sql")
INCREMENTAL_SHARE = "1%"
# The reference sample's size: the share of the events an incremental build appends.
REFERENCE_DIVISOR = 100
# Incremental builds timed, each after its own append; the median is reported
# (one build varies by +-15 % on a 2-core machine).
INCREMENTAL_ROUNDS = 3

# ---------------------------------------------------------------- stages

# Which build stage a dbt node belongs to, first match wins. A pattern ending in
# "/" is a folder (prefix of the node's original_file_path); any other pattern
# is a model name, matched in any folder under models/marts/. Seeds and tests
# are classified by resource type before these rules; anything else is "other".
STAGE_RULES: tuple[tuple[str, str], ...] = (
    ("staging", "models/staging/"),
    ("identity", "models/intermediate/identity/"),
    ("identity", "dim_person_identifiers"),
    ("consent", "models/intermediate/consent/"),
    ("consent", "models/intermediate/privacy/"),
    ("consent", "models/intermediate/events/"),
    ("consent", "fct_events"),
    ("consent", "privacy_suppressions"),
    ("scores", "models/intermediate/scores/"),
    ("scores", "models/intermediate/scoring/"),
    ("scores", "models/intermediate/accounts/"),
    ("scores", "dim_persons"),
    ("scores", "dim_accounts"),
    ("segments", "models/intermediate/segments/"),
    ("segments", "models/marts/segments/"),
)
STAGES = ("seeds", "staging", "identity", "consent", "scores", "segments", "tests", "other")


def classify_node(resource_type: str, path: str | None) -> str:
    """Stage of a dbt node from its resource type and original_file_path."""
    if resource_type in ("test", "unit_test"):
        return "tests"
    if resource_type == "seed":
        return "seeds"
    if resource_type != "model" or not path:
        return "other"
    path = path.replace("\\", "/")
    for stage, pattern in STAGE_RULES:
        if pattern.endswith("/"):
            if path.startswith(pattern):
                return stage
        elif path.startswith("models/marts/") and fnmatch(path.rsplit("/", 1)[-1], f"{pattern}.*"):
            return stage
    return "other"


def _node_info(manifest: dict, unique_id: str) -> tuple[str, str | None, str | None]:
    """(resource_type, original_file_path, materialized) of a node."""
    resource_type = unique_id.split(".", 1)[0]
    node = (manifest.get("nodes") or {}).get(unique_id) or (manifest.get("unit_tests") or {}).get(
        unique_id
    )
    if not node:
        return resource_type, None, None
    config = node.get("config") or {}
    return (
        node.get("resource_type", resource_type),
        node.get("original_file_path"),
        config.get("materialized"),
    )


def _parse_ts(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def attribute_wall_time(intervals: list[tuple[float, float, str]]) -> dict[str, float]:
    """Split busy wall time among stages: each moment is shared equally by the
    nodes running then. The shares add up to the time any node was running,
    whatever the number of dbt threads."""
    bounds = sorted({t for a, b, _ in intervals for t in (a, b)})
    shares: dict[str, float] = {}
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        running = [stage for a, b, stage in intervals if a <= lo and b >= hi]
        for stage in running:
            shares[stage] = shares.get(stage, 0.0) + (hi - lo) / len(running)
    return shares


def stage_breakdown(run_results: dict, manifest: dict) -> dict:
    """Per stage: node count, wall seconds (its share of the busy time,
    `attribute_wall_time`; the stages add up to the build), node-seconds (sum of
    execution_time: with several dbt threads nodes overlap, so the sum can
    exceed the wall time), span (first start to last end of its nodes: tests run
    throughout a build, so their span is long), failures; plus dbt's elapsed time, status
    counts, data/unit test seconds and the slowest nodes."""
    stages: dict[str, dict] = {}
    statuses: dict[str, int] = {}
    test_kinds = {"data": 0.0, "unit": 0.0}
    nodes = []
    intervals: list[tuple[float, float, str]] = []
    for result in run_results.get("results", []):
        uid = result["unique_id"]
        resource_type, path, _ = _node_info(manifest, uid)
        stage = classify_node(resource_type, path)
        seconds = float(result.get("execution_time") or 0.0)
        status = str(result.get("status"))
        statuses[status] = statuses.get(status, 0) + 1
        entry = stages.setdefault(
            stage, {"nodes": 0, "node_seconds": 0.0, "span_seconds": 0.0, "failed": 0, "_t": []}
        )
        entry["nodes"] += 1
        entry["node_seconds"] += seconds
        if status in ("error", "fail"):
            entry["failed"] += 1
        times = [
            (_parse_ts(t["started_at"]), _parse_ts(t["completed_at"]))
            for t in result.get("timing") or []
            if t.get("started_at") and t.get("completed_at")
        ]
        if times:
            interval = (min(a for a, _ in times), max(b for _, b in times))
            entry["_t"].append(interval)
            intervals.append((*interval, stage))
        if resource_type == "unit_test":
            test_kinds["unit"] += seconds
        elif resource_type == "test":
            test_kinds["data"] += seconds
        nodes.append(
            {"unique_id": uid, "stage": stage, "seconds": round(seconds, 3), "status": status}
        )
    for stage, seconds in attribute_wall_time(intervals).items():
        stages[stage]["wall_seconds"] = round(seconds, 3)
    for entry in stages.values():
        entry.setdefault("wall_seconds", 0.0)
        spans = entry.pop("_t")
        if spans:
            entry["span_seconds"] = max(e for _, e in spans) - min(s for s, _ in spans)
        entry["node_seconds"] = round(entry["node_seconds"], 3)
        entry["span_seconds"] = round(entry["span_seconds"], 3)
    ordered = {s: stages[s] for s in STAGES if s in stages}
    nodes.sort(key=lambda n: -n["seconds"])
    return {
        "elapsed_seconds": round(float(run_results.get("elapsed_time") or 0.0), 3),
        "statuses": statuses,
        "stages": ordered,
        "test_seconds": {k: round(v, 3) for k, v in test_kinds.items()},
        "slowest": nodes[:10],
    }


# Stages whose incremental models make "append 1% events, build again" worth
# measuring. An incremental model in segments (the membership change log is
# append-only by nature) does not make the event pipeline incremental.
EVENT_PIPELINE_STAGES = ("staging", "identity", "consent", "scores")


def incremental_models(manifest: dict) -> list[str]:
    """Incremental models of the event pipeline (EVENT_PIPELINE_STAGES)."""
    return sorted(
        uid
        for uid, node in (manifest.get("nodes") or {}).items()
        if node.get("resource_type") == "model"
        and (node.get("config") or {}).get("materialized") in ("incremental", "microbatch")
        and classify_node("model", node.get("original_file_path")) in EVENT_PIPELINE_STAGES
    )


# ---------------------------------------------------------------- memory


class MemorySampler:
    """Samples the RSS of this process and all its descendants (summed) every
    `interval` seconds in a thread; `phase()` records the peak seen during it,
    of the whole tree and of the descendants alone."""

    def __init__(self, interval: float = 0.1):
        import psutil

        self._psutil = psutil
        self._proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._phase_peak = 0
        self._phase_children_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        own = children = 0
        with contextlib.suppress(self._psutil.Error):
            own = self._proc.memory_info().rss
        descendants = []
        with contextlib.suppress(self._psutil.Error):
            descendants = self._proc.children(recursive=True)
        for p in descendants:
            with contextlib.suppress(self._psutil.Error):
                children += p.memory_info().rss
        total = own + children
        self.peak = max(self.peak, total)
        self._phase_peak = max(self._phase_peak, total)
        self._phase_children_peak = max(self._phase_children_peak, children)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @contextlib.contextmanager
    def phase(self, record: dict, name: str) -> Iterator[None]:
        """Time the block and record {seconds, peak_rss_bytes (whole tree),
        peak_children_rss_bytes (descendants only)} under record[name]."""
        self._phase_peak = 0
        self._phase_children_peak = 0
        self.sample()
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.sample()
            record[name] = {
                "seconds": round(seconds, 3),
                "peak_rss_bytes": self._phase_peak,
                "peak_children_rss_bytes": self._phase_children_peak,
            }


# ---------------------------------------------------------------- floors

# The decayed-sum floor: events newer than as_of are left out (a client clock
# ahead, or text PostgreSQL reads and DuckDB does not, such as 'yesterday' or
# '20/11/2026', would get a weight of 0.5 ** negative age), so both targets
# compute the same figure.
_DECAYED = """
    with parsed as (
        select
            coalesce(e.user_id, e.anonymous_id) as person_key,
            t.weight,
            t.half_life_days,
            ({as_of_epoch} - {epoch}) / 86400.0 as age_days
        from raw.events as e
        inner join reference.event_taxonomy as t on e.event = t.event_name
    ),
    per_person as (
        select person_key, sum(weight * {pow}(0.5, age_days / half_life_days)) as score
        from parsed
        where age_days >= 0
        group by person_key
    )
    select count(*), sum(score) from per_person
"""
FLOOR_SQL = {
    "duckdb": {
        "scan": "select count(*), min(received_at) from raw.events",
        "decayed": _DECAYED.format(
            as_of_epoch="epoch(timestamptz '{as_of}+00')",
            epoch="epoch(try_cast(e.occurred_at as timestamptz))",
            pow="pow",
        ),
    },
    "postgres": {
        "scan": "select count(*), min(received_at) from raw.events",
        "decayed": _DECAYED.format(
            as_of_epoch="date_part('epoch', timestamptz '{as_of}+00')",
            epoch="date_part('epoch', {schema}.try_cast_timestamptz(e.occurred_at))",
            pow="power",
        ),
    },
}


def run_floors(
    conn, dialect: str, as_of: str, sampler: MemorySampler, record: dict, schema: str = "analytics"
) -> dict:
    """Time the floors (and the baseline script on DuckDB) on an open connection."""
    answers = {}
    if dialect == "duckdb":
        conn.execute("set enable_progress_bar = false")
    for name in ("scan", "decayed"):
        sql = FLOOR_SQL[dialect][name].format(as_of=as_of, schema=schema)
        with sampler.phase(record, f"floor_{name}"):
            cur = conn.cursor()
            cur.execute(sql)
            answers[name] = list(cur.fetchone())
    if dialect == "duckdb":
        with sampler.phase(record, "baseline"):
            answers["baseline"] = run_baseline(conn, as_of)
    return answers


def run_baseline(conn, as_of: str) -> dict:
    """Run bench_baseline.sql on a DuckDB connection; return its table sizes."""
    conn.execute(f"set variable as_of = timestamp '{as_of}'")
    conn.execute(BASELINE_SQL.read_text())
    sizes = {}
    for table in ("events", "anonymous_users", "person_scores", "segment_membership"):
        sizes[table] = conn.execute(f"select count(*) from bench_baseline.{table}").fetchone()[0]
    return sizes


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def machine_info() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    return {
        "nproc": os.cpu_count(),
        "ram_bytes": ram,
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def git_info() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {
        "commit": git("rev-parse", "HEAD"),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def sample_dir(n_events: int, reuse: bool, cache: Path = CACHE_DIR) -> tuple[Path, float | None]:
    """The cached landing directory for n events; (re)generated unless reuse and
    complete. Returns (dir, generate seconds or None when reused)."""
    from segmentation.generate import generate

    out = cache / f"events-{n_events}"
    marker = out / "_bench.json"
    params = {"n_events": n_events, "seed": SEED, "end_date": END_DATE.isoformat()}
    if reuse and marker.exists() and json.loads(marker.read_text()) == params:
        return out, None
    tmp = cache / f"events-{n_events}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    generate(out=str(tmp), n_events=n_events, seed=SEED, end_date=END_DATE, progress=False)
    seconds = time.perf_counter() - started
    (tmp / "_bench.json").write_text(json.dumps(params))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out, seconds


def postgres_env(state_dir: Path | None = None) -> tuple[dict[str, str] | None, str]:
    """PG* variables from `.pg/env` (written by `segmentation pg start`) and
    whether the server answers; (None, reason) when it cannot be used."""
    path = (state_dir or PROJECT_DIR / ".pg") / "env"
    if not path.exists():
        return None, f"no {path} (start a server with `segmentation pg start`)"
    values = {}
    for token in shlex.split(path.read_text()):
        if "=" in token:
            key, value = token.split("=", 1)
            values[key] = value
    try:
        import psycopg2

        psycopg2.connect(
            host=values["PGHOST"],
            port=int(values["PGPORT"]),
            user=values["PGUSER"],
            password=values["PGPASSWORD"],
            dbname=values["PGDATABASE"],
            connect_timeout=5,
        ).close()
    except Exception as exc:  # psycopg2.OperationalError, KeyError, ...
        return None, f"PostgreSQL server from {path} not reachable: {exc}".strip()
    return values, ""


def _dbt_results(target_path: Path) -> tuple[dict, dict]:
    from segmentation.dbt import read_artifact

    return read_artifact(target_path, "run_results.json"), read_artifact(
        target_path, "manifest.json"
    )


def _timed_dbt(args, *, target, env, target_path, sampler, record, name) -> dict:
    """Run dbt, time it, return the stage breakdown of its run_results."""
    from segmentation.dbt import run_dbt

    with sampler.phase(record, name):
        proc = run_dbt(
            args,
            target=target,
            vars={"as_of": AS_OF},
            env=env,
            target_path=str(target_path),
            check=False,
        )
    try:
        run_results, manifest = _dbt_results(target_path)
        breakdown = stage_breakdown(run_results, manifest)
    except (OSError, ValueError):
        run_results, manifest, breakdown = {}, {}, {}
    breakdown["returncode"] = proc.returncode
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).splitlines()[-15:]
        breakdown["output_tail"] = tail
        print(f"  dbt {' '.join(args)} exited {proc.returncode}:")
        for line in tail:
            print(f"    {line}")
    breakdown["_manifest"] = manifest
    return breakdown


def _append_events_sql(dialect: str, round_: int = 1) -> str:
    """Append ~1% of the events again as new landings: copies of the original
    events with new message_ids ('-inc<round>' suffix), received one minute
    after the latest event received so far, except one in three, which land
    late (received a day before it, inside the incremental lookback).
    occurred_at is kept (late client events)."""
    cols = (
        "event, anonymous_id, user_id, email, source, occurred_at, context_ip, "
        "context_user_agent, context_page_url, context_referrer, context_country, properties"
    )
    latest = "cast(max(received_at) as timestamp)"
    if dialect == "duckdb":
        iso = "strftime({}, '%Y-%m-%dT%H:%M:%S.%gZ')"
        iso_text = "regexp_matches(received_at, '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$')"
    else:
        iso = """to_char({}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
        iso_text = "received_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$'"
    received = iso.format(
        "case when right(message_id, 2) = '00' "
        "then latest.at - interval '1 day' else latest.at + interval '1 minute' end"
    )
    return (
        f"insert into raw.events (message_id, received_at, {cols}) "
        f"select message_id || '-inc{int(round_)}', {received}, {cols} "
        f"from raw.events, (select {latest} as at from raw.events where {iso_text}) as latest "
        "where right(message_id, 2) in ('00', '01', '02') and message_id not like '%-inc%'"
    )


# ---------------------------------------------------------------- one run


# dbt build of seeds and models without tests ("dbt run" in the report).
RUN_ONLY = ("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def _fresh_warehouse_env(
    target: str, work: Path, threads: int, name: str
) -> tuple[dict[str, str] | None, str]:
    """The environment of a bench's dbt and loader calls on an empty warehouse:
    a copy of profiles.example.yml in the work dir; DuckDB: the file
    `<work>/<name>.duckdb`, deleted first; PostgreSQL: the server of
    `segmentation pg start` with the project schemas dropped (the tables of an
    earlier run would make the first build incremental over a reloaded raw
    layer). (None, reason) when there is no server."""
    from segmentation.warehouse import drop_project_schemas

    profiles = work / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_DIR / "profiles.example.yml", profiles / "profiles.yml")
    env = {
        "DBT_PROFILES_DIR": str(profiles),
        "SEGMENTATION_HOME": str(PROJECT_DIR),
        "SEGMENTATION_DUCKDB_MEMORY_LIMIT": MEMORY_LIMIT,
        "SEGMENTATION_DUCKDB_THREADS": str(threads),
        "DBT_LOG_PATH": str(work / "logs"),
        "DO_NOT_TRACK": "1",
    }
    if target == "duckdb":
        db = work / f"{name}.duckdb"
        for path in (db, db.with_name(db.name + ".wal")):
            path.unlink(missing_ok=True)
        env["SEGMENTATION_DUCKDB_PATH"] = str(db)
        return env, ""
    pg, reason = postgres_env()
    if pg is None:
        return None, reason
    env.update(pg)
    with environ(env):
        drop_project_schemas(target)
    return env, ""


def reference_run(
    target: str, n_events: int, work: Path, sampler: MemorySampler, threads: int, reuse: bool
) -> dict:
    """The reference of the incremental builds at n_events: the pipeline built
    from nothing on a sample of n_events // REFERENCE_DIVISOR events (generated
    like the large one) in a warehouse of its own ("reference_run": seeds and
    models, as the full run), then built again with nothing new
    ("reference_idle")."""
    from segmentation.generate import MIN_EVENTS
    from segmentation.load import load

    size = n_events // REFERENCE_DIVISOR
    record: dict = {"n_events": size, "status": "ok", "phases": {}}
    if size < MIN_EVENTS:
        return {
            **record,
            "status": "skipped",
            "reason": f"the generator's smallest sample is {MIN_EVENTS:,} events",
        }
    env, reason = _fresh_warehouse_env(target, work, threads, f"reference-{size}")
    if env is None:
        return {**record, "status": "skipped", "reason": reason}
    print(f"[{target}-{n_events}] reference: {size:,} events, built from nothing, then idle")
    landing, _ = sample_dir(size, reuse)
    with environ(env):
        load(str(landing), target=target)
    for name, args in (
        ("reference_run", [*RUN_ONLY, "--full-refresh"]),
        ("reference_idle", list(RUN_ONLY)),
    ):
        result = _timed_dbt(
            args,
            target=target,
            env=env,
            target_path=work / f"dbt-{target}-reference-{size}",
            sampler=sampler,
            record=record["phases"],
            name=name,
        )
        if result["returncode"]:
            return {**record, "status": f"dbt exited {result['returncode']} in {name}"}
    return record


def bench_run(
    target: str,
    n_events: int,
    landing: Path,
    work: Path,
    sampler: MemorySampler,
    threads: int,
    verify: bool = True,
    reference: dict | None = None,
) -> dict:
    """Load, floors, build, run, test (and incremental, then with `verify` the
    check that the incremental builds equal a full refresh) for one target and
    size; `reference` (from reference_run) joins the run's phases and figures."""
    from segmentation.load import load
    from segmentation.warehouse import connect

    run: dict = {"target": target, "n_events": n_events, "status": "ok", "phases": {}}
    phases = run["phases"]
    key = f"{target}-{n_events}"
    target_path = work / f"dbt-{key}"
    env, reason = _fresh_warehouse_env(target, work, threads, f"warehouse-{n_events}")
    if env is None:
        return {**run, "status": "skipped", "reason": reason}
    if reference is not None:
        run["reference"] = {k: v for k, v in reference.items() if k != "phases"}
        phases.update(reference.get("phases", {}))
    load_avg_start = os.getloadavg()[0]
    started = time.perf_counter()
    print(f"[{key}] load")
    with environ(env), sampler.phase(phases, "load"):
        load(str(landing), target=target)
    print(f"[{key}] dbt build")
    build = _timed_dbt(
        ["build"],
        target=target,
        env=env,
        target_path=target_path,
        sampler=sampler,
        record=phases,
        name="build",
    )
    manifest = build.pop("_manifest")
    run["build"] = build
    run["models"] = sum(
        1 for n in (manifest.get("nodes") or {}).values() if n.get("resource_type") == "model"
    )
    print(f"[{key}] floors")
    with environ(env):
        conn = connect(target)
        try:
            run["floor_answers"] = run_floors(conn, target, AS_OF, sampler, phases)
        finally:
            conn.close()

    def dbt_phase(args: list[str], name: str, record: dict = phases) -> dict:
        result = _timed_dbt(
            args,
            target=target,
            env=env,
            target_path=target_path,
            sampler=sampler,
            record=record,
            name=name,
        )
        result.pop("_manifest")
        return result

    print(f"[{key}] dbt run (seeds + models, full refresh)")
    run_only = list(RUN_ONLY)
    # --full-refresh: incremental models rebuild from nothing, as in the first build.
    run["run"] = dbt_phase([*run_only, "--full-refresh"], "run")
    print(f"[{key}] dbt test")
    run["test"] = dbt_phase(["test"], "test")
    incremental = incremental_models(manifest)
    if incremental:
        print(f"[{key}] incremental build with no new events (idle)")
        run["incremental_idle"] = dbt_phase(run_only, "incremental_idle")
        rounds = []
        for round_ in range(1, INCREMENTAL_ROUNDS + 1):
            print(
                f"[{key}] incremental build {round_}/{INCREMENTAL_ROUNDS} "
                f"after appending {INCREMENTAL_SHARE} events"
            )
            with environ(env):
                conn = connect(target)
                try:
                    cur = conn.cursor()
                    count = "select count(*) from raw.events"
                    cur.execute(count)
                    before = cur.fetchone()[0]
                    cur.execute(_append_events_sql(target, round_))
                    cur.execute(count)
                    appended = cur.fetchone()[0] - before
                    conn.commit()
                finally:
                    conn.close()
            record: dict = {}
            breakdown = dbt_phase(run_only, "incremental", record)
            rounds.append({**record["incremental"], "breakdown": breakdown, "appended": appended})
        phases["incremental"], run["incremental"] = median_round(rounds)
        run["incremental"]["models"] = incremental
        if verify:
            print(f"[{key}] incremental == full refresh? (checksums, full refresh, checksums)")
            run["incremental_equivalence"] = verify_incremental(
                target, env, lambda: dbt_phase([*run_only, "--full-refresh"], "verify_full_refresh")
            )
    else:
        run["incremental"] = {"status": "not implemented (no incremental models)"}
    run["wall_seconds"] = round(time.perf_counter() - started, 3)
    run["load_avg"] = [round(load_avg_start, 2), round(os.getloadavg()[0], 2)]
    run["peak_rss_bytes"] = max(p["peak_rss_bytes"] for p in phases.values())
    run["threads"] = threads
    run["memory_limit"] = MEMORY_LIMIT if target == "duckdb" else None
    derive(run)
    return run


def verify_incremental(target: str, env: dict[str, str], full_refresh) -> dict:
    """Checksums of the compared tables (segmentation.equivalence) after the
    incremental builds, then `full_refresh()`, then again: which tables a full
    refresh over the same raw data would change (none, when incremental builds
    are exact)."""
    from segmentation.warehouse import connect

    def checksums() -> dict[str, tuple[int, str]]:
        with environ(env):
            conn = connect(target)
            try:
                cursor = conn.cursor()
                return {r: table_checksum(cursor, target, r) for r in compared_relations(cursor)}
            finally:
                conn.close()

    try:
        incremental = checksums()
    except Exception as exc:  # a missing table or a failed query: say so, go on
        return {"equal": None, "error": f"checksums after the incremental builds: {exc}"}
    refresh = full_refresh()
    if refresh.get("returncode"):
        return {
            "equal": None,
            "error": f"the full refresh failed (dbt exit {refresh['returncode']})",
        }
    try:
        full = checksums()
    except Exception as exc:
        return {"equal": None, "error": f"checksums after the full refresh: {exc}"}
    relations = {
        relation: {
            "rows": full.get(relation, (None,))[0],
            "equal": incremental.get(relation) == full.get(relation),
        }
        for relation in sorted(set(incremental) | set(full))
    }
    return {
        "equal": all(r["equal"] for r in relations.values()),
        "floats_rounded_to_decimals": FLOAT_DECIMALS,
        "relations": relations,
    }


# ---------------------------------------------------------------- derived figures


def median_round(rounds: list[dict]) -> tuple[dict, dict]:
    """The phase entry and breakdown of repeated incremental builds: the median
    build's time and breakdown, the largest peaks of all, every build's time."""
    median = sorted(rounds, key=lambda r: r["seconds"])[len(rounds) // 2]
    phase = {
        "seconds": median["seconds"],
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in rounds),
    }
    children = [r["peak_children_rss_bytes"] for r in rounds if "peak_children_rss_bytes" in r]
    if children:
        phase["peak_children_rss_bytes"] = max(children)
    breakdown = {
        **median["breakdown"],
        "appended_rows": median["appended"],
        "rounds_seconds": [r["seconds"] for r in rounds],
    }
    return phase, breakdown


def _seconds(run: dict, phase: str) -> float | None:
    entry = run.get("phases", {}).get(phase)
    return entry["seconds"] if entry else None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return round(a / b, 2)


# dbt's own phases: their child processes' peak is the memory target. The
# verification's full refresh is not in the table but is a dbt build too.
DBT_PHASES = (
    "build",
    "run",
    "test",
    "incremental_idle",
    "incremental",
    "verify_full_refresh",
    "reference_run",
    "reference_idle",
)


def dbt_peak_rss(phases: dict) -> int | None:
    """The largest RSS of dbt's process tree (the harness's own memory left out)
    over the dbt phases."""
    peaks = [
        phases[name]["peak_children_rss_bytes"]
        for name in DBT_PHASES
        if name in phases and "peak_children_rss_bytes" in phases[name]
    ]
    return max(peaks) if peaks else None


def derive(run: dict) -> dict:
    """Add events/s, ratios to the floors and baseline, and the targets."""
    n = run["n_events"]
    ratios = {}
    per_second = {}
    for phase in ("load", "build", "run", "test", "baseline", "floor_decayed"):
        secs = _seconds(run, phase)
        if secs:
            per_second[phase] = round(n / secs)
        ratios[phase] = {
            floor: _ratio(secs, _seconds(run, floor))
            for floor in ("floor_scan", "floor_decayed", "baseline")
        }
    run["events_per_second"] = per_second
    run["ratios"] = ratios
    run["dbt_peak_rss_bytes"] = dbt_peak_rss(run["phases"])
    # The part of an incremental build that follows the new events: the +1%
    # build less the build with nothing new (fixed per-build cost).
    incremental_s, idle_s = _seconds(run, "incremental"), _seconds(run, "incremental_idle")
    run["incremental_over_idle_seconds"] = (
        None if incremental_s is None or idle_s is None else round(incremental_s - idle_s, 3)
    )
    # The reference (the new data's amount built alone, and its idle build):
    # each as a share of the full run, and the +1% build against it.
    reference = run.get("reference")
    if reference is not None:
        run_s, reference_s = _seconds(run, "run"), _seconds(run, "reference_run")
        reference["run_share"] = _ratio(reference_s, run_s)
        reference["idle_share"] = _ratio(_seconds(run, "reference_idle"), run_s)
        reference["incremental_over_reference"] = _ratio(incremental_s, reference_s)
    run["targets"] = evaluate_targets(run)
    return run


def evaluate_targets(run: dict) -> list[dict]:
    """The issue's targets (set for 10M events on DuckDB; reported at every size)."""
    run_s = _seconds(run, "run")
    baseline = _seconds(run, "baseline")
    test_s = _seconds(run, "test")
    peak = run.get("dbt_peak_rss_bytes")
    ratio = _ratio(run_s, baseline)
    incremental_s = _seconds(run, "incremental")
    share = _ratio(incremental_s, run_s)

    def check(name, value, limit, passed, unit):
        return {
            "name": name,
            "value": value,
            "limit": limit,
            "unit": unit,
            "passed": None if value is None else passed,
        }

    return [
        check("dbt run <= 10x baseline", ratio, 10, ratio is not None and ratio <= 10, "x"),
        check("dbt run < 60 s", run_s, 60, run_s is not None and run_s < 60, "s"),
        check("data tests < 60 s", test_s, 60, test_s is not None and test_s < 60, "s"),
        check("incremental <= 1/5 of run", share, 0.2, share is not None and share <= 0.2, "x"),
        check(
            "incremental < 30 s",
            incremental_s,
            30,
            incremental_s is not None and incremental_s < 30,
            "s",
        ),
        check(
            "dbt peak memory <= 4 GiB",
            peak,
            MEMORY_LIMIT_BYTES,
            peak is not None and peak <= MEMORY_LIMIT_BYTES,
            "bytes",
        ),
    ]


# ---------------------------------------------------------------- report


def _fmt_s(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _fmt_x(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}x"


def _fmt_bytes(value: int | None) -> str:
    return "" if value is None else f"{value / 1024**3:.2f} GiB"


PHASE_LABELS = (
    ("load", "load"),
    ("floor_scan", "floor: scan raw events"),
    ("floor_decayed", "floor: decayed sum"),
    ("baseline", "hand-written baseline"),
    ("build", "dbt build (full)"),
    ("run", "dbt run (seeds+models)"),
    ("test", "dbt test"),
    ("incremental_idle", "incremental, no new events"),
    ("incremental", "incremental (+1% events)"),
    ("reference_run", "reference: dbt run, 1% alone"),
    ("reference_idle", "reference: its idle build"),
)


def format_run(run: dict) -> str:
    title = f"== {run['target']}, {run['n_events']:,} events"
    if run.get("status") != "ok":
        return f"{title}: {run.get('status')} ({run.get('reason', '')})"
    header = (
        "phase",
        "seconds",
        "events/s",
        "x scan",
        "x decayed",
        "x baseline",
        "peak RSS",
        "dbt RSS",
    )
    rows = [header]
    for phase, label in PHASE_LABELS:
        entry = run["phases"].get(phase)
        if entry is None:
            if phase == "incremental":
                rows.append((label, "not implemented", "", "", "", "", ""))
            continue
        r = run.get("ratios", {}).get(phase, {})
        eps = run.get("events_per_second", {}).get(phase)
        rows.append(
            (
                label,
                _fmt_s(entry["seconds"]),
                "" if eps is None else f"{eps:,}",
                _fmt_x(r.get("floor_scan")),
                _fmt_x(r.get("floor_decayed")),
                _fmt_x(r.get("baseline")),
                _fmt_bytes(entry["peak_rss_bytes"]),
                _fmt_bytes(entry.get("peak_children_rss_bytes")) if phase in DBT_PHASES else "",
            )
        )
        breakdown = run.get(phase) if phase in DBT_PHASES else None
        if breakdown and breakdown.get("elapsed_seconds"):
            overhead = entry["seconds"] - breakdown["elapsed_seconds"]
            rows.append(
                (
                    "  dbt's own elapsed time",
                    _fmt_s(breakdown["elapsed_seconds"]),
                    f"start-up {overhead:.2f}",
                    "",
                    "",
                    "",
                    "",
                )
            )
        if breakdown and breakdown.get("stages"):
            for stage, s in breakdown["stages"].items():
                rows.append(
                    (
                        f"  {stage} ({s['nodes']} nodes)",
                        _fmt_s(s["wall_seconds"]),
                        f"node-s {s['node_seconds']:.2f}",
                        "",
                        "",
                        "",
                        f"{s['failed']} failed" if s["failed"] else "",
                    )
                )
        if phase == "incremental" and breakdown and len(breakdown.get("rounds_seconds", [])) > 1:
            times = breakdown["rounds_seconds"]
            rows.append(
                (
                    f"  median of {len(times)} builds",
                    "",
                    " / ".join(f"{t:.2f}" for t in times),
                )
            )
        if phase == "incremental" and run.get("incremental_over_idle_seconds") is not None:
            rows.append(("  over the idle build", _fmt_s(run["incremental_over_idle_seconds"])))
        if phase == "test" and breakdown and breakdown.get("test_seconds"):
            ts = breakdown["test_seconds"]
            rows.append(
                (
                    "  data / unit tests (node-s)",
                    "",
                    f"{ts['data']:.2f} / {ts['unit']:.2f}",
                    "",
                    "",
                    "",
                    "",
                )
            )
    rows = [tuple(row) + ("",) * (len(header) - len(row)) for row in rows]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = [
        f"{title}  (threads {run.get('threads')}, memory limit {run.get('memory_limit')}, "
        f"load avg {run['load_avg'][0]} -> {run['load_avg'][1]}, wall {run['wall_seconds']:.1f} s, "
        f"{run.get('models')} models)"
    ]
    for row in rows:
        lines.append(
            "  ".join(
                str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                for i, c in enumerate(row)
            ).rstrip()
        )
    lines.append("targets (set for 10M events on DuckDB):")
    for t in run.get("targets", []):
        if t["unit"] == "bytes":
            value = _fmt_bytes(t["value"])
        elif t["unit"] == "x":
            value = (
                _fmt_x(t["value"])
                if t["value"] is None or t["value"] >= 1
                else (f"{t['value']:.2f}x")
            )
        else:
            value = "" if t["value"] is None else f"{t['value']:.1f} s"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["passed"]]
        lines.append(f"  {t['name']:<24} {value:>10}  {verdict}")
    reference = run.get("reference")
    if reference and reference.get("status") != "ok":
        lines.append(
            f"reference ({reference['n_events']:,} events alone): {reference['status']}"
            + (f" ({reference['reason']})" if reference.get("reason") else "")
        )
    elif reference and reference.get("run_share") is not None:
        lines.append(
            f"reference: the pipeline on {reference['n_events']:,} events alone, from nothing, "
            f"is {reference['run_share']:.2f} of the full run; its idle build "
            f"{reference['idle_share']:.2f}"
            + (
                f"; the +1% build is {reference['incremental_over_reference']:.1f}x the former"
                if reference.get("incremental_over_reference") is not None
                else ""
            )
        )
    equivalence = run.get("incremental_equivalence")
    if equivalence:
        relations = equivalence.get("relations", {})
        if equivalence["equal"] is None:
            verdict = f"not verified: {equivalence['error']}"
        elif equivalence["equal"]:
            verdict = f"EQUAL ({len(relations)} tables)"
        else:
            verdict = "DIFFERENT: " + ", ".join(r for r, v in relations.items() if not v["equal"])
        lines.append(
            f"incremental builds vs a full refresh (checksums, floats to {FLOAT_DECIMALS} "
            f"decimals): {verdict}"
        )
        refresh = run["phases"].get("verify_full_refresh")
        if refresh:
            lines.append(
                f"  its full refresh (a second sample of dbt run): {refresh['seconds']:.2f} s"
            )
    slowest = (run.get("build") or {}).get("slowest") or []
    if slowest:
        lines.append("slowest nodes of the full build:")
        for n in slowest[:5]:
            lines.append(f"  {n['seconds']:>8.2f} s  {n['stage']:<9} {n['unique_id']}")
    return "\n".join(lines)


def format_report(results: dict) -> str:
    m = results["machine"]
    ram = f"{m['ram_bytes'] / 1024**3:.0f} GiB" if m.get("ram_bytes") else "?"
    head = (
        f"segmentation bench {results['started_at']}  commit {results['git'].get('commit', '')[:10]}"
        f"{' (dirty)' if results['git'].get('dirty') else ''}\n"
        f"machine: {m['nproc']} cpus, {ram} RAM, {m['cpu_model']}"
    )
    parts = [head, *[format_run(r) for r in results["runs"]]]
    if results.get("max_child_rss_bytes"):
        parts.append(
            f"largest single child process (getrusage): {_fmt_bytes(results['max_child_rss_bytes'])}"
        )
    return "\n\n".join(parts)


# ---------------------------------------------------------------- entry point


def bench(
    sizes: tuple[int, ...] = DEFAULT_SIZES,
    targets: tuple[str, ...] = DEFAULT_TARGETS,
    reuse: bool = False,
    out: str | Path = "bench_results",
    threads: int | None = None,
    verify: bool = True,
) -> dict:
    """Run the benchmark; print the table and write `<out>/<timestamp>.json`."""
    started_at = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    work = CACHE_DIR / "work"
    work.mkdir(parents=True, exist_ok=True)
    threads = threads or os.cpu_count() or 2
    results: dict = {
        "version": RESULTS_VERSION,
        "started_at": started_at,
        "git": git_info(),
        "machine": machine_info(),
        "settings": {
            "as_of": AS_OF,
            "seed": SEED,
            "end_date": END_DATE.isoformat(),
            "memory_limit": MEMORY_LIMIT,
            "threads": threads,
        },
        "generate_seconds": {},
        "runs": [],
    }
    with MemorySampler() as sampler:
        for n in sizes:
            wanted = [t for t in targets if t == "duckdb" or n <= POSTGRES_MAX_EVENTS]
            for t in targets:
                if t not in wanted:
                    results["runs"].append(
                        {
                            "target": t,
                            "n_events": n,
                            "status": "skipped",
                            "reason": f"PostgreSQL is benched up to {POSTGRES_MAX_EVENTS:,} events",
                        }
                    )
            if not wanted:
                continue
            print(f"[{n}] sample")
            landing, gen_s = sample_dir(n, reuse)
            results["generate_seconds"][str(n)] = gen_s
            for t in wanted:
                reference = reference_run(t, n, work, sampler, threads, reuse)
                run = bench_run(t, n, landing, work, sampler, threads, verify, reference)
                results["runs"].append(run)
                print(format_run(run))
    results["max_child_rss_bytes"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    results["peak_rss_bytes"] = sampler.peak
    print()
    print(format_report(results))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{started_at}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {path}")
    return results
