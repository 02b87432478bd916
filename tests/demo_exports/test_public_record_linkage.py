"""FEBRL 4 written as CRM contact exports: the benchmark's records, keyed like the demo's truth."""

import csv
from pathlib import Path

import polars as pl

from dagster_project.demo_exports.crm_export import CONTACT_COLUMNS
from dagster_project.demo_exports.public_record_linkage import write_febrl_landing


def test_each_benchmark_file_is_one_day_of_contacts_with_truth_for_every_row(tmp_path: Path) -> None:
    written = write_febrl_landing(tmp_path, people=40)
    files = sorted((tmp_path / "crm").glob("contacts_*.csv"))
    assert [f.name for f in files] == ["contacts_2024-01-01.csv", "contacts_2024-01-02.csv"]
    rows = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == CONTACT_COLUMNS
            rows += list(reader)
    truth = pl.read_parquet(tmp_path / "_truth" / "source_records.parquet")
    assert (written.records, written.people, written.true_pairs) == (80, 40, 40)
    assert sorted(truth["source_key"]) == sorted(row["Contact ID"] for row in rows)
    assert truth.group_by("person_id").len()["len"].to_list() == [2] * 40
    # No email or phone, as in the benchmark; birthdates as the report writes them, or empty.
    assert {row["Email"] for row in rows} == {""} and {row["Phone"] for row in rows} == {""}
    assert all(row["Birthdate"] == "" or row["Birthdate"].count("/") == 2 for row in rows)
