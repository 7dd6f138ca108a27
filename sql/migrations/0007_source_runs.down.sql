-- Reverse of 0007_source_runs.up.sql.
DROP TABLE IF EXISTS source_pages;
DROP TABLE IF EXISTS source_page_bodies;
DROP TABLE IF EXISTS source_checkpoints;
DROP TABLE IF EXISTS source_quarantine;
DROP TABLE IF EXISTS source_events;
DROP TABLE IF EXISTS source_runs;
