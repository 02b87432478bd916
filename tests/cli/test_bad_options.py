"""A bad option is refused by name before any work starts (nothing generated, read or started)."""

import pytest
from click.testing import CliRunner

from dagster_project.cli import main


@pytest.mark.parametrize("arguments", [
    ["generate", "--customers", "0"], ["generate", "--days", "-3"], ["serve", "--workers", "0"], ["serve", "--port", "99999"],
    ["ui", "--port", "0"], ["docs", "--port", "70000"], ["run", "--date", "2026-13-01"],
])
def test_a_bad_option_is_refused_by_name_before_anything_happens(arguments, cxp_home):
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{arguments[1]}'" in result.output
    assert not cxp_home.exists()
