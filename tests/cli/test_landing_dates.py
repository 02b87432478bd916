"""What `cxp run` refuses before it starts, and what it must not refuse: misdated export files."""

import shutil
from datetime import date, datetime, timedelta, timezone

import pytest

from dagster_project.cli.run_lock import RunInProgress, exclusive_run
from dagster_project.cli.run_pipeline import LandingError, run_pipeline
from dagster_project.settings import load_settings
from tests.cli.test_cxp_run import LANDING


@pytest.fixture
def landing_with_a_future_file(tmp_path, cxp_home, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(LANDING, landing)
    future = datetime.now(timezone.utc).date() + timedelta(days=30)
    shutil.copy(landing / "ecommerce" / "orders_2024-03-04.csv", landing / "ecommerce" / f"orders_{future}.csv")
    monkeypatch.setenv("CXP_LANDING", str(landing))
    return landing, future


def test_a_whole_run_refuses_future_dated_files_and_names_them(landing_with_a_future_file):
    _, future = landing_with_a_future_file
    with pytest.raises(LandingError, match=f"1 file\\(s\\) .* are dated after .*: ecommerce/orders_{future}.csv. .*--date"):
        run_pipeline(load_settings())


def test_a_one_day_run_is_not_refused_for_another_days_misdated_file(landing_with_a_future_file):
    settings = load_settings()
    # The landing is judged before the run takes the home's lock: held here, the lock is what stops
    # this run, so the misdated file did not.
    with exclusive_run(settings.home):
        with pytest.raises(RunInProgress):
            run_pipeline(settings, date(2024, 3, 4))
    with pytest.raises(LandingError, match="is in the future"):
        run_pipeline(settings, landing_with_a_future_file[1])
