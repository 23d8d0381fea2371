"""Browser sessions: Supabase JWTs are verified strictly and resolve to a workspace role."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth.principal import Principal
from shared.auth.sessions import Jwks, dev_user_id
from shared.services.members import add_member, members_and_invites, remove
from tests.upstream import serving

MEMBERS = "/api/invite-user"


def claims(email: str = "owner@acme.example", **overrides) -> dict:
    now = int(time.time())
    return {"sub": dev_user_id(email), "email": email, "aud": "authenticated", "iat": now, "exp": now + 600,
            **overrides}


def hs256(deps, **overrides) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims(**overrides), deps.settings.session_secret, 'HS256')}"}


@pytest.fixture
async def acme(tenants) -> str:
    await tenants.session("acme", "owner")  # owner@acme.example, the default claims' user
    return tenants.ids["acme"]


async def test_a_valid_session_lists_its_workspace(client, deps, acme):
    view = await client.get(MEMBERS, headers=hs256(deps))
    assert view.status_code == 200
    assert [(m["email"], m["role"]) for m in view.json()["members"]] == [("owner@acme.example", "owner")]


@pytest.mark.parametrize("case, make", [
    ("expired", lambda d: hs256(d, exp=int(time.time()) - 120)),
    ("not yet valid", lambda d: hs256(d, nbf=int(time.time()) + 600)),
    ("wrong audience", lambda d: hs256(d, aud="anon")),
    ("no audience", lambda d: {"Authorization": "Bearer " + jwt.encode(
        {k: v for k, v in claims().items() if k != "aud"}, d.settings.session_secret, "HS256")}),
    ("forged", lambda d: {"Authorization": "Bearer " + jwt.encode(claims(), "another-secret-of-32-bytes-long!", "HS256")}),
    ("alg none", lambda d: {"Authorization": "Bearer " + jwt.encode(claims(), None, algorithm="none")}),
    ("HS512", lambda d: {"Authorization": "Bearer " + jwt.encode(claims(), d.settings.session_secret, "HS512")}),
    ("not a jwt", lambda d: {"Authorization": "Bearer drgero_not-a-session"}),
    ("tampered", lambda d: {"Authorization": hs256(d)["Authorization"][:-4] + "AAAA"}),
    ("missing", lambda d: {}),
])
async def test_bad_session_tokens_get_401_json(client, deps, acme, case, make):
    answer = await client.get(MEMBERS, headers=make(deps))
    assert answer.status_code == 401, case
    assert answer.json()["error"] in ("unauthorized", "invalid_session", "session_expired")
    assert answer.json()["message"]


async def test_an_expired_session_says_so(client, deps, acme):
    answer = await client.get(MEMBERS, headers=hs256(deps, exp=int(time.time()) - 120))
    assert answer.json()["error"] == "session_expired"


async def test_a_member_cannot_do_admin_actions(client, tenants, acme):
    member = await tenants.session("acme", "member")
    assert (await client.get(MEMBERS, headers=member)).status_code == 200
    for method, path, body in [("GET", "/api/tokens", None), ("POST", "/api/tokens", {"name": "x"}),
                               ("POST", MEMBERS, {"email": "x@y.co"}), ("DELETE", f"{MEMBERS}?email=x@y.co", None),
                               ("POST", "/api/integrations/validate", {"provider": "openrouter", "api_key": "k"}),
                               ("PUT", "/api/integrations/openrouter", {"api_key": "k"})]:
        refused = await client.request(method, path, json=body, headers=member)
        assert refused.status_code == 403, path
        assert refused.json()["error"] == "insufficient_role" and "member" in refused.json()["message"]


async def test_which_workspace_a_session_acts_on(client, deps, tenants, acme):
    lonely = hs256(deps, email="nobody@example.com", sub=dev_user_id("nobody@example.com"))
    assert (await client.get(MEMBERS, headers=lonely)).json()["error"] == "no_workspace"
    await tenants.session("beta", "member", email="owner@acme.example")  # the same user joins a second one
    both = hs256(deps)
    ambiguous = await client.get(MEMBERS, headers=both)
    assert ambiguous.status_code == 422 and ambiguous.json()["error"] == "workspace_required"
    beta = await client.get(MEMBERS, headers={**both, "X-Drgero-Workspace": tenants.ids["beta"]})
    assert [m["role"] for m in beta.json()["members"]] == ["member"]
    await tenants.session("gamma", "owner")
    foreign = await client.get(MEMBERS, headers={**both, "X-Drgero-Workspace": tenants.ids["gamma"]})
    assert foreign.status_code == 404 and foreign.json()["error"] == "not_found"


def _jwk(kid: str, key) -> dict:
    algorithm = jwt.algorithms.get_default_algorithms()["RS256" if isinstance(key, rsa.RSAPublicKey) else "ES256"]
    return {**json.loads(algorithm.to_jwk(key)), "kid": kid, "use": "sig"}


def _jwks_server(*public_keys: tuple[str, object]) -> Starlette:
    keys = [_jwk(kid, key) for kid, key in public_keys]
    served = {"count": 0}

    async def jwks(request):
        served["count"] += 1
        return JSONResponse({"keys": keys})

    app = Starlette(routes=[Route("/auth/v1/.well-known/jwks.json", jwks)])
    app.state.served, app.state.keys = served, keys
    return app


async def test_asymmetric_sessions_verify_against_the_jwks_and_refuse_confusion(client, deps, acme):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    app = _jwks_server(("rsa-1", rsa_key.public_key()), ("ec-1", ec_key.public_key()))
    with serving(app) as url:
        deps.session_keys = Jwks(f"{url}/auth/v1/.well-known/jwks.json", deps.fetch)
        rs = jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "rsa-1"})
        es = jwt.encode(claims(), ec_key, "ES256", headers={"kid": "ec-1"})
        for token in (rs, es):
            assert (await client.get(MEMBERS, headers={"Authorization": f"Bearer {token}"})).status_code == 200
        assert app.state.served["count"] == 1  # the key set is cached

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        # HS256 "signed" with the public key: the classic confusion, and the public key is no secret.
        header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT","kid":"rsa-1"}').rstrip(b"=")
        body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
        signature = base64.urlsafe_b64encode(hmac.new(pem, header + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
        confused = (header + b"." + body + b"." + signature).decode()
        bad = {
            "unknown key": jwt.encode(claims(), other, "RS256", headers={"kid": "rsa-9"}),
            "right kid, wrong key": jwt.encode(claims(), other, "RS256", headers={"kid": "rsa-1"}),
            "HS256 with the public key": confused,
            "expired RS256": jwt.encode(claims(exp=int(time.time()) - 300), rsa_key, "RS256", headers={"kid": "rsa-1"}),
        }
        for case, token in bad.items():
            answer = await client.get(MEMBERS, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401, case
        assert app.state.served["count"] == 1  # unknown kids within the refetch gap cost no fetch

        rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        app.state.keys.append(_jwk("rsa-2", rotated.public_key()))
        deps.session_keys.refetch_gap = 0.0  # as if the gap had passed
        fresh = jwt.encode(claims(), rotated, "RS256", headers={"kid": "rsa-2"})
        assert (await client.get(MEMBERS, headers={"Authorization": f"Bearer {fresh}"})).status_code == 200
        assert app.state.served["count"] == 2  # a rotated-in key is fetched once


async def test_an_unreachable_jwks_is_a_503_not_a_hang(client, deps, acme):
    deps.session_keys = Jwks("http://127.0.0.1:9/jwks.json", deps.fetch, timeout=1.0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), key, "RS256", headers={"kid": "k"})
    answer = await client.get(MEMBERS, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.json()["error"] == "unavailable"


async def test_a_pending_invite_joins_only_when_the_invitee_accepts_it(client, deps, tenants, acme):
    owner = hs256(deps)
    invited = await client.post(MEMBERS, headers=owner, json={"email": "New.Person@Example.com", "role": "admin"})
    assert invited.status_code == 201 and invited.json()["email"] == "new.person@example.com"
    newcomer = hs256(deps, email="new.person@example.com", sub="supabase-user-42")
    assert (await client.get(MEMBERS, headers=newcomer)).json()["error"] == "no_workspace"  # not yet a member
    me = (await client.get("/api/me", headers=newcomer)).json()
    assert me["workspaces"] == [] and [(i["id"], i["role"]) for i in me["invites"]] == [(invited.json()["id"], "admin")]
    joined = await client.post(f"/api/me/invites/{invited.json()['id']}/accept", headers=newcomer)
    assert joined.status_code == 200 and joined.json() == {"workspace_id": acme, "name": "acme", "role": "admin"}
    view = (await client.get(MEMBERS, headers=newcomer)).json()
    assert ("new.person@example.com", "admin", "supabase-user-42") in {
        (m["email"], m["role"], m["user_id"]) for m in view["members"]}
    assert view["invites"] == []
    assert (await client.get("/api/tokens", headers=newcomer)).status_code == 200  # admins manage tokens


async def test_an_invite_from_another_workspace_changes_nothing_until_answered(client, deps, tenants, acme):
    # The finding: an admin of beta invites acme's owner, who used to be pulled into beta.
    acme_owner = hs256(deps)
    beta_admin = await tenants.session("beta", "admin")
    invited = (await client.post(MEMBERS, headers=beta_admin, json={"email": "owner@acme.example"})).json()
    assert (await client.get(MEMBERS, headers=acme_owner)).status_code == 200  # still one workspace, no header
    beta_view = (await client.get(MEMBERS, headers=beta_admin)).json()
    assert dev_user_id("owner@acme.example") not in {m["user_id"] for m in beta_view["members"]}
    other = hs256(deps, email="someone@else.example", sub="someone")
    assert (await client.post(f"/api/me/invites/{invited['id']}/accept", headers=other)).status_code == 404
    declined = await client.post(f"/api/me/invites/{invited['id']}/decline", headers=acme_owner)
    assert declined.status_code == 200 and (await client.get("/api/me", headers=acme_owner)).json()["invites"] == []
    assert (await client.get(MEMBERS, headers=beta_admin)).json()["invites"] == []


async def test_a_member_leaves_a_workspace_and_the_last_owner_cannot(client, deps, tenants, acme):
    owner = hs256(deps)
    member = await tenants.session("acme", "member", email="leaver@acme.example")
    left = await client.post(f"/api/me/workspaces/{acme}/leave", headers=member)
    assert left.status_code == 200 and left.json()["kind"] == "member"
    assert (await client.get(MEMBERS, headers=member)).status_code == 404  # the workspace it names is not theirs
    stay = await client.post(f"/api/me/workspaces/{acme}/leave", headers=owner)
    assert stay.status_code == 409 and stay.json()["error"] == "last_owner"
    assert (await client.post(f"/api/me/workspaces/{uuid.uuid4()}/leave", headers=owner)).status_code == 404


async def test_invites_and_removals_follow_the_role_rules(client, deps, tenants, acme):
    owner = hs256(deps)
    admin = await tenants.session("acme", "admin")
    assert (await client.post(MEMBERS, headers=owner, json={"email": "admin@acme.example"})).json()["error"] \
        == "already_member"
    assert (await client.post(MEMBERS, headers=admin, json={"email": "a@b.co"})).status_code == 201
    assert (await client.post(MEMBERS, headers=admin, json={"email": "A@b.co"})).json()["error"] == "already_invited"
    assert (await client.post(MEMBERS, headers=admin, json={"email": "boss@b.co", "role": "owner"})
            ).json()["error"] == "insufficient_role"
    assert (await client.post(MEMBERS, headers=owner, json={"email": "not-an-email"})).status_code == 422
    assert (await client.request("DELETE", MEMBERS, headers=owner, json={})).status_code == 422

    revoked = await client.delete(f"{MEMBERS}?email=a@b.co", headers=admin)
    assert revoked.json() == {**revoked.json(), "deleted": True, "kind": "invite"}
    assert (await client.delete(f"{MEMBERS}?email=a@b.co", headers=admin)).status_code == 404

    last_owner = await client.request("DELETE", MEMBERS, headers=owner, json={"email": "owner@acme.example"})
    assert last_owner.status_code == 409 and last_owner.json()["error"] == "last_owner"
    assert (await client.request("DELETE", MEMBERS, headers=admin, json={"email": "owner@acme.example"})
            ).json()["error"] == "insufficient_role"
    removed = await client.request("DELETE", MEMBERS, headers=owner, json={"user_id": dev_user_id("admin@acme.example")})
    assert removed.json()["kind"] == "member"
    assert (await client.get(MEMBERS, headers=admin)).status_code == 404  # no longer a member of it


async def test_a_second_owner_makes_the_first_removable(client, deps, tenants, acme):
    owner = hs256(deps)
    await add_member(deps, acme, "second-owner", "second@acme.example", "owner")
    gone = await client.request("DELETE", MEMBERS, headers=owner, json={"email": "owner@acme.example"})
    assert gone.status_code == 200
    assert (await client.get(MEMBERS, headers=owner)).json()["error"] == "no_workspace"


async def test_two_owners_removing_each_other_at_once_leave_one_owner(deps, tenants, acme):
    await tenants.session("acme", "owner", email="second@acme.example")
    first, second = (Principal(acme, "session", credential_id=dev_user_id(email), role="owner")
                     for email in ("owner@acme.example", "second@acme.example"))
    outcomes = await asyncio.gather(remove(deps, first, {"email": "second@acme.example"}),
                                    remove(deps, second, {"email": "owner@acme.example"}), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["ConflictError", "dict"]
    owners = [m for m in (await members_and_invites(deps, acme))["members"] if m.role == "owner"]
    assert len(owners) == 1


async def test_invites_lapse_after_two_weeks_and_can_be_renewed(client, deps, clock, acme):
    owner = {**hs256(deps), "X-Drgero-Workspace": acme}
    first = (await client.post(MEMBERS, headers=owner, json={"email": "late@acme.example"})).json()
    await client.post(MEMBERS, headers=owner, json={"email": "idle@acme.example"})
    clock.advance(days=15)
    again = await client.post(MEMBERS, headers=owner, json={"email": "idle@acme.example", "role": "admin"})
    assert again.status_code == 201 and again.json()["role"] == "admin"  # a lapsed invite is renewed, not 409
    clock.advance(days=1)
    assert [i["email"] for i in (await client.get(MEMBERS, headers=owner)).json()["invites"]] == ["idle@acme.example"]
    late = hs256(deps, email="late@acme.example", sub="late-user")
    assert (await client.get("/api/me", headers=late)).json()["invites"] == []  # the lapsed one is not offered
    assert (await client.post(f"/api/me/invites/{first['id']}/accept", headers=late)).status_code == 404
    renewed = await client.post(MEMBERS, headers=owner, json={"email": "late@acme.example"})
    assert renewed.status_code == 201 and renewed.json()["expires_at"] > first["expires_at"]
    assert (await client.post(f"/api/me/invites/{renewed.json()['id']}/accept", headers=late)).status_code == 200
    assert (await client.get(MEMBERS, headers=late)).status_code == 200  # and it is taken up
