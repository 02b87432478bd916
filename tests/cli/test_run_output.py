"""What `cxp run` keeps off the terminal: third-party chatter goes to the run log."""

import io
import logging
import warnings

from dagster_project.cli.run_pipeline import third_party_output_to


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
