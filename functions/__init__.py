"""Entrypoints: one HTTP function per endpoint family, the embedded server and the CLI."""
