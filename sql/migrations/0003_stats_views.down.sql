-- Reverse of 0003_stats_views.up.sql: dependants first.
DROP MATERIALIZED VIEW IF EXISTS mv_deck_size_weekly;
DROP MATERIALIZED VIEW IF EXISTS mv_card_usage_weekly;
DROP MATERIALIZED VIEW IF EXISTS mv_matchup_daily;
DROP MATERIALIZED VIEW IF EXISTS mv_archetype_color_daily;
DROP MATERIALIZED VIEW IF EXISTS mv_archetype_daily;
DROP MATERIALIZED VIEW IF EXISTS mv_player_archetype_daily;
DROP MATERIALIZED VIEW IF EXISTS mv_deck_facts;
DROP VIEW IF EXISTS v_match_sides;
DROP TABLE IF EXISTS matchup_window_stats;
DROP TABLE IF EXISTS meta_window_stats;
DROP TABLE IF EXISTS meta_window_totals;
DROP TABLE IF EXISTS stats_windows;
DROP TABLE IF EXISTS refresh_log;
DROP TABLE IF EXISTS stats_event_groups;
