"""The Feast repository: the customer and product entities, feature views over the dbt feature
marts, the models' scores and the recommendations, on-demand features, and one feature service per
consumer. `definitions.feature_store_objects` lists them for `FeatureStore.apply`; the
feature_store*.yaml files configure the stores."""

import logging


class _ServeWhileMaterializingNote(logging.Filter):
    """Feast warns, on every configuration it reads, that `serve_features_while_materializing`
    "typically has no effect" on a `file` registry. It has: Feast's file `Registry` carries the
    flag and the serving gate reads it (tests/features/test_feature_store.py serves a view left
    MATERIALIZING). The note, wrong for cxp, would open every command's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("`serve_features_while_materializing` is enabled but `registry_type`")


logging.getLogger("feast.repo_config").addFilter(_ServeWhileMaterializingNote())
