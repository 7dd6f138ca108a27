DROP INDEX IF EXISTS ix_deck_archetypes_deck;
CREATE INDEX ix_deck_archetypes_deck ON deck_archetypes (deck_id);
DROP INDEX IF EXISTS ix_decks_player_lower;
CREATE INDEX ix_decks_player_lower ON decks (lower(player));
