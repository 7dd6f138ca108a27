-- Issue 14: a full rebuild recomputes the whole-history totals once, set-based, instead of
-- through the statement triggers of migrations 0020 and 0022 (which, for a rebuild that
-- writes every daily row, aggregated every row again through INSERT … ON CONFLICT in random
-- key order: ~7 s of a 40 s rebuild at 500k decks).
--
-- The triggers skip the statements of a transaction that sets manalytics.rebuild_totals to
-- 'on' (transaction-local: pipelines/stats/aggregates.py does it in a full refresh, then
-- refills every totals table from the daily tables with the statements of sql/views/09-13,
-- writing only the rows that differ). Any other writer (a nightly refresh, a manual fix)
-- leaves it unset and the triggers keep the totals as before. A full rebuild thereby also
-- repairs totals that drifted from their daily rows.
DROP TRIGGER mv_player_archetype_totals_1_remove ON mv_player_archetype_daily;
DROP TRIGGER mv_player_archetype_totals_1_remove_updated ON mv_player_archetype_daily;
DROP TRIGGER mv_player_archetype_totals_2_add ON mv_player_archetype_daily;
DROP TRIGGER mv_player_archetype_totals_2_add_updated ON mv_player_archetype_daily;
DROP TRIGGER mv_week_players_3_deleted ON mv_player_archetype_daily;
DROP TRIGGER mv_week_players_3_inserted ON mv_player_archetype_daily;
DROP TRIGGER mv_week_players_3_updated_old ON mv_player_archetype_daily;
DROP TRIGGER mv_week_players_3_updated_new ON mv_player_archetype_daily;
DROP TRIGGER mv_matchup_totals_1_remove ON mv_matchup_daily;
DROP TRIGGER mv_matchup_totals_1_remove_updated ON mv_matchup_daily;
DROP TRIGGER mv_matchup_totals_2_add ON mv_matchup_daily;
DROP TRIGGER mv_matchup_totals_2_add_updated ON mv_matchup_daily;
DROP TRIGGER mv_format_totals_1_remove ON mv_archetype_daily;
DROP TRIGGER mv_format_totals_1_remove_updated ON mv_archetype_daily;
DROP TRIGGER mv_format_totals_2_add ON mv_archetype_daily;
DROP TRIGGER mv_format_totals_2_add_updated ON mv_archetype_daily;

CREATE TRIGGER mv_player_archetype_totals_1_remove AFTER DELETE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_player_archetype_totals_remove();
CREATE TRIGGER mv_player_archetype_totals_1_remove_updated AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_player_archetype_totals_remove();
CREATE TRIGGER mv_player_archetype_totals_2_add AFTER INSERT ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_player_archetype_totals_add();
CREATE TRIGGER mv_player_archetype_totals_2_add_updated AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_player_archetype_totals_add();
CREATE TRIGGER mv_week_players_3_deleted AFTER DELETE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_inserted AFTER INSERT ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_updated_old AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_updated_new AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_matchup_totals_1_remove AFTER DELETE ON mv_matchup_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_matchup_totals_remove();
CREATE TRIGGER mv_matchup_totals_1_remove_updated AFTER UPDATE ON mv_matchup_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_matchup_totals_remove();
CREATE TRIGGER mv_matchup_totals_2_add AFTER INSERT ON mv_matchup_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_matchup_totals_add();
CREATE TRIGGER mv_matchup_totals_2_add_updated AFTER UPDATE ON mv_matchup_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_matchup_totals_add();
CREATE TRIGGER mv_format_totals_1_remove AFTER DELETE ON mv_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_format_totals_remove();
CREATE TRIGGER mv_format_totals_1_remove_updated AFTER UPDATE ON mv_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_format_totals_remove();
CREATE TRIGGER mv_format_totals_2_add AFTER INSERT ON mv_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_format_totals_add();
CREATE TRIGGER mv_format_totals_2_add_updated AFTER UPDATE ON mv_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_setting('manalytics.rebuild_totals', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION mv_format_totals_add();

-- Nothing reads the per-player index of the daily rows since migration 0021 made the unique
-- (format, day, …) index covering: every read of the table is a range of days of a format
-- (tests/plans). It was a third copy of the table written on every insert.
DROP INDEX ix_mv_player_archetype_daily_player;
