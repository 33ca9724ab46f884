"""`segmentation` command line: one subcommand per job, each a thin wrapper
over a function of the package (imported lazily so `--help` stays fast)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {value!r}") from exc


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v.replace("_", "")) for v in value.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of integers: {value!r}") from exc
    if not sizes or min(sizes) < 5_000:
        raise argparse.ArgumentTypeError("sizes must be integers >= 5000")
    return sizes


def _names(value: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = sorted(set(names) - {"duckdb", "postgres"})
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"targets are duckdb and/or postgres, not {unknown}")
    return names


def _rate(value: str) -> tuple[str, float]:
    name, sep, rate = value.partition("=")
    try:
        if not sep:
            raise ValueError
        return name.strip(), float(rate)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected NAME=RATE, got {value!r}") from exc


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=["duckdb", "postgres"],
        default=None,
        help="dbt target to use (default: the profile's default target)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segmentation", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a sample landing directory (and ground truth)")
    gen.add_argument("--out", required=True, help="landing directory to write")
    gen.add_argument("--events", type=int, default=100_000, help="number of raw events")
    gen.add_argument("--seed", type=int, default=42, help="random seed (output is deterministic)")
    gen.add_argument(
        "--end-date", type=_date, default=None, help="last day of data (default: today)"
    )
    gen.add_argument("--quiet", action="store_true", help="no progress output")
    gen.add_argument(
        "--defect-rate",
        action="append",
        default=[],
        type=_rate,
        metavar="NAME=RATE",
        help="override one defect rate (repeatable), e.g. --defect-rate bot_user_agent=0.02",
    )

    load = sub.add_parser("load", help="load a landing directory into the raw schema")
    load.add_argument("--landing", required=True, help="landing directory")
    load.add_argument(
        "--append",
        action="store_true",
        help="add the rows to the raw tables instead of replacing them (incremental builds)",
    )
    _add_target(load)

    summary = sub.add_parser("summary", help="print a readable summary of the warehouse")
    _add_target(summary)

    bench = sub.add_parser(
        "bench", help="time load and dbt build at scale next to floors (not part of the tests)"
    )
    bench.add_argument(
        "--sizes", type=_sizes, default="1000000,10000000", help="event counts, comma-separated"
    )
    bench.add_argument(
        "--targets", type=_names, default="duckdb,postgres", help="targets, comma-separated"
    )
    bench.add_argument("--reuse", action="store_true", help="reuse cached samples in data/bench/")
    bench.add_argument("--out", default="bench_results", help="directory for the JSON results")
    bench.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: nproc)")
    bench.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the check that the incremental builds equal a full refresh",
    )

    pg = sub.add_parser("pg", help="throwaway PostgreSQL server for the postgres target")
    pg.add_argument("action", choices=["start", "stop", "status"])

    validate = sub.add_parser(
        "validate",
        help="run the great-expectations gates of a stage (exit 1 when an expectation fails)",
    )
    validate.add_argument(
        "--stage",
        required=True,
        choices=["landing", "marts"],
        help="landing: raw schema after `load`; marts: marts schema after `dbt build`",
    )
    _add_target(validate)
    validate.add_argument(
        "--thresholds",
        default=None,
        help="YAML merged over segmentation/expectations/thresholds.yml",
    )
    validate.add_argument("--docs-dir", default=None, help="Data Docs folder (default: gx_docs/)")
    validate.add_argument("--no-docs", action="store_true", help="do not build Data Docs")
    validate.add_argument(
        "--accept-segment-sizes",
        action="store_true",
        help="store the current segment sizes as the baseline even if the validation fails",
    )

    acc = sub.add_parser(
        "identity-accuracy",
        help="pairwise precision/recall of identity resolution against the generator's truth",
    )
    acc.add_argument("--landing", required=True, help="landing directory holding _truth/")
    _add_target(acc)

    bench = sub.add_parser(
        "bench-identity",
        help="time identity resolution (SciPy, Python model, SQL on DuckDB and PostgreSQL)",
    )
    bench.add_argument(
        "--identifiers", type=int, default=5_000_000, help="approximate number of identifiers"
    )
    bench.add_argument("--seed", type=int, default=1, help="random seed of the synthetic graph")
    bench.add_argument("--no-sql", action="store_true", help="skip the SQL implementation")
    bench.add_argument(
        "--no-postgres",
        action="store_true",
        help="skip PostgreSQL (otherwise run when the PG* variables name a reachable server)",
    )
    bench.add_argument(
        "--memory-limit", default="8GB", help="DuckDB memory_limit for the SQL implementation"
    )
    bench.add_argument(
        "--repeat", type=int, default=1, help="run (a)-(c) this many times and keep the best"
    )

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "generate":
        from segmentation.generate import generate

        try:
            generate(
                out=args.out,
                n_events=args.events,
                seed=args.seed,
                end_date=args.end_date,
                progress=not args.quiet,
                rates=dict(args.defect_rate),
            )
        except ValueError as exc:
            print(f"generate failed: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "load":
        from segmentation.load import LoadError, load

        try:
            load(args.landing, target=args.target, append=args.append)
        except LoadError as exc:
            print(f"load failed: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "summary":
        from segmentation.summary import print_summary

        print_summary(target=args.target)
        return 0
    if args.command == "bench":
        from segmentation.bench import bench

        bench(
            sizes=args.sizes,
            targets=args.targets,
            reuse=args.reuse,
            out=args.out,
            threads=args.threads,
            verify=not args.no_verify,
        )
        return 0
    if args.command == "pg":
        from segmentation.pgserver import main as pg_main

        return pg_main(args.action)
    if args.command == "validate":
        from segmentation.validate import ValidationError, print_report, run_validation

        try:
            report = run_validation(
                args.stage,
                target=args.target,
                docs_dir=args.docs_dir,
                thresholds_path=args.thresholds,
                accept_segment_sizes=args.accept_segment_sizes,
                build_docs=not args.no_docs,
            )
        except ValidationError as exc:
            print(f"validate failed: {exc}", file=sys.stderr)
            return 2
        print_report(report)
        return 0 if report.success else 1

    if args.command == "identity-accuracy":
        from segmentation.accuracy import identity_accuracy

        print(identity_accuracy(args.landing, target=args.target))
        return 0
    if args.command == "bench-identity":
        from segmentation.bench_identity import run

        run(
            n_identifiers=args.identifiers,
            seed=args.seed,
            sql=not args.no_sql,
            postgres=False if args.no_postgres else None,
            memory_limit=args.memory_limit,
            repeat=args.repeat,
        )
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
