"""The curl examples of the API documents in ../shared/spec, parsed into runnable commands.

An example starts at a line beginning with `curl` and continues while a line ends with a
backslash or a single-quoted body is still open; it ends at its `| jq`. The documents were
copied from rendered web pages, so prose can be glued straight after `jq`; that is cut off.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "spec"
DOCUMENTS = ("drgero-api-overview.txt", "drgero-leaderboards-api.txt", "drgero-push-datasets-api.txt")

_METHOD = re.compile(r"-X\s+([A-Z]+)")
_URL = re.compile(r'"\$API_BASE(/[^"?]*)')
_VARIABLE = re.compile(r"\$([A-Z][A-Z0-9_]*)")


@dataclass(frozen=True)
class Example:
    document: str
    line: int
    command: str
    method: str
    path: str  # as written, with $VARIABLES

    @property
    def id(self) -> str:
        return f"{self.document.removesuffix('.txt')}:{self.line}:{self.method} {self.path}"

    @property
    def variables(self) -> set[str]:
        return set(_VARIABLE.findall(self.command)) - {"API_BASE"}


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


def parse(document: str) -> list[Example]:
    lines = (SPEC_DIR / document).read_text().splitlines()
    found = []
    for index, line in enumerate(lines):
        if not line.startswith("curl "):
            continue
        command = _command(lines, index)
        method = _METHOD.search(command)
        url = _URL.search(command)
        assert url, f"{document}:{index + 1}: no $API_BASE URL in {command!r}"
        found.append(Example(document, index + 1, command,
                             method.group(1) if method else "GET", url.group(1)))
    return found


def all_examples() -> list[Example]:
    return [example for document in DOCUMENTS for example in parse(document)]


def schedule_json() -> dict:
    """The schedule JSON the leaderboards document shows before its `-d @schedule.json` example."""
    text = (SPEC_DIR / "drgero-leaderboards-api.txt").read_text()
    start = text.index("{", text.index("Schedule JSON"))
    document, _ = json.JSONDecoder().raw_decode(text, start)
    return document
