"""A body over the limit reaches its sender as the JSON 413, even while the sender is still uploading.

http.client is the plain kind of client that writes the whole body before it reads: if the
server answered and closed while it was still writing, it would see a broken pipe or a
reset instead of the answer.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import LiveServer


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_client_still_sending_eight_megabytes_reads_the_json_413(live_server: LiveServer, framing: str):
    with live_server.client() as api:
        board = api.post("/api/leaderboards", json={"name": "big", "system_prompt": "{input}",
                                                    "dataset_type": "PUSH"}).json()["leaderboard"]["id"]
    address = urlsplit(live_server.base_url)
    body = b'{"input": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    for _ in range(3):  # a reset, when it happens, does not happen every time
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            headers = {"Authorization": f"Bearer {live_server.token}", "Content-Type": "application/json"}
            sent = body if framing == "content-length" else (body[at:at + 65536] for at in range(0, len(body), 65536))
            connection.request("POST", f"/v1/leaderboard/{board}/dataset/push", body=sent, headers=headers,
                               encode_chunked=framing == "chunked")
            answer = connection.getresponse()
            assert answer.status == 413 and json.loads(answer.read())["error"] == "payload_too_large"
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise AssertionError(f"the connection broke instead of answering 413: {exc!r}") from None
        finally:
            connection.close()
