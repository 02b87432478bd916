"""The identity assets' metadata points the Dagster UI user at the links and customers worth a look."""

import polars as pl

from dagster_project.defs.identity.explanation_metadata import customer_size_metadata, match_decision_metadata


def test_the_weakest_accepted_pairs_come_with_their_weights_and_the_command_that_explains_them():
    pairs = pl.DataFrame({
        "record_id_l": ["a", "c", "e"], "record_id_r": ["b", "d", "f"], "match_probability": [0.99, 0.31, 0.5],
        "match_weight": [7.0, -1.0, 0.0], "first_name_match_weight": [3.0, 2.0, None], "is_accepted": [True, True, False],
        "decision": ["accepted", "accepted: cluster evidence", "below threshold"],
    })
    metadata = match_decision_metadata(pairs)
    weakest = metadata["weakest_accepted_pairs"].value.splitlines()
    assert weakest[0] == "| pair | probability | decision | first_name |"
    assert weakest[2] == "| `cxp explain records c d` | 0.310 | accepted: cluster evidence | +2.0 |"
    assert len(weakest) == 4  # the rejected pair is not listed
    assert "| below threshold | 1 |" in metadata["pairs_by_decision"].value


def test_customer_sizes_are_banded_and_the_largest_customers_listed_first():
    assignments = pl.DataFrame({
        "record_id": [f"r{i}" for i in range(60)],
        "customer_id": ["cus_big"] * 55 + ["cus_pair"] * 2 + ["cus_a", "cus_b", "cus_c"],
    })
    metadata = customer_size_metadata(assignments)
    assert metadata["customers_by_size"].value.splitlines()[2:] == ["| 1 | 3 |", "| 2 | 1 |", "| over 50 | 1 |"]
    assert metadata["largest_customers"].value.splitlines()[2] == "| `cxp explain customer cus_big` | 55 |"
