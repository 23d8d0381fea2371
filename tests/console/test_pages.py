"""The console's pages through the app: sign-in and out, forms with the API's validation, CSRF, leaderboards."""

from __future__ import annotations

import uuid

from shared.services.console_sessions import create_sign_in_link
from shared.services.workspaces import create_workspace
from tests.console.conftest import spend_link
from tests.factories import get_leaderboard


async def test_a_signed_out_browser_is_sent_to_sign_in(client):
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?next=/"
    page = await client.get("/sign-in")
    assert page.status_code == 200 and "API token" in page.text and 'type="password"' in page.text


async def test_a_one_time_link_signs_in_once_with_an_httponly_cookie(deps, clients, console):
    secret = await create_sign_in_link(deps, console.workspace_id)
    first, second = clients(), clients()
    assert (await first.get(f"/sign-in/link/{secret}")).status_code == 200  # showing it does not spend it
    answer = await spend_link(first, secret)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "drgero_console=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "drgero_link_" not in (await first.get("/")).text
    spent = await spend_link(second, secret)
    assert spent.status_code == 401 and "used already" in spent.text
    assert (await second.get("/")).status_code == 303


async def test_an_expired_link_is_refused(deps, clients, clock):
    workspace = await create_workspace(deps, "late", "pro")
    secret = await create_sign_in_link(deps, workspace.id, ttl_seconds=60)
    clock.advance(seconds=61)
    answer = await spend_link(clients(), secret)
    assert answer.status_code == 401 and "expired" in answer.text


async def test_an_api_token_signs_in_with_its_scopes(clients, tenants):
    headers = await tenants.headers("acme", scopes=("leaderboards:read",))
    client = clients()
    page = await client.get("/sign-in")
    token = page.text.split('name="signin_csrf" value="')[1].split('"')[0]
    answer = await client.post("/sign-in", data={"signin_csrf": token, "next": "/",
                                                 "api_token": headers["Authorization"].split()[1]})
    assert answer.status_code == 303
    assert (await client.get("/")).status_code == 200
    refused = await client.get("/leaderboards/new")
    assert refused.status_code == 403 and "leaderboards:write" in refused.text


async def test_a_wrong_token_is_refused_on_the_form(clients):
    client = clients()
    page = await client.get("/sign-in")
    token = page.text.split('name="signin_csrf" value="')[1].split('"')[0]
    answer = await client.post("/sign-in", data={"signin_csrf": token, "api_token": "drgero_nope"})
    assert answer.status_code == 401 and "invalid or revoked" in answer.text


async def test_sign_in_forms_need_their_own_csrf_cookie(clients):
    answer = await clients().post("/sign-in", data={"signin_csrf": "forged", "api_token": "drgero_x"})
    assert answer.status_code == 403


async def test_writes_without_the_session_csrf_token_are_refused(console):
    answer = await console.post("/leaderboards/new", {"name": "x"}, csrf="0" * 64)
    assert answer.status_code == 403 and "CSRF" in answer.text
    scripted = await console.client.post("/leaderboards/new", data={"name": "x"}, headers={"Accept": "application/json"})
    assert scripted.status_code == 403 and scripted.json()["error"] == "csrf_failed"
    listing = await console.get("/")
    assert "No leaderboard yet" in listing.text


async def test_sign_out_ends_the_session(console):
    answer = await console.post("/sign-out")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"
    assert (await console.client.get("/")).status_code == 303


async def test_the_create_form_shows_the_apis_validation_messages(console):
    answer = await console.post("/leaderboards/new", {"name": "", "dataset_type": "SIDEWAYS", "eval_type": "exact"})
    assert answer.status_code == 422
    assert "dataset_type" in answer.text and "Input should be" in answer.text and 'aria-invalid="true"' in answer.text


async def test_a_leaderboard_is_created_listed_and_edited(console):
    body = get_leaderboard()
    answer = await console.post("/leaderboards/new", {"name": body["name"], "dataset_type": "GET",
                                                      "dataset_url": body["dataset_url"], "eval_type": "exact",
                                                      "model_prompt": "Answer: {input}"})
    assert answer.status_code == 303
    detail = answer.headers["location"]
    page = await console.get(detail)
    assert page.status_code == 200 and body["name"] in page.text
    listing = await console.get("/")
    assert body["name"] in listing.text and "GET · exact" in listing.text
    edited = await console.post(f"{detail}/edit", {"name": "Renamed", "dataset_type": "GET",
                                                   "dataset_url": body["dataset_url"], "eval_type": "exact",
                                                   "model_prompt": "{input}", "monthly_budget_usd": "12.5"})
    assert edited.status_code == 303
    page = await console.get(detail)
    assert "Renamed" in page.text and "of $12.50" in page.text


async def test_a_supabase_session_signs_in_and_ends_with_the_membership(clients, tenants, deps):
    headers = await tenants.session("acme", "member")
    client = clients()
    page = await client.get("/sign-in")
    token = page.text.split('name="signin_csrf" value="')[1].split('"')[0]
    answer = await client.post("/sign-in", data={"signin_csrf": token, "next": "/settings",
                                                 "access_token": headers["Authorization"][7:]})
    assert answer.status_code == 303 and answer.headers["location"] == "/settings"
    settings = await client.get("/settings")
    assert settings.status_code == 200 and "member@acme.example" in settings.text
    assert "API tokens" not in settings.text  # a member is not an admin
    owner = await tenants.session("acme", "owner")
    removed = await client.request("DELETE", "/api/invite-user", headers=owner,
                                   json={"email": "member@acme.example"})
    assert removed.status_code == 200
    assert (await client.get("/")).status_code == 303  # signed out with the membership


async def test_a_revoked_token_signs_its_console_out(clients, tenants, deps):
    from shared.services.api_tokens import revoke_api_token  # noqa: PLC0415
    from shared.stores.workspaces import ApiTokens  # noqa: PLC0415

    headers = await tenants.headers("acme")
    client = clients()
    page = await client.get("/sign-in")
    token = page.text.split('name="signin_csrf" value="')[1].split('"')[0]
    await client.post("/sign-in", data={"signin_csrf": token, "api_token": headers["Authorization"][7:]})
    assert (await client.get("/")).status_code == 200
    [record] = await ApiTokens(deps.documents).find({"workspace_id": tenants.ids["acme"]}, order=())
    await revoke_api_token(deps, tenants.ids["acme"], record.id)
    assert (await client.get("/")).status_code == 303


async def test_scripts_get_json_errors_not_redirects(client):
    answer = await client.get(f"/leaderboards/{uuid.uuid4()}/runs.json")
    assert answer.status_code == 401 and answer.json()["error"] == "signed_out"


async def test_unknown_ids_and_a_foreign_next_are_handled(console):
    missing = await console.client.get(f"/leaderboards/{uuid.uuid4()}")
    assert missing.status_code == 404 and "Not found" in missing.text
    assert (await console.client.get("/leaderboards/not-a-uuid")).status_code == 404
    client = console.client
    page = await client.get("/sign-in?next=//evil.example/")
    assert 'name="next" value="/"' in page.text
