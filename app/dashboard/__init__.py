"""Figures for managers computed from the tables, shared by the dashboard pages and the worker
(no views here: app/web/dashboard renders them). `alerts` evaluates the alert rules."""
