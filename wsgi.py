"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc

from app import create_app

app = create_app()
# What is loaded by now (the app, its modules and caches) lives as long as the process: moved out of
# the collector's generations, a full collection walks only what requests leave behind. Without it
# every few requests paid for walking some 160,000 long-lived objects (docs/performance.md, the
# CSV export at a million tickets).
gc.freeze()
