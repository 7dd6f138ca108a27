"""Archetype discovery (issue 17): find the decks no rule names yet and draft the rule.

* :mod:`.vectors` — a weighted card-set vector per deck (sparse, L2-normalised);
* :mod:`.neighbours` — exact cosine nearest neighbours and the nearest labelled archetype;
* :mod:`.clusters` — clusters of Unknown and fallback-labelled decks, named, with stable ids;
* :mod:`.rules` — the fewest-conditions MTGOFormatData definition for a cluster;
* :mod:`.usage` — decks labelled by each definition file;
* :mod:`.engine` — one window's discovery from decks in memory (no database);
* :mod:`.store` — runs, suggestions, neighbours and nearest archetypes in PostgreSQL.

Nothing here ever changes a definitions folder: suggestions are stored for curators.
"""
