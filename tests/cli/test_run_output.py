"""What `cxp run` prints and keeps off the terminal: failed checks with the rows that broke them;
third-party chatter goes to the run log."""

import io
import logging
import subprocess
import sys
import warnings

from dagster_project.cli.run_outcome import CheckOutcome
from dagster_project.cli.run_pipeline import third_party_output_to
from dagster_project.cli.run_summary import failed_check_lines


def test_splink_notes_and_library_warnings_go_to_the_run_log_not_the_terminal(capsys):
    log = io.StringIO()
    with third_party_output_to(log):
        logging.getLogger("splink.internals.em_training_session").warning(
            "Level same city on comparison address not observed in dataset, unable to train m value"
        )
        warnings.warn("Parameter `partitions_def` is deprecated", DeprecationWarning, stacklevel=1)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert "unable to train m value" in log.getvalue()
    assert "partitions_def" in log.getvalue()
    # Afterwards Splink's logger is as it was.
    assert logging.getLogger("splink").propagate


def test_a_failed_check_names_the_partitions_that_broke_it_and_where_thresholds_change():
    samples = ("| volume_ratio | _extract_date |\n|---|---|\n| 0.1542 | 1997-01-13T00:00:00 |\n"
               "| 0.1883 | 1997-01-14T00:00:00 |\n| 0.1255 | 1997-01-15T00:00:00 |\n| 0.11 | 1997-01-16T00:00:00 |\n")
    volume = CheckOutcome("raw/ecommerce_orders", "row_count_not_collapsed", False, "ERROR",
                          {"rule": "A partition holds at least 0.2× the median rows.", "failing_samples": samples})
    lines = failed_check_lines([volume])
    assert lines[0] == "  ✗ raw/ecommerce_orders: row_count_not_collapsed (ERROR): A partition holds at least 0.2× the median rows."
    assert any("1997-01-13" in line for line in lines) and not any("1997-01-16" in line for line in lines)
    assert "CXP_QUALITY_THRESHOLDS" in lines[-1]
    # A failed dbt test downstream has no raw thresholds to point at.
    test = CheckOutcome("marts/fct_orders", "orders_reconcile_with_lines", False, "ERROR", {})
    assert failed_check_lines([test]) == ["  ✗ marts/fct_orders: orders_reconcile_with_lines (ERROR)"]


def test_the_command_line_loads_feast_and_splink_without_library_deprecation_noise():
    # Feast turns DeprecationWarnings on at import; sqlglot then warns that sqlglotrs is deprecated.
    result = subprocess.run([sys.executable, "-c", "import dagster_project.cli, feast, splink"], capture_output=True, text=True)
    assert result.returncode == 0 and "DeprecationWarning" not in result.stderr, result.stderr
