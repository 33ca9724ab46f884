"""Accuracy of identity resolution against the generator's ground truth.

Pairwise precision and recall of "same person" decisions: over the identifiers
present in both the prediction (identifier -> person_id) and the truth
(identifier -> person_key), excluding shared devices (truth is_shared_device
or no owner), precision = true pairs / predicted pairs and recall = true pairs
/ true-same-person pairs. Pairs are counted from cluster sizes and the
contingency table (sum of n*(n-1)/2), never enumerated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

KEY = ["identifier_type", "identifier_value"]


@dataclass(frozen=True)
class PairwiseAccuracy:
    identifiers: int
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int
    unmatched_truth: int
    unmatched_predicted: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def __str__(self) -> str:
        return (
            f"identifiers compared: {self.identifiers:,} "
            f"(truth only: {self.unmatched_truth:,}, "
            f"predicted only: {self.unmatched_predicted:,})\n"
            f"pairs: predicted {self.predicted_pairs:,}, true {self.true_pairs:,}, "
            f"correct {self.correct_pairs:,}\n"
            f"pairwise precision: {self.precision:.4f}\npairwise recall:    {self.recall:.4f}"
        )


def _pairs(table: pa.Table, keys: list[str]) -> int:
    counts = table.group_by(keys).aggregate([([], "count_all")])["count_all"]
    counts = pc.cast(counts, pa.int64())
    return int(pc.sum(pc.divide(pc.multiply(counts, pc.subtract(counts, 1)), 2)).as_py() or 0)


def pairwise_accuracy(predicted: pa.Table, truth: pa.Table) -> PairwiseAccuracy:
    """predicted: identifier_type, identifier_value, person_id; truth:
    identifier_type, identifier_value, person_key (NULL for kiosks),
    is_shared_device."""
    truth = truth.select([*KEY, "person_key", "is_shared_device"])
    shared = pc.fill_null(truth["is_shared_device"], False)
    keep = pc.and_(pc.invert(shared), pc.is_valid(truth["person_key"]))
    truth = truth.filter(keep).select([*KEY, "person_key"])
    predicted = predicted.select([*KEY, "person_id"])
    joined = truth.join(predicted, KEY, join_type="inner")
    return PairwiseAccuracy(
        identifiers=joined.num_rows,
        predicted_pairs=_pairs(joined, ["person_id"]),
        true_pairs=_pairs(joined, ["person_key"]),
        correct_pairs=_pairs(joined, ["person_id", "person_key"]),
        unmatched_truth=truth.num_rows - joined.num_rows,
        unmatched_predicted=predicted.join(truth, KEY, join_type="left anti").num_rows,
    )


def read_truth(landing: str | Path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(Path(landing) / "_truth" / "identifiers.parquet")


def read_predicted(target: str | None = None) -> pa.Table:
    """The identity map (clear-text emails) from the warehouse of `target`."""
    from segmentation.warehouse import connect, schema_name

    query = (
        "select identifier_type, identifier_value, person_id "
        f"from {schema_name('intermediate')}.int_identity_graph"
    )
    con = connect(target, read_only=True) if _is_duckdb(target) else connect(target)
    try:
        if hasattr(con, "sql"):
            return con.sql(query).to_arrow_table()
        cur = con.cursor()
        cur.execute(query)
        rows = cur.fetchall()
        return pa.table({c: [r[i] for r in rows] for i, c in enumerate([*KEY, "person_id"])})
    finally:
        con.close()


def _is_duckdb(target: str | None) -> bool:
    from segmentation.warehouse import target_config

    return target_config(target).type == "duckdb"


def identity_accuracy(landing: str | Path, target: str | None = None) -> PairwiseAccuracy:
    return pairwise_accuracy(read_predicted(target), read_truth(landing))
