"""A bad option is refused by name before any work starts (nothing generated, read or started)."""

import polars as pl
import pytest
from click.testing import CliRunner

from dagster_project.cli import main


@pytest.mark.parametrize("arguments", [
    ["generate", "--customers", "0"], ["generate", "--days", "-3"], ["serve", "--workers", "0"], ["serve", "--port", "99999"],
    ["ui", "--port", "0"], ["docs", "--port", "70000"], ["run", "--date", "2026-13-01"], ["generate", "--catalog-skus", "5"],
])
def test_a_bad_option_is_refused_by_name_before_anything_happens(arguments, cxp_home):
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{arguments[1]}'" in result.output
    assert not cxp_home.exists()


def test_the_catalog_size_is_an_option_of_generate(tmp_path):
    out = tmp_path / "landing"
    result = CliRunner().invoke(main, ["generate", "--customers", "40", "--days", "3", "--catalog-skus", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out / "_truth" / "products.parquet").height == 60
