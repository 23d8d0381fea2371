"""The README's scope table is the route tables' truth, so the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from functions.families import FAMILIES

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| (\w+) \| `([A-Z]+) ([^`]+)` \| (.+) \|$")


def test_the_readme_lists_every_route_with_its_scopes():
    documented = {}
    for line in README.read_text().splitlines():
        if match := ROW.match(line):
            family, method, path, needs = match.groups()
            documented[(family, method, path)] = tuple(re.findall(r"`([^`]+)`", needs)) or (needs,)
    declared = {(family.name, route.method, route.path): route.scopes or (route.auth,)
                for family in FAMILIES for route in family.routes}
    assert documented == declared
