"""The Feast repository: the customer entity, feature views over the dbt feature marts, on-demand
features, and one feature service per consumer. `definitions.feature_store_objects` lists them
for `FeatureStore.apply`; the feature_store*.yaml files configure the stores."""
