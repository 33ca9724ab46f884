"""`segmentation pg start|stop` for real: a throwaway server that dbt and the
loader can use, gone after stop. Needs the server binaries and root (initdb runs
as the `postgres` OS user through runuser); skipped elsewhere."""

from __future__ import annotations

import os
import shlex
import socket
from pathlib import Path

import pytest

from segmentation import pgserver
from segmentation.load import CONTRACT, load
from segmentation.tests.test_load import write_landing

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        pgserver.find_bin_dir() is None or os.geteuid() != 0,
        reason="needs PostgreSQL server binaries and root",
    ),
]


def _env_file(path: Path) -> dict[str, str]:
    words = shlex.split(path.read_text())
    assert words[0] == "export"
    return dict(w.split("=", 1) for w in words[1:])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_start_load_stop(tmp_path, monkeypatch):
    import psycopg2

    monkeypatch.setenv("SEGMENTATION_PG_STATE_DIR", str(tmp_path / "pg"))
    monkeypatch.delenv("SEGMENTATION_PG_EXTERNAL", raising=False)
    state = pgserver.start()
    try:
        assert pgserver.start()["port"] == state["port"]  # idempotent: reuses the server
        assert pgserver.status()
        env = _env_file(tmp_path / "pg" / "env")
        assert env["PGHOST"] == "127.0.0.1" and env["PGPORT"] == str(state["port"])
        assert (env["PGUSER"], env["PGDATABASE"]) == ("transformer", "segmentation")

        con = psycopg2.connect(
            host=env["PGHOST"],
            port=int(env["PGPORT"]),
            user=env["PGUSER"],
            password=env["PGPASSWORD"],
            dbname=env["PGDATABASE"],
        )
        with con, con.cursor() as cur:
            cur.execute("select current_user, current_database(), host(inet_server_addr())")
            assert cur.fetchone() == ("transformer", "segmentation", "127.0.0.1")
            cur.execute(
                "select datdba::regrole::text from pg_database where datname = 'segmentation'"
            )
            assert cur.fetchone() == ("transformer",)
        con.close()
        for role in ("bi_reader", "reverse_etl"):
            psycopg2.connect(
                host="127.0.0.1",
                port=state["port"],
                user=role,
                password=role,
                dbname="segmentation",
            ).close()
        with pytest.raises(psycopg2.OperationalError):  # passwords are checked
            psycopg2.connect(
                host="127.0.0.1", port=state["port"], user="bi_reader", password="x",
                dbname="segmentation",
            )  # fmt: skip

        for key, value in env.items():
            monkeypatch.setenv(key, value)
        counts = load(write_landing(tmp_path / "landing", "csv", n=3), target="postgres")
        assert counts == dict.fromkeys(CONTRACT, 3)
    finally:
        pgserver.stop()
    assert not Path(state["base_dir"]).exists()
    assert not _port_open(state["port"])
    assert not (tmp_path / "pg" / "state.json").exists()
    assert not pgserver.status()
    pgserver.stop()  # idempotent


def test_external_server_is_left_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGMENTATION_PG_STATE_DIR", str(tmp_path / "pg"))
    monkeypatch.setenv("SEGMENTATION_PG_EXTERNAL", "1")
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PGPORT", str(s.getsockname()[1]))
    with pytest.raises(pgserver.PgServerError, match="unreachable"):
        pgserver.start()
    pgserver.stop()
    assert "left running" in capsys.readouterr().out
