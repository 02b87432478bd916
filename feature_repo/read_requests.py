"""What a `/get-online-features` body must be before Feast's app reads it.

Feast's app answers a request naming an unknown feature, two features of one name, an unknown
entity key or no entity at all with HTTP 500. Here each such read is refused with a message naming
what is wrong and what is accepted: 400 for a body that is not a read (not JSON, not an object,
fields missing or of the wrong type, empty or uneven entity lists), 422 for a well-formed read
naming an entity key, feature service, view or feature that does not exist, one name twice, or
entity keys other than those of the views it reads (a product's `sku` for a customer's view), and
413 beyond the entity-row limit.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from feast import FeatureService, FeatureStore
from feast.errors import FeastObjectNotFoundException

from feature_repo.error_answers import RequestRefused
from feature_repo.online_response import RequestedFeatures, requested_features


def check_read(body: bytes, store: FeatureStore, max_entities: int) -> RequestedFeatures:
    """The features a body's read asks for, as the answer names them; `RequestRefused` if it is no read."""
    try:
        request = json.loads(body or b"null")
    except ValueError as error:
        raise RequestRefused(400, f"The body is not JSON: {error}.") from error
    if not isinstance(request, dict):
        raise RequestRefused(400, 'The body must be a JSON object: {"feature_service": ..., "entities": {...}}.')
    _check_entities(request.get("entities"), store, max_entities)
    service = _checked_service(request.get("feature_service"), request.get("features"), store)
    _check_keys_fit(request["entities"], service, request.get("features"), store)
    requested = requested_features(request, store, service)
    twice = sorted(name for name, count in Counter(requested.names).items() if count > 1)
    if twice:
        raise RequestRefused(422, f"The answer would name {', '.join(twice)} more than once: ask for each feature once, "
                                  'or send "full_feature_names": true to name each as view__feature.')
    return requested


def _check_entities(entities: Any, store: FeatureStore, max_entities: int) -> None:
    accepted = {entity.join_key for entity in store.list_entities(allow_cache=True)}
    example = ", ".join(sorted(accepted)) or "customer_id"
    if not isinstance(entities, dict) or not entities:
        raise RequestRefused(400, f'"entities" must map a join key ({example}) to a list of values.')
    unknown = sorted(set(entities) - accepted)
    if unknown:
        raise RequestRefused(422, f"Unknown entity key(s) {', '.join(unknown)}: accepted are {example}.")
    lengths = set()
    for key, values in entities.items():
        if not isinstance(values, list) or not values:
            raise RequestRefused(400, f'"entities.{key}" must be a non-empty list of values.')
        if not all(isinstance(value, (str, int)) and not isinstance(value, bool) for value in values):
            raise RequestRefused(400, f'"entities.{key}" must hold strings or integers only.')
        lengths.add(len(values))
    if len(lengths) > 1:
        raise RequestRefused(400, "Every entity key must list the same number of values.")
    rows = lengths.pop()
    if rows > max_entities:
        raise RequestRefused(413, f"{rows:,} entity rows asked for; at most {max_entities:,} per request. "
                                  "Split the request (or raise CXP_FEATURE_SERVER_MAX_ENTITIES).")


def _checked_service(service: Any, features: Any, store: FeatureStore) -> FeatureService | None:
    """The feature service a read names (fetched once: Feast builds it anew on every call), or None
    for a checked `features` list."""
    if (service is None) == (features is None):
        raise RequestRefused(400, 'Name either a "feature_service" or a list of "features" ("view:feature").')
    if service is not None:
        if not isinstance(service, str):
            raise RequestRefused(400, '"feature_service" must be a name.')
        try:
            return store.get_feature_service(service, allow_cache=True)
        except FeastObjectNotFoundException as error:
            services = ", ".join(sorted(s.name for s in store.list_feature_services()))
            raise RequestRefused(422, f"No feature service {service!r}; there are: {services}.") from error
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise RequestRefused(400, '"features" must be a non-empty list of "view:feature" names.')
    views = [*store.list_feature_views(allow_cache=True), *store.list_on_demand_feature_views(allow_cache=True)]
    names = {view.name: {feature.name for feature in view.features} for view in views}
    for reference in features:
        view, _, feature = reference.partition(":")
        if view not in names:
            raise RequestRefused(422, f"No feature view {view!r} (in {reference!r}); there are: {', '.join(sorted(names))}.")
        if feature not in names[view]:
            raise RequestRefused(422, f"No feature {feature!r} in {view!r}; it has: {', '.join(sorted(names[view]))}.")
    return None


def _check_keys_fit(entities: dict[str, Any], service: FeatureService | None, features: list[str] | None, store: FeatureStore) -> None:
    """The entity keys sent must be those of the views read: Feast answers a missing key with 500,
    and echoes an extra one back unread, as if it had keyed the answer."""
    join_keys = {view.name: [column.name for column in view.entity_columns] for view in store.list_feature_views(allow_cache=True)}
    for derived in store.list_on_demand_feature_views(allow_cache=True):
        join_keys[derived.name] = [key for source in derived.source_feature_view_projections.values() for key in join_keys.get(source.name, [])]
    if service is not None:
        needed = {projection.join_key_map.get(key, key) for projection in service.feature_view_projections
                  for key in join_keys.get(projection.name, [])}
        asked = f"Feature service {service.name!r} is"
    else:
        needed = {key for reference in features or [] for key in join_keys.get(reference.partition(":")[0], [])}
        asked = "The features asked for are"
    if needed and set(entities) != needed:
        example = ", ".join(f'"{key}": [...]' for key in sorted(needed))
        raise RequestRefused(422, f"{asked} keyed by {' and '.join(sorted(needed))}, not {' and '.join(sorted(entities))}: "
                                  f'send "entities": {{{example}}}.')
