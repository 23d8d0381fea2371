"""The `drgero` command: workspaces, API tokens, and the embedded server."""

from __future__ import annotations

import argparse
import asyncio
import sys

from functions import cli_demo, cli_run
from shared.auth.principal import Principal
from shared.auth.scopes import parse_scopes
from shared.auth.sessions import dev_user_id, mint_dev_session
from shared.bootstrap import build
from shared.config import Settings
from shared.errors import DomainError
from shared.ports import Deps
from shared.services.api_tokens import create_api_token
from shared.services.console_sessions import create_sign_in_link
from shared.services.members import add_member, invite
from shared.services.workspaces import create_workspace, find_workspace


async def _workspace_create(deps: Deps, args: argparse.Namespace) -> None:
    workspace = await create_workspace(deps, args.name, args.plan)
    print(workspace.id)


async def _token_create(deps: Deps, args: argparse.Namespace) -> None:
    scopes = parse_scopes(args.scopes)
    workspace = await find_workspace(deps, args.workspace)
    if workspace is None:
        workspace = await create_workspace(deps, args.workspace, args.plan)
        print(f"created workspace {workspace.name} ({workspace.id}, plan {workspace.plan})", file=sys.stderr)
    token, record = await create_api_token(deps, workspace.id, args.name, scopes, created_by="cli")
    print(f"token {record.id} for workspace {workspace.name} with scopes {','.join(record.scopes)}",
          file=sys.stderr)
    print(token)


async def _session_create(deps: Deps, args: argparse.Namespace) -> None:
    token = mint_dev_session(deps.settings, args.email, ttl_seconds=args.ttl)  # refuses production first
    workspace = await find_workspace(deps, args.workspace)
    if workspace is None:
        workspace = await create_workspace(deps, args.workspace, args.plan)
        print(f"created workspace {workspace.name} ({workspace.id}, plan {workspace.plan})", file=sys.stderr)
    member = await add_member(deps, workspace.id, dev_user_id(args.email), args.email.strip().lower(), args.role)
    print(f"session for {member.email} ({member.role} of {workspace.name}), "
          f"valid {args.ttl} s", file=sys.stderr)
    print(token)


async def _invite_create(deps: Deps, args: argparse.Namespace) -> None:
    # The way to a workspace's first owner in production, where nobody can sign in yet to invite.

    workspace = await find_workspace(deps, args.workspace)
    if workspace is None:
        workspace = await create_workspace(deps, args.workspace, args.plan)
        print(f"created workspace {workspace.name} ({workspace.id}, plan {workspace.plan})", file=sys.stderr)
    operator = Principal(workspace_id=workspace.id, kind="session", role="owner", credential_id="cli")
    pending = await invite(deps, operator, args.email, args.role)
    print(f"{pending.email} joins {workspace.name} as {pending.role} with their first signed-in request "
          f"(invite valid until {pending.expires_at})", file=sys.stderr)
    print(pending.id)


async def _console_url(deps: Deps, args: argparse.Namespace) -> None:
    workspace = await find_workspace(deps, args.workspace)
    if workspace is None:
        workspace = await create_workspace(deps, args.workspace, args.plan)
        print(f"created workspace {workspace.name} ({workspace.id}, plan {workspace.plan})", file=sys.stderr)
    secret = await create_sign_in_link(deps, workspace.id, ttl_seconds=args.ttl)
    host = "127.0.0.1" if deps.settings.host in ("0.0.0.0", "::") else deps.settings.host
    base = (args.base_url or deps.settings.public_base_url or f"http://{host}:{deps.settings.port}").rstrip("/")
    print(f"one-time sign-in link to the console of {workspace.name}, valid {args.ttl} s:", file=sys.stderr)
    print(f"{base}/sign-in/link/{secret}")


def _serve(settings: Settings) -> None:
    # Only `serve` needs the web server and every family's routes; the other commands start faster without.
    import uvicorn  # noqa: PLC0415

    from functions.http_server import server_options  # noqa: PLC0415
    from functions.server import create_app  # noqa: PLC0415

    app = create_app(build(settings))
    print(f"Dr.Gero serving every family on http://{settings.host}:{settings.port} "
          f"({settings.backend} backend, data in {settings.data_dir})", file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", **server_options(settings))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="drgero", description="Dr.Gero administration and local server.")
    commands = root.add_subparsers(dest="command", required=True)
    workspace = commands.add_parser("workspace", help="manage workspaces").add_subparsers(dest="action", required=True)
    create = workspace.add_parser("create", help="create a workspace and print its id")
    create.add_argument("name")
    create.add_argument("--plan", choices=["free", "pro"], default=None)
    token = commands.add_parser("token", help="manage API tokens").add_subparsers(dest="action", required=True)
    make = token.add_parser("create", help="create an API token and print it on the last line")
    make.add_argument("--workspace", required=True, help="workspace name (created if missing)")
    make.add_argument("--scopes", required=True, help="comma-separated scopes, or 'all'")
    make.add_argument("--name", default="cli", help="a label for the token")
    make.add_argument("--plan", choices=["free", "pro"], default=None, help="plan if the workspace is created")
    session = commands.add_parser("session", help="development browser sessions").add_subparsers(
        dest="action", required=True)
    start = session.add_parser("create", help="print a session token signed with the development secret")
    start.add_argument("--email", required=True)
    start.add_argument("--workspace", required=True, help="workspace name (created if missing)")
    start.add_argument("--role", choices=["owner", "admin", "member"], default="owner",
                       help="role given if the user is not a member yet")
    start.add_argument("--ttl", type=int, default=3600, help="seconds the session is valid")
    start.add_argument("--plan", choices=["free", "pro"], default=None, help="plan if the workspace is created")
    invite = commands.add_parser("invite", help="workspace invites").add_subparsers(dest="action", required=True)
    ask = invite.add_parser("create", help="invite an email (the first owner, say); prints the invite id")
    ask.add_argument("--workspace", required=True, help="workspace name (created if missing)")
    ask.add_argument("--email", required=True)
    ask.add_argument("--role", choices=["owner", "admin", "member"], default="owner")
    ask.add_argument("--plan", choices=["free", "pro"], default=None, help="plan if the workspace is created")
    link = commands.add_parser("console-url", help="print a one-time sign-in link to the web console")
    link.add_argument("--workspace", required=True, help="workspace name (created if missing)")
    link.add_argument("--ttl", type=int, default=600, help="seconds the link stays valid (it works once)")
    link.add_argument("--base-url", default="", help="the console's address, if not this machine's server")
    link.add_argument("--plan", choices=["free", "pro"], default=None, help="plan if the workspace is created")
    commands.add_parser("serve", help="serve every endpoint family on one port")
    cli_run.add_parser(commands)
    cli_demo.add_parser(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        return cli_run.run_command(args)  # an API client: it needs no server settings
    if args.command == "demo":
        return cli_demo.demo_command(args)
    settings = Settings()
    if args.command == "serve":
        _serve(settings)
        return 0
    action = {"workspace": _workspace_create, "token": _token_create, "session": _session_create,
              "invite": _invite_create, "console-url": _console_url}[args.command]
    try:
        asyncio.run(action(build(settings), args))
    except (DomainError, ValueError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
