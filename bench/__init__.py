"""Benchmarks that print figures (not tests): `make bench` runs `python -m bench.run`.

They time Ticketflow's engine commands, its HTTP API (in-process and behind gunicorn) and the
bare SpiffWorkflow cost of the same steps, on SQLite and PostgreSQL. docs/performance.md
explains what is measured and reads the figures.
"""
