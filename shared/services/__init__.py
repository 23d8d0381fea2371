"""Use cases, one module per capability; each takes Deps (ports + settings) as its first argument."""
