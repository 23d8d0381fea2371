"""What the access log keeps of a request target: everything but credentials."""

from __future__ import annotations

import pytest

from functions.http_server import redacted_target


@pytest.mark.parametrize("target, logged", [
    ("/healthz", "/healthz"),
    ("/api/leaderboards?limit=50&offset=0", "/api/leaderboards?limit=50&offset=0"),
    ("/x?api_key=sk-1&q=keep", "/x?api_key=REDACTED&q=keep"),
    ("/x?access%5Ftoken=abc", "/x?access%5Ftoken=REDACTED"),
    ("/x?Password=hunter2&sig=00ff&design=kept", "/x?Password=REDACTED&sig=REDACTED&design=kept"),
    ("/x?client_secret=s&X-Goog-Credential=c", "/x?client_secret=REDACTED&X-Goog-Credential=REDACTED"),
    ("/x?by=drgero_AbC-123_xyz", "/x?by=drgero_REDACTED"),
    ("/v1/leaderboard/hpd_AbC-123/dataset/push", "/v1/leaderboard/hpd_REDACTED/dataset/push"),
    ("/x?flag&token", "/x?flag&token"),  # names without values leave nothing to hide
])
def test_credentials_in_a_request_target_are_redacted_and_the_rest_is_kept(target, logged):
    assert redacted_target(target) == logged
