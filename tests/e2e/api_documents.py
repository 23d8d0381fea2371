"""The curl examples of the API documents in ../shared/spec, read into the table's shape.

Only the check that the project's table still matches the documents uses this; the folder
sits beside some clones and not others, so nothing here runs on import.

An example starts at a line beginning with `curl` and continues while a line ends with a
backslash or a single-quoted body is still open. The documents were copied from rendered
web pages, so prose can be glued straight after `| jq`; that is cut off.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from tests.e2e.api_examples import ApiExample, BodyFile

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "spec"
DOCUMENTS = ("drgero-api-overview.txt", "drgero-leaderboards-api.txt", "drgero-push-datasets-api.txt")


def _command(lines: list[str], start: int) -> str:
    taken: list[str] = []
    for line in lines[start:]:
        taken.append(line)
        text = "\n".join(taken)
        if line.rstrip().endswith("\\") or text.count("'") % 2 == 1:
            continue
        break
    text = "\n".join(taken)
    jq = text.find("| jq")
    return text[: jq + len("| jq")] if jq >= 0 else text.rstrip()


def _example(command: str, where: str) -> ApiExample:
    """The facts of one curl command; anything the table cannot hold fails loudly."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:2] == ["curl", "-sS"], f"{where}: unexpected start of {command!r}"
    method, url, headers, body, rest = "GET", None, [], None, words[2:]
    while rest and rest[0] not in ("|", ">"):
        word = rest.pop(0)
        if word == "-X":
            method = rest.pop(0)
        elif word == "-H":
            name, _, value = rest.pop(0).partition(": ")
            headers.append((name, value))
        elif word == "-d":
            value = rest.pop(0)
            body = BodyFile(value.removeprefix("@")) if value.startswith("@") else json.loads(value)
        else:
            assert url is None and word.startswith("$API_BASE/"), f"{where}: cannot read {word!r}"
            url = word
    assert url, f"{where}: no $API_BASE URL in {command!r}"
    return ApiExample(where, method, url.removeprefix("$API_BASE"), tuple(headers), body, " ".join(rest))


def documented_examples() -> list[ApiExample]:
    """Every curl example of the documents, each with its document and line as its id."""
    found = []
    for document in DOCUMENTS:
        lines = (SPEC_DIR / document).read_text().splitlines()
        for index, line in enumerate(lines):
            if line.startswith("curl "):
                found.append(_example(_command(lines, index), f"{document}:{index + 1}"))
    return found


def documented_schedule() -> dict:
    """The schedule JSON the leaderboards document shows before its `-d @schedule.json` example."""
    text = (SPEC_DIR / "drgero-leaderboards-api.txt").read_text()
    start = text.index("{", text.index("Schedule JSON"))
    schedule, _ = json.JSONDecoder().raw_decode(text, start)
    return schedule
