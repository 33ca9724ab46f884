"""The great-expectations gates on the real default sample, on both targets:
a healthy collector passes the landing suite (its noise is tolerated) and the
built marts pass the marts suite. (test_validate.py proves each suite fails,
for the right expectation, on deliberately broken inputs.)"""

from __future__ import annotations

from segmentation.tests.conftest import _environ


def test_landing_suite_passes_on_the_default_sample(warehouse, tmp_path):
    from segmentation.validate import run_validation

    with _environ(warehouse.env):
        report = run_validation(
            "landing", target=warehouse.target, docs_dir=tmp_path, build_docs=False
        )
    assert report.success, report


def test_marts_suite_passes_on_the_default_sample(warehouse, tmp_path):
    from segmentation.validate import run_validation

    with _environ(warehouse.env):
        report = run_validation(
            "marts", target=warehouse.target, docs_dir=tmp_path, build_docs=False
        )
    assert report.success, report
