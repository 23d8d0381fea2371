"""The embedded server: every family on one port, plus the in-process queue worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from functions.families import DEPLOYED, FAMILIES
from functions.ticker import tick_forever
from shared.adapters.local_queue import LocalQueue
from shared.http.family import dispatcher
from shared.ports import Deps
from shared.services.tasks import runner

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(deps: Deps) -> Starlette:
    """An ASGI app serving every family with these deps; starts the local queue if there is one."""
    handle = dispatcher(DEPLOYED, _constant(deps), documented=FAMILIES)

    async def endpoint(request: Request) -> Response:
        return await handle(request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        queue = deps.queue
        if isinstance(queue, LocalQueue):
            queue.start(runner(deps))
        ticker = None
        if deps.settings.backend == "embedded" and deps.settings.ticker_seconds > 0:
            ticker = asyncio.create_task(tick_forever(deps, deps.settings.ticker_seconds))
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            if isinstance(queue, LocalQueue):
                await queue.stop()
            await deps.chat.aclose()
            if deps.local_models is not None:  # after the queue: its last calls may still use them
                await deps.local_models.stop_all()

    async def unroutable(request: Request, exc: Exception) -> Response:
        # What Starlette's router cannot match (an encoded newline in the path, a TRACE) goes
        # to the dispatcher too, so it gets the same JSON 404 or 405.
        return await handle(request)

    routes = [StarletteRoute("/{path:path}", endpoint, methods=METHODS)]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: unroutable, 405: unroutable})


def _constant(deps: Deps):
    async def provide() -> Deps:
        return deps

    return provide
