"""Sources: fetching tournament results from the sites and the public decklist cache.

``base`` holds the contract between the fetch framework (HTTP client, checkpoints,
registry, tasks) and the per-site adapters; see its docstring.
"""
