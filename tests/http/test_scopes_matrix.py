"""Scopes matrix: every route refuses a credential without its documented scope and accepts one with it.

Generated from the route tables: API-token routes get a token holding exactly the route's
scopes (accepted) and, per scope, one holding every other scope (403 insufficient_scope);
session routes get each role, owner and admin for `workspace:admin`, members for
`workspace:member` (403 insufficient_role otherwise).
"""

from __future__ import annotations

import pytest

from functions.families import FAMILIES
from shared.auth.scopes import ALL_SCOPES, ROLE_SCOPES
from tests.factories import valid_body

TOKEN_ROUTES = [r for f in FAMILIES for r in f.routes if r.auth in ("api_token", "push") and r.scopes]
SESSION_ROUTES = [r for f in FAMILIES for r in f.routes if r.auth == "session"]
TOKEN_CASES = [(route, scope) for route in TOKEN_ROUTES for scope in route.scopes]
ROLE_CASES = [(route, role) for route in SESSION_ROUTES for role in ROLE_SCOPES]


def _name(route) -> str:
    return f"{route.method} {route.path}"


def test_every_route_with_credentials_declares_what_it_needs():
    for family in FAMILIES:
        for route in family.routes:
            if route.auth in ("api_token", "session"):
                assert route.scopes, f"{_name(route)} declares no scope"


@pytest.mark.parametrize("route", TOKEN_ROUTES, ids=_name)
async def test_a_token_with_exactly_the_routes_scopes_is_accepted(world, route):
    answer = await world.call(route, await world.tenants.headers("acme", scopes=route.scopes),
                              json_body=valid_body(route))
    assert answer.status_code not in (401, 403), answer.text[:300]


@pytest.mark.parametrize("route, scope", TOKEN_CASES, ids=lambda v: v if isinstance(v, str) else _name(v))
async def test_a_token_missing_one_of_its_scopes_is_refused(world, route, scope):
    others = tuple(s for s in ALL_SCOPES if s != scope)
    answer = await world.call(route, await world.tenants.headers("acme", scopes=others), json_body=valid_body(route))
    assert answer.status_code == 403 and answer.json()["error"] == "insufficient_scope"
    assert scope in answer.json()["message"]


@pytest.mark.parametrize("route, role", ROLE_CASES, ids=lambda v: v if isinstance(v, str) else _name(v))
async def test_each_role_gets_exactly_the_session_routes_it_is_granted(world, route, role):
    headers = await world.tenants.session("acme", role)
    answer = await world.call(route, headers, json_body=valid_body(route))
    if set(route.scopes) <= ROLE_SCOPES[role]:
        assert answer.status_code not in (401, 403), answer.text[:300]
    else:
        assert answer.status_code == 403 and answer.json()["error"] == "insufficient_role"
