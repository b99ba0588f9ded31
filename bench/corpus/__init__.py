"""The foreign-BPMN corpus driver: each diagram on bare SpiffWorkflow and through Ticketflow's API.

Run it with `python -m bench.corpus` (see `bench/corpus/__main__.py` for the options).
"""
