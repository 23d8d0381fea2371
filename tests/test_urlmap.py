"""The URL map puts every route of every family behind one base URL, on the right function."""

from __future__ import annotations

import re
import uuid

from infra.urlmap import route_table, routed_family, url_map


def test_every_route_reaches_its_family_through_the_url_map():
    resource = url_map("demo-project")
    for method, path, family in route_table():
        concrete = re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), path)
        assert routed_family(resource, concrete) == family, (method, path)


def test_unknown_paths_fall_to_the_resource_family_and_rules_are_unique():
    resource = url_map("demo-project")
    assert routed_family(resource, "/nowhere") is None
    assert resource["defaultService"].endswith("/drgero-resource-api")
    templates = [r["matchRules"][0]["pathTemplateMatch"] for r in resource["pathMatchers"][0]["routeRules"]]
    assert len(templates) == len(set(templates))
    assert "/v1/leaderboard/{leaderboard_id=*}/dataset/push" in templates
