"""Browser sessions whose header or claims are malformed in ways the JWT library lets through
or chokes on: each is a 401 `invalid_session`, never a 500 and never a session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth.sessions import Jwks, dev_user_id
from tests.upstream import serving

MEMBERS = "/api/invite-user"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def claims(**overrides) -> dict:
    now = int(time.time())
    return {"sub": dev_user_id("owner@acme.example"), "email": "owner@acme.example", "aud": "authenticated",
            "iat": now, "exp": now + 600, **overrides}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _public_jwk(kid: str, key, algorithm: str) -> dict:
    public = jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(key.public_key())
    return {**json.loads(public), "kid": kid, "use": "sig"}


@pytest.fixture
def jwks_url() -> Iterator[str]:
    keys = [_public_jwk("rsa-1", RSA_KEY, "RS256"), _public_jwk("ec-1", EC_KEY, "ES256")]

    async def jwks(request):
        return JSONResponse({"keys": keys})

    with serving(Starlette(routes=[Route("/jwks.json", jwks)])) as url:
        yield f"{url}/jwks.json"


@pytest.fixture
async def acme(tenants, deps, jwks_url) -> None:
    await tenants.session("acme", "owner")  # owner@acme.example, the claims' user
    deps.session_keys = Jwks(jwks_url, deps.fetch)


async def test_the_keys_served_do_verify_their_own_algorithms(client, acme):
    for token in (jwt.encode(claims(), RSA_KEY, "RS256", headers={"kid": "rsa-1"}),
                  jwt.encode(claims(), EC_KEY, "ES256", headers={"kid": "ec-1"})):
        assert (await client.get(MEMBERS, headers=bearer(token))).status_code == 200


@pytest.mark.parametrize("case, token", [
    ("ES256 naming an RSA key", lambda: jwt.encode(claims(), EC_KEY, "ES256", headers={"kid": "rsa-1"})),
    ("RS256 naming an EC key", lambda: jwt.encode(claims(), RSA_KEY, "RS256", headers={"kid": "ec-1"})),
])
async def test_a_token_whose_algorithm_does_not_fit_its_key_is_refused_not_a_500(client, acme, case, token):
    answer = await client.get(MEMBERS, headers=bearer(token()))
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_session"), case


@pytest.mark.parametrize("claim, value", [("exp", "9999999999"), ("nbf", "0"), ("iat", "0"), ("iat", True)])
async def test_a_date_claim_that_is_not_a_number_is_refused(client, deps, acme, claim, value):
    for token in (jwt.encode(claims(**{claim: value}), deps.settings.session_secret, "HS256"),
                  jwt.encode(claims(**{claim: value}), RSA_KEY, "RS256", headers={"kid": "rsa-1"})):
        answer = await client.get(MEMBERS, headers=bearer(token))
        assert (answer.status_code, answer.json()["error"]) == (401, "invalid_session"), claim
