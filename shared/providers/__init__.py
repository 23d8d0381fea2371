"""Outbound calls to model providers over OpenAI-compatible chat completions."""
