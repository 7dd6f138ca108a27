-- Reverse of 0011_discovery.up.sql.
DROP TABLE IF EXISTS deck_nearest_archetype;
DROP TABLE IF EXISTS deck_neighbours;
DROP TABLE IF EXISTS discovery_rule_usage;
DROP TABLE IF EXISTS discovery_suggestions;
DROP SEQUENCE IF EXISTS discovery_cluster_ids;
DROP TABLE IF EXISTS discovery_runs;
