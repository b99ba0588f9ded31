"""The machinery every command runs on: the transaction and retries, load and save, history,
projections (a diff of what is open), compaction of finished history, and leases on due rows.
"""
