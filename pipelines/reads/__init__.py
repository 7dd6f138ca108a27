"""Read queries of the API's base-table endpoints (decks, tournaments): plain functions that
take a connection from their caller and return rows, so the Flask views only validate,
cache and shape (issue 9). The statistics reads live with the statistics
(:mod:`pipelines.stats`)."""
