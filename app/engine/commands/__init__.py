"""Commands: one module per family of state changes, each run in one transaction by `runtime.runner`.

The engine facade (`app/engine/__init__.py`) re-exports them; nothing outside the engine imports
these modules.
"""
