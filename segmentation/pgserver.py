"""A throwaway PostgreSQL server for tests and the postgres target
(`segmentation pg start|stop|status`).

`start` initializes a cluster in a fresh directory under /tmp as the `postgres`
OS user (initdb refuses root), listens on 127.0.0.1 only, on a free port, with
durability off (fsync, full_page_writes, synchronous_commit: the data is
disposable), and creates what the project expects:
- database `segmentation`, owned by the login role `transformer` (dbt),
- login roles `bi_reader` and `reverse_etl` (password = role name), which the
  project's grants give read access to marts only.
It writes `.pg/state.json` (port, directories) and `.pg/env` (PG* variables for
`transformer`, to `source` from a Makefile or shell).

With SEGMENTATION_PG_EXTERNAL=1 the developer's own server (PGHOST, PGPORT,
PGUSER, PGPASSWORD, PGDATABASE) is used instead: `start` only checks that it is
reachable and writes `.pg/env` from those variables; `stop` leaves it alone."""

from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from segmentation import PROJECT_DIR

OS_USER = "postgres"
DATABASE = "segmentation"
OWNER = ("transformer", "transformer")
EXTRA_ROLES = (("bi_reader", "bi_reader"), ("reverse_etl", "reverse_etl"))

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    # COPY into a table created/truncated in the same transaction skips WAL.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "'4GB'",
    "shared_buffers": "'256MB'",
    "maintenance_work_mem": "'256MB'",
    "work_mem": "'64MB'",
    "max_connections": "50",
}


class PgServerError(RuntimeError):
    pass


def state_dir() -> Path:
    return Path(os.environ.get("SEGMENTATION_PG_STATE_DIR") or PROJECT_DIR / ".pg")


def _external() -> bool:
    return os.environ.get("SEGMENTATION_PG_EXTERNAL", "") == "1"


def _log(msg: str) -> None:
    print(f"pg: {msg}", flush=True)


def _run(cmd: list[str], *, as_postgres: bool = False, check: bool = True, **kw):
    if as_postgres and os.geteuid() == 0:
        cmd = ["runuser", "-u", OS_USER, "--", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise PgServerError(
            f"command failed ({proc.returncode}): {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )
    return proc


# ---------------------------------------------------------------- binaries


def find_bin_dir() -> Path | None:
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    if not candidates:
        return None

    def version(path: str) -> tuple[int, ...]:
        v = Path(path).parent.parent.name
        return tuple(int(x) for x in v.split(".") if x.isdigit())

    return Path(max(candidates, key=version)).parent


def ensure_binaries() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir:
        return bin_dir
    if os.geteuid() != 0:
        raise PgServerError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
            "install them (apt-get install -y postgresql) or set SEGMENTATION_PG_EXTERNAL=1"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        _log(f"server binaries missing, running: {shlex.join(cmd)}")
        _run(cmd, env=env)
    bin_dir = find_bin_dir()
    if not bin_dir:
        raise PgServerError("apt-get install postgresql ran but no pg_ctl was found")
    return bin_dir


# ---------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_state() -> dict | None:
    path = state_dir() / "state.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def _write_env(host: str, port: int | str, user: str, password: str, dbname: str) -> Path:
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    values = {
        "PGHOST": host,
        "PGPORT": str(port),
        "PGUSER": user,
        "PGPASSWORD": password,
        "PGDATABASE": dbname,
    }
    path = directory / "env"
    path.write_text("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in values.items()) + "\n")
    path.chmod(0o600)
    return path


def _pg_ctl_running(state: dict) -> bool:
    pg_ctl = Path(state["bin_dir"]) / "pg_ctl"
    if not pg_ctl.exists() or not Path(state["pgdata"]).exists():
        return False
    return (
        _run(
            [str(pg_ctl), "status", "-D", state["pgdata"]], as_postgres=True, check=False
        ).returncode
        == 0
    )


def _connect(**kw):
    import psycopg2

    return psycopg2.connect(connect_timeout=5, **kw)


def _reachable_external() -> str:
    try:
        with _connect() as con, con.cursor() as cur:  # libpq reads the PG* variables
            cur.execute("select version()")
            return cur.fetchone()[0]
    except Exception as exc:
        raise PgServerError(
            f"external server (PGHOST/PGPORT from the environment) unreachable: {exc}"
        ) from exc


# ---------------------------------------------------------------- commands


def start() -> dict:
    """Start (or reuse) the throwaway server; return its state."""
    if _external():
        version = _reachable_external()
        env = _write_env(
            os.environ.get("PGHOST", "127.0.0.1"),
            os.environ.get("PGPORT", "5432"),
            os.environ.get("PGUSER", OWNER[0]),
            os.environ.get("PGPASSWORD", ""),
            os.environ.get("PGDATABASE", DATABASE),
        )
        _log(f"external server reachable ({version.split(',')[0]}); env in {env}")
        return {"external": True}

    state = _read_state()
    if state and _pg_ctl_running(state):
        _log(f"already running on 127.0.0.1:{state['port']} (data {state['pgdata']})")
        return state
    if state:
        _log("stale state found (server not running); cleaning up")
        stop()

    bin_dir = ensure_binaries()
    base = Path(tempfile.mkdtemp(prefix="segmentation-pg-", dir="/tmp"))
    pgdata, sockets, logfile = base / "data", base / "socket", base / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, OS_USER, OS_USER)
        shutil.chown(sockets, OS_USER, OS_USER)
    try:
        t0 = time.perf_counter()
        _run(
            [
                str(bin_dir / "initdb"),
                "-D", str(pgdata),
                "-U", OS_USER,
                "-E", "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ],
            as_postgres=True,
        )  # fmt: skip
        with (pgdata / "postgresql.conf").open("a") as conf:
            conf.write("\n# segmentation pg start\n")
            for key, value in SERVER_SETTINGS.items():
                conf.write(f"{key} = {value}\n")
            conf.write(f"unix_socket_directories = '{sockets}'\n")
        for attempt in range(5):
            port = _free_port()
            proc = _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "start", "-w", "-t", "60",
                    "-D", str(pgdata),
                    "-l", str(logfile),
                    "-o", f"-p {port}",
                ],
                as_postgres=True,
                check=False,
            )  # fmt: skip
            if proc.returncode == 0:
                break
            log = logfile.read_text() if logfile.exists() else ""
            if "could not bind" not in log or attempt == 4:
                raise PgServerError(f"pg_ctl start failed:\n{proc.stdout}{proc.stderr}\n{log}")
        state = {
            "port": port,
            "base_dir": str(base),
            "pgdata": str(pgdata),
            "socket_dir": str(sockets),
            "bin_dir": str(bin_dir),
            "log": str(logfile),
        }
        _bootstrap(state)
    except BaseException:
        _teardown(bin_dir, pgdata, base)
        raise
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "state.json").write_text(json.dumps(state, indent=2) + "\n")
    env = _write_env("127.0.0.1", port, OWNER[0], OWNER[1], DATABASE)
    _log(
        f"PostgreSQL {bin_dir.parent.name} running on 127.0.0.1:{port} "
        f"(data {pgdata}, {time.perf_counter() - t0:.1f} s); env in {env}"
    )
    return state


def _bootstrap(state: dict) -> None:
    from psycopg2 import sql

    con = _connect(host=state["socket_dir"], port=state["port"], user=OS_USER, dbname="postgres")
    con.autocommit = True
    try:
        cur = con.cursor()
        for role, password in (OWNER, *EXTRA_ROLES):
            # The owner may create databases: the PostgreSQL equivalence test
            # builds in a database of its own.
            cur.execute(
                sql.SQL("create role {} login {} password {}").format(
                    sql.Identifier(role),
                    sql.SQL("createdb" if role == OWNER[0] else "nocreatedb"),
                    sql.Literal(password),
                )
            )
        cur.execute(
            sql.SQL("create database {} owner {}").format(
                sql.Identifier(DATABASE), sql.Identifier(OWNER[0])
            )
        )
        # Only the project's roles may connect; what they may read is dbt's grants.
        cur.execute(
            sql.SQL("revoke all on database {} from public").format(sql.Identifier(DATABASE))
        )
        cur.execute(
            sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(DATABASE),
                sql.SQL(", ").join(sql.Identifier(r) for r, _ in EXTRA_ROLES),
            )
        )
    finally:
        con.close()


def _teardown(bin_dir: Path, pgdata: Path, base: Path) -> None:
    if (pgdata / "postmaster.pid").exists():
        proc = _run(
            [str(bin_dir / "pg_ctl"), "stop", "-D", str(pgdata), "-m", "fast", "-w", "-t", "60"],
            as_postgres=True,
            check=False,
        )
        if proc.returncode != 0 and (pgdata / "postmaster.pid").exists():
            _run(
                [str(bin_dir / "pg_ctl"), "stop", "-D", str(pgdata), "-m", "immediate", "-w"],
                as_postgres=True,
                check=False,
            )
    shutil.rmtree(base, ignore_errors=True)


def stop() -> None:
    """Stop the throwaway server and delete its data; a no-op when none runs."""
    if _external():
        _log("external server: left running")
        return
    state = _read_state()
    directory = state_dir()
    if state is None:
        _log("no server to stop")
    else:
        _teardown(Path(state["bin_dir"]), Path(state["pgdata"]), Path(state["base_dir"]))
        _log(f"stopped the server on port {state['port']} and removed {state['base_dir']}")
    for name in ("state.json", "env"):
        (directory / name).unlink(missing_ok=True)


def status() -> bool:
    """Print whether the server runs; True if it does."""
    if _external():
        try:
            version = _reachable_external()
        except PgServerError as exc:
            _log(str(exc))
            return False
        _log(f"external server reachable: {version.split(',')[0]}")
        return True
    state = _read_state()
    if state and _pg_ctl_running(state):
        _log(
            f"running on 127.0.0.1:{state['port']} "
            f"(data {state['pgdata']}, env {state_dir() / 'env'})"
        )
        return True
    _log("not running" + (" (stale state; `pg stop` cleans up)" if state else ""))
    return False


def main(action: str) -> int:
    try:
        if action == "start":
            start()
        elif action == "stop":
            stop()
        elif action == "status":
            return 0 if status() else 3
        else:
            raise AssertionError(action)
    except PgServerError as exc:
        print(f"pg {action} failed: {exc}", file=sys.stderr)
        return 1
    return 0
