"""Feast's feature views take each feature's type from the dbt contract of its feature mart."""

import pytest
import yaml
from feast.types import Array, String

from dagster_project.settings import REPO_ROOT
from feature_repo.feature_catalog import FEATURE_MODELS_YAML, load_feature_tables


def test_interests_are_served_as_the_list_of_strings_the_mart_stores():
    tables = {spec.feature_view: spec for spec in load_feature_tables(REPO_ROOT / "dbt")}
    assert {feature.name: feature.dtype for feature in tables["customer_profile"].features}["interests"] == Array(String)


def test_a_dbt_type_without_a_feast_type_is_refused_by_name(tmp_path):
    document = yaml.safe_load((REPO_ROOT / "dbt" / FEATURE_MODELS_YAML).read_text())
    document["models"][0]["columns"][-2]["data_type"] = "map(varchar, varchar)"
    (tmp_path / FEATURE_MODELS_YAML).parent.mkdir(parents=True)
    (tmp_path / FEATURE_MODELS_YAML).write_text(yaml.safe_dump(document))
    with pytest.raises(ValueError, match="no Feast type for dbt data_type 'map"):
        load_feature_tables(tmp_path)
