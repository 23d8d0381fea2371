"""A stand-in for the `gcloud` CLI that remembers what it created, for running the deploy script offline.

Tests install it as an executable named `gcloud` (see `install`). It keeps its state next to
itself: `state.json` holds the created resources, `calls.jsonl` one line per call with its
argv and exit code. Like gcloud: `describe` fails with NOT_FOUND until the resource is created,
a second `create` or `add-backend` fails with "already exists", `secrets versions access`
prints the secret's value, and every other command succeeds without doing anything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VERBS = ("create", "describe", "add-backend")


def install(directory: Path) -> Path:
    """Write this script to `directory/gcloud`, run by the current interpreter, and return it."""
    gcloud = directory / "gcloud"
    gcloud.write_text(f"#!{sys.executable}\n" + Path(__file__).read_text())
    gcloud.chmod(0o755)
    return gcloud


def calls(directory: Path) -> list[dict]:
    """Every call so far, in order, as {"argv": [...], "exit": code}."""
    log = directory / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def flags(argv: list[str], name: str) -> list[str]:
    return [arg.split("=", 1)[1] for arg in argv if arg.startswith(f"--{name}=")]


def resource_key(kind: list[str], names: list[str], argv: list[str]) -> str:
    """Kind words and resource name; an index is known by its collection group and fields instead."""
    if kind[-2:] == ["indexes", "composite"]:
        return " ".join([*kind, *flags(argv, "collection-group"), *flags(argv, "field-config")])
    # The name is the last word after the verb (`scheduler jobs create http NAME`); a service account
    # is created by its short name and described by its email.
    name = names[-1].split("@")[0] if names else ""
    return " ".join([*kind, name])


def answer(argv: list[str], state: dict[str, str]) -> int:
    words = [arg for arg in argv if not arg.startswith("-")]
    if words[:3] == ["secrets", "versions", "access"]:
        print(state.get(f"secrets {flags(argv, 'secret')[0]}", "a-secret"), end="")
        return 0
    verb = next((word for word in words if word in VERBS), None)
    if verb is None:
        return 0
    kind, names = words[:words.index(verb)], words[words.index(verb) + 1:]
    key, command = resource_key(kind, names, argv), ".".join(["gcloud", *kind, verb])
    if verb in ("describe", "add-backend") and key not in state:  # a backend is added to an existing service
        print(f"ERROR: ({command}) NOT_FOUND: [{key}] not found", file=sys.stderr)
        return 1
    if verb == "describe":
        return 0
    if verb == "add-backend":
        key += " backend " + flags(argv, "network-endpoint-group")[0]
    if key in state:
        print(f"ERROR: ({command}) ALREADY_EXISTS: [{key}] already exists", file=sys.stderr)
        return 1
    state[key] = sys.stdin.read() if "--data-file=-" in argv else ""
    return 0


def main() -> int:
    here = Path(__file__).resolve().parent
    state_file, argv = here / "state.json", sys.argv[1:]
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    code = answer(argv, state)
    state_file.write_text(json.dumps(state, indent=1))
    with (here / "calls.jsonl").open("a") as log:
        log.write(json.dumps({"argv": argv, "exit": code}) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
