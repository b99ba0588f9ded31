"""Analysts' process tests: `<process>.tests.json` beside a diagram in its bundle (`schema`), run on
the real engine inside a transaction that is rolled back (`sandbox`, `runner`)."""
