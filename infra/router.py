"""The load balancer, locally: one port that sends each request to its family's function by the URL map.

`python -m infra.router --port 8080 --backend resource_api=http://127.0.0.1:9001 ...` routes
with the very URL map deploy imports (`infra/urlmap.py`), so a route the map sends to the
wrong function fails here as it would behind Google's load balancer. Bodies stream both
ways (server-sent events, JSONL downloads), and the function sees the X-Forwarded-* headers
a load balancer adds.
"""

from __future__ import annotations

import argparse

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from infra.urlmap import family_of, path_matcher, url_map

# Hop-by-hop headers belong to one connection, never forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}


def forwarded(headers: "aiohttp.typedefs.LooseHeaders", drop: set[str]) -> CIMultiDict[str]:
    # A multi-dict: a header sent twice (Set-Cookie, above all) must reach the other side twice.
    return CIMultiDict((name, value) for name, value in headers.items() if name.lower() not in HOP_BY_HOP | drop)


def router_app(backends: dict[str, str]) -> web.Application:
    """An aiohttp app proxying to `backends` (family name -> base URL) as the URL map says."""
    resource = url_map("local")
    route, default = path_matcher(resource), family_of(resource["defaultService"])
    app = web.Application(client_max_size=64 * 1024 * 1024)  # the functions enforce their own limits

    async def session(app: web.Application):
        # No timeout: a streamed answer may take minutes, as it may behind the load balancer.
        app["session"] = aiohttp.ClientSession(auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None))
        yield
        await app["session"].close()

    async def proxy(request: web.Request) -> web.StreamResponse:
        target = backends[route(request.path) or default] + request.raw_path
        headers = forwarded(request.headers, {"host", "content-length"})
        headers.update({"X-Forwarded-For": request.remote or "", "X-Forwarded-Proto": request.scheme,
                        "X-Forwarded-Host": request.host})
        try:
            upstream = await app["session"].request(request.method, target, headers=headers,
                                                    data=await request.read(), allow_redirects=False)
        except aiohttp.ClientError as exc:  # the function is down: what a load balancer answers then
            return web.json_response({"error": "bad_gateway", "message": f"The function did not answer: {exc}"},
                                     status=502)
        async with upstream:
            response = web.StreamResponse(status=upstream.status,
                                          headers=forwarded(upstream.headers, {"content-length"}))
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app.cleanup_ctx.append(session)
    app.router.add_route("*", "/{path:.*}", proxy)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.router", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True, metavar="FAMILY=URL")
    args = parser.parse_args(argv)
    backends = dict(entry.split("=", 1) for entry in args.backend)
    web.run_app(router_app(backends), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
