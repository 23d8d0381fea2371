"""Console family: the web pages, at `/`, over the same services as the API.

Pages authenticate with the console's cookie session (`auth="console"`: a one-time link, an
API token or a Supabase session) and every write carries the session's CSRF token, which the
authenticator checks before any handler runs. Scopes are the API's: a console opened with an
API token can do what that token can; one opened by a person has their role's rights.
Errors render as pages (or JSON for the page's scripts), never as a bare API error.
"""

from __future__ import annotations

from functions.console import leaderboards, runs, sign_in
from functions.console.static_files import static
from functions.console.web import on_error
from shared.auth import scopes as S
from shared.http.routes import Family, Route

LB = "/leaderboards/{leaderboard_id}"
READ, WRITE, RUN = (S.LEADERBOARDS_READ,), (S.LEADERBOARDS_WRITE,), (S.LEADERBOARDS_RUN,)


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
]

FAMILY = Family("console", "The web console: pages over the same services, cookie session and CSRF.", ROUTES)
