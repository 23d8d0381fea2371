"""Plain data and rules, free of I/O."""
