"""Running dbt from the CLI and the tests, always in the project directory with
the project's profile and `SEGMENTATION_HOME` set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from segmentation import PROJECT_DIR


class DbtError(RuntimeError):
    pass


def dbt_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SEGMENTATION_HOME", str(PROJECT_DIR))
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT_DIR))
    env.setdefault("DO_NOT_TRACK", "1")
    env.update(extra or {})
    if not (Path(env["DBT_PROFILES_DIR"]) / "profiles.yml").exists():
        raise DbtError(
            f"no profiles.yml in {env['DBT_PROFILES_DIR']}: "
            "copy profiles.example.yml (make does it for you)"
        )
    return env


def run_dbt(
    args: list[str],
    *,
    target: str | None = None,
    vars: dict | None = None,
    env: dict[str, str] | None = None,
    target_path: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run `dbt <args>` in a subprocess; raise DbtError with dbt's output on failure."""
    cmd = [str(Path(sys.executable).with_name("dbt")), *args, "--project-dir", str(PROJECT_DIR)]
    if target:
        cmd += ["--target", target]
    if vars:
        cmd += ["--vars", json.dumps(vars)]
    if target_path:
        cmd += ["--target-path", target_path]
    proc = subprocess.run(
        cmd, cwd=PROJECT_DIR, env=dbt_env(env), capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        raise DbtError(f"`dbt {' '.join(args)}` failed ({proc.returncode}):\n{tail}")
    return proc


def read_artifact(target_path: str | Path, name: str = "run_results.json") -> dict:
    """A JSON artifact (run_results.json, manifest.json) of the last dbt command
    run with this --target-path (default target path: the project's target/)."""
    path = Path(target_path)
    if not path.is_absolute():
        path = PROJECT_DIR / path
    return json.loads((path / name).read_text())
