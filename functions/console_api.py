"""Console family: the web pages, at `/`, over the same services as the API.

Pages authenticate with the console's cookie session (`auth="console"`: a one-time link, an
API token or a Supabase session) and every write carries the session's CSRF token, which the
authenticator checks before any handler runs. Scopes are the API's: a console opened with an
API token can do what that token can; one opened by a person has their role's rights.
Errors render as pages (or JSON for the page's scripts), never as a bare API error.
"""

from __future__ import annotations

from functions.console import annotate, leaderboards, push, runs, settings, sign_in, traces
from functions.console.static_files import static
from functions.console.web import on_error
from shared.auth import scopes as S
from shared.http.routes import Family, Route

LB = "/leaderboards/{leaderboard_id}"
READ, WRITE, RUN = (S.LEADERBOARDS_READ,), (S.LEADERBOARDS_WRITE,), (S.LEADERBOARDS_RUN,)
MEMBER, ADMIN = (S.WORKSPACE_MEMBER,), (S.WORKSPACE_ADMIN,)


def page(method: str, path: str, handler, summary: str, auth: str = "console",
         scopes: tuple[str, ...] = ()) -> Route:
    media = "application/json" if path.endswith(".json") else "text/html"
    return Route(method, path, handler, summary, auth=auth, scopes=scopes, media_type=media,  # type: ignore[arg-type]
                 on_error=on_error)


ROUTES = [
    page("GET", "/static/{name}", static, "The console's stylesheet and script", auth="none"),
    page("GET", "/sign-in", sign_in.sign_in_page, "Sign-in page", auth="none"),
    page("POST", "/sign-in", sign_in.sign_in, "Sign in with an API token or a session access token", auth="none"),
    page("GET", "/sign-in/link/{secret}", sign_in.link_page, "A one-time sign-in link's page", auth="none"),
    page("POST", "/sign-in/link/{secret}", sign_in.sign_in_with_link, "Spend a one-time sign-in link", auth="none"),
    page("POST", "/sign-out", sign_in.sign_out, "Sign out"),
    page("GET", "/", leaderboards.list_page, "Leaderboards", scopes=READ),
    page("GET", "/leaderboards/new", leaderboards.new_page, "New leaderboard form", scopes=WRITE),
    page("POST", "/leaderboards/new", leaderboards.create, "Create a leaderboard", scopes=WRITE),
    page("GET", LB, leaderboards.detail_page, "A leaderboard", scopes=READ),
    page("GET", f"{LB}/edit", leaderboards.edit_page, "Edit form", scopes=WRITE),
    page("POST", f"{LB}/edit", leaderboards.edit, "Save a leaderboard", scopes=WRITE),
    page("POST", f"{LB}/choose", leaderboards.choose, "Choose the model inference uses", scopes=WRITE),
    page("POST", f"{LB}/schedule", leaderboards.save_schedule, "Save the schedule", scopes=WRITE),
    page("POST", f"{LB}/candidates", leaderboards.add_candidate, "Add a candidate", scopes=WRITE),
    page("POST", f"{LB}/candidates/{{leaderboard_model_id}}", leaderboards.change_candidate, "Change a candidate",
         scopes=WRITE),
    page("POST", f"{LB}/candidates/{{leaderboard_model_id}}/remove", leaderboards.remove_candidate,
         "Remove a candidate", scopes=WRITE),
    page("POST", f"{LB}/runs", leaderboards.start_run, "Start a run", scopes=RUN),
    page("GET", f"{LB}/runs.json", leaderboards.runs_progress, "Recent runs' progress (polled)", scopes=READ),
    page("GET", f"{LB}/runs/{{run_id}}", runs.run_page, "A run's results matrix", scopes=READ),
    page("GET", f"{LB}/runs/{{run_id}}/rows/{{row}}", runs.row_page, "One row's detail", scopes=READ),
    page("GET", f"{LB}/runs/{{run_id}}/results.jsonl", runs.download, "Download a run's results", scopes=READ),
    page("GET", f"{LB}/runs/{{run_id}}/annotate", annotate.queue_page, "The annotation queue", scopes=READ),
    page("POST", f"{LB}/runs/{{run_id}}/annotate/{{item_id}}", annotate.score, "Score one item", scopes=WRITE),
    page("POST", f"{LB}/runs/{{run_id}}/verdicts", annotate.verdict, "A pairwise verdict", scopes=WRITE),
    page("GET", f"{LB}/dataset", push.dataset_page, "A PUSH leaderboard's dataset", scopes=READ),
    page("POST", f"{LB}/dataset/push", push.push_rows, "Push rows", scopes=WRITE),
    page("POST", f"{LB}/dataset/consolidate", push.consolidate, "Consolidate now", scopes=WRITE),
    page("GET", f"{LB}/dataset/download", push.download, "Download the current version", scopes=READ),
    page("POST", f"{LB}/dataset/push-tokens", push.create_token, "Create a push token", scopes=WRITE),
    page("POST", f"{LB}/dataset/push-tokens/revoke", push.revoke_tokens, "Revoke every push token", scopes=WRITE),
    page("GET", f"{LB}/traces", traces.traces_page, "Traces with filters", scopes=(S.TRACES_READ,)),
    page("GET", f"{LB}/traces/{{trace_id}}", traces.trace_page, "One trace", scopes=(S.TRACES_READ,)),
    page("GET", "/settings", settings.settings_page, "Tokens, integrations, members", scopes=MEMBER),
    page("POST", "/settings/tokens", settings.create_token, "Create an API token", scopes=ADMIN),
    page("POST", "/settings/tokens/{token_id}/revoke", settings.revoke_token, "Revoke an API token", scopes=ADMIN),
    page("POST", "/settings/integrations", settings.put_integration, "Store a provider key", scopes=ADMIN),
    page("POST", "/settings/integrations/{provider}/remove", settings.delete_integration, "Remove a provider key",
         scopes=ADMIN),
    page("POST", "/settings/members/invite", settings.invite, "Invite someone", scopes=ADMIN),
    page("POST", "/settings/members/remove", settings.remove_member, "Remove a member or an invite", scopes=ADMIN),
]

FAMILY = Family("console", "The web console: pages over the same services, cookie session and CSRF.", ROUTES)
