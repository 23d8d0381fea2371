"""Run every benchmark and print its report (`make bench`)."""

from __future__ import annotations

import asyncio

from bench import api_overhead, console, demo, gateway, items, mixed_load, push, quality_loop, runs, topology


def main() -> None:
    print(asyncio.run(api_overhead.run()))
    print(asyncio.run(push.run()))
    print(asyncio.run(items.run()))
    print(asyncio.run(runs.run()))
    print(asyncio.run(console.run()))
    print(asyncio.run(gateway.run()))
    print(asyncio.run(mixed_load.run()))
    print(asyncio.run(topology.run()))
    print(asyncio.run(quality_loop.run()))
    print(asyncio.run(demo.run()))


if __name__ == "__main__":
    main()
