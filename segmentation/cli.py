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
    _add_target(load)

    summary = sub.add_parser("summary", help="print a readable summary of the warehouse")
    _add_target(summary)

    pg = sub.add_parser("pg", help="throwaway PostgreSQL server for the postgres target")
    pg.add_argument("action", choices=["start", "stop", "status"])

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
            load(args.landing, target=args.target)
        except LoadError as exc:
            print(f"load failed: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "summary":
        from segmentation.summary import print_summary

        print_summary(target=args.target)
        return 0
    if args.command == "pg":
        from segmentation.pgserver import main as pg_main

        return pg_main(args.action)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
