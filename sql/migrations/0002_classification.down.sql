DROP VIEW IF EXISTS current_deck_archetypes;
DROP TABLE IF EXISTS classification_chunks;
DROP TABLE IF EXISTS classification_runs;
DROP TABLE IF EXISTS deck_archetypes;
DROP TABLE IF EXISTS active_definitions;
DROP TABLE IF EXISTS definition_versions;
