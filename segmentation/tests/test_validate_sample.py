"""The great-expectations gates on the real default sample: a healthy collector
passes the landing suite on both targets (its noise is tolerated)."""

from __future__ import annotations

from segmentation.tests.conftest import _environ


def test_landing_suite_passes_on_the_default_sample(warehouse):
    from segmentation.validate import run_validation

    with _environ(warehouse.env):
        report = run_validation("landing", target=warehouse.target, build_docs=False)
    assert report.success, report
