"""One API base URL: the load balancer URL map that sends each route to its family's function.

Generated from the route tables, so a new route is routed without editing this file. Each
route becomes a route rule matching its path template (`{leaderboard_id}` -> `{leaderboard_id=*}`),
which Google's URL maps evaluate on the request path.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from functions.families import DEPLOYED, FAMILIES
from shared.http.family import common_routes

_PARAM = re.compile(r"\{(\w+)\}")


def function_name(family: str) -> str:
    return "drgero-" + family.replace("_", "-")


def backend(project: str, family: str) -> str:
    return f"https://www.googleapis.com/compute/v1/projects/{project}/global/backendServices/{function_name(family)}"


def route_table() -> list[tuple[str, str, str]]:
    """(method, path template, family) for every route, health and OpenAPI going to the resource family."""
    rows = [(route.method, route.path, family.name) for family in DEPLOYED for route in family.routes]
    rows += [(route.method, route.path, "resource_api") for route in common_routes(FAMILIES)]
    return rows


def url_map(project: str, name: str = "drgero-api") -> dict:
    """The URL map resource (as `gcloud compute url-maps import` reads it) with one rule per path."""
    templates: dict[str, str] = {}
    for _, path, family in route_table():
        templates.setdefault(path, family)
    rules = [{"priority": priority, "matchRules": [{"pathTemplateMatch": _PARAM.sub(r"{\1=*}", path)}],
              "service": backend(project, family)}
             for priority, (path, family) in enumerate(sorted(templates.items()), start=1)]
    return {"name": name, "defaultService": backend(project, "resource_api"),
            "hostRules": [{"hosts": ["*"], "pathMatcher": "drgero"}],
            "pathMatchers": [{"name": "drgero", "defaultService": backend(project, "resource_api"),
                              "routeRules": rules}]}


def family_of(service: str) -> str:
    """The family a backend service URL of this map stands for."""
    return service.rsplit("/", 1)[1].removeprefix("drgero-").replace("-", "_")


def path_matcher(url_map_resource: dict) -> Callable[[str], str | None]:
    """A function from a request path to the family whose rule matches it (None: the map's default service).

    Rules are tried by priority, as the load balancer does; `{name=*}` matches one path segment.
    """
    rules = [(re.compile("^" + re.sub(r"\\\{\w+=\\\*\\\}", "[^/]+", re.escape(rule["matchRules"][0]["pathTemplateMatch"]))
                         + "$"), family_of(rule["service"]))
             for rule in sorted(url_map_resource["pathMatchers"][0]["routeRules"], key=lambda r: r["priority"])]

    def route(path: str) -> str | None:
        return next((family for pattern, family in rules if pattern.match(path)), None)

    return route


def routed_family(url_map_resource: dict, path: str) -> str | None:
    """Which function a concrete request path reaches under the URL map by a rule (None: the default)."""
    return path_matcher(url_map_resource)(path)
