"""Same arguments, same bytes; another seed, other data; another end date, the same data shifted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from tests.demo_exports.demo_export_contract import read_csv_records


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_byte_identical_trees(demo_dir, generate_into):
    again = generate_into(seed=7)
    assert any(name.startswith("ecommerce/products_") for name in _tree(demo_dir))
    assert _tree(demo_dir) == _tree(again)


def test_the_catalog_size_changes_the_products_and_what_orders_buy_and_nothing_else(demo_dir, tmp_path):
    from dagster_project.demo_exports import generate_demo_exports

    generate_demo_exports(tmp_path, seed=7, end_date=dt.date(2024, 3, 31), customers=300, days=30, catalog_skus=300)
    mine, small = _tree(demo_dir), _tree(tmp_path)
    assert pl.read_parquet(tmp_path / "_truth/products.parquet").height == 300
    changed = {name.split("_2")[0] for name in mine if not name.startswith("_truth/") and mine[name] != small.get(name)}
    # The people, their contacts, emails and tickets stay as they were: the catalog draws from a stream of its own.
    assert changed == {"ecommerce/orders", "ecommerce/products"}


def test_a_different_seed_gives_different_files(demo_dir, generate_into):
    other = _tree(generate_into(seed=8))
    mine = _tree(demo_dir)
    assert other.keys() != mine.keys() or any(other[name] != mine[name] for name in mine)
    assert other["crm/contacts_2024-03-02.csv"] != mine["crm/contacts_2024-03-02.csv"]


def test_moving_the_end_date_only_shifts_the_calendar(demo_dir, generate_into):
    shifted = generate_into(seed=7, end_date=dt.date(2024, 3, 31) + dt.timedelta(days=45))
    for offset in (0, 10, 29):
        mine = demo_dir / f"crm/contacts_{dt.date(2024, 3, 2) + dt.timedelta(days=offset)}.csv"
        theirs = shifted / f"crm/contacts_{dt.date(2024, 4, 16) + dt.timedelta(days=offset)}.csv"
        assert mine.exists() == theirs.exists()
        if mine.exists():
            ids = [[r["Contact ID"] for r in read_csv_records(path)] for path in (mine, theirs)]
            assert ids[0] == ids[1]


def test_rerunning_into_the_same_folder_replaces_the_previous_run(tmp_path):
    from dagster_project.demo_exports import generate_demo_exports

    generate_demo_exports(tmp_path, customers=50, days=12, seed=1, end_date=dt.date(2024, 1, 31))
    summary = generate_demo_exports(tmp_path, customers=50, days=6, seed=1, end_date=dt.date(2024, 1, 31))
    assert sorted(p.name for p in (tmp_path / "privacy").iterdir())[0] == "erasure_requests_2024-01-26.csv"
    assert summary.files_written == sum(1 for p in tmp_path.rglob("*") if p.is_file())


def test_rerunning_leaves_files_it_did_not_write_alone(tmp_path):
    from dagster_project.demo_exports import generate_demo_exports

    keep = tmp_path / "crm" / "my_own_notes.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("not an export")
    generate_demo_exports(tmp_path, customers=20, days=5, seed=1, end_date=dt.date(2024, 1, 31))
    assert keep.read_text() == "not an export"
