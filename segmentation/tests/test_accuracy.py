"""Pairwise precision/recall of identity resolution on tiny hand cases."""

import pyarrow as pa
import pytest

from segmentation.accuracy import pairwise_accuracy


def predicted(assignments: dict[str, str]) -> pa.Table:
    return pa.table(
        {
            "identifier_type": ["anonymous_id"] * len(assignments),
            "identifier_value": list(assignments),
            "person_id": list(assignments.values()),
        }
    )


def truth(assignments: dict[str, str | None], shared: set[str] = frozenset()) -> pa.Table:
    return pa.table(
        {
            "identifier_type": ["anonymous_id"] * len(assignments),
            "identifier_value": list(assignments),
            "person_key": pa.array(list(assignments.values()), pa.string()),
            "is_shared_device": [v in shared for v in assignments],
        }
    )


def test_perfect():
    acc = pairwise_accuracy(
        predicted({"a": "p1", "b": "p1", "c": "p2"}), truth({"a": "t1", "b": "t1", "c": "t2"})
    )
    assert (acc.precision, acc.recall) == (1.0, 1.0)
    assert (acc.predicted_pairs, acc.true_pairs, acc.correct_pairs) == (1, 1, 1)


def test_over_merge_costs_precision():
    # Everything in one predicted person: 6 predicted pairs, 2 of them true.
    acc = pairwise_accuracy(
        predicted({"a": "p", "b": "p", "c": "p", "d": "p"}),
        truth({"a": "t1", "b": "t1", "c": "t2", "d": "t2"}),
    )
    assert acc.predicted_pairs == 6 and acc.true_pairs == 2 and acc.correct_pairs == 2
    assert acc.precision == pytest.approx(1 / 3) and acc.recall == 1.0


def test_split_costs_recall():
    # Truth: one person of 3 (3 pairs); predicted {a,b},{c}: 1 pair, correct.
    acc = pairwise_accuracy(
        predicted({"a": "p1", "b": "p1", "c": "p2"}), truth({"a": "t", "b": "t", "c": "t"})
    )
    assert acc.precision == 1.0 and acc.recall == pytest.approx(1 / 3)


def test_shared_devices_and_unknown_owner_excluded():
    # The kiosk 'k' is predicted with a's person: ignored because it is shared in
    # truth; 'n' (no owner) is ignored too; 'z' is only in the prediction.
    acc = pairwise_accuracy(
        predicted({"a": "p1", "b": "p1", "k": "p1", "n": "p1", "z": "p1"}),
        truth({"a": "t1", "b": "t1", "k": "t9", "n": None}, shared={"k"}),
    )
    assert acc.identifiers == 2 and acc.unmatched_predicted == 3
    assert (acc.precision, acc.recall) == (1.0, 1.0)


def test_identifier_type_is_part_of_the_key():
    pred = pa.table(
        {
            "identifier_type": ["user_id", "email"],
            "identifier_value": ["x", "x"],
            "person_id": ["p1", "p2"],
        }
    )
    tru = pa.table(
        {
            "identifier_type": ["user_id", "email"],
            "identifier_value": ["x", "x"],
            "person_key": ["t", "t"],
            "is_shared_device": [False, False],
        }
    )
    acc = pairwise_accuracy(pred, tru)
    assert acc.true_pairs == 1 and acc.predicted_pairs == 0 and acc.recall == 0.0
