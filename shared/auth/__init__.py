"""Who is calling: API tokens, push tokens, sessions, the cron secret, and scopes."""
