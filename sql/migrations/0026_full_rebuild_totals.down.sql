-- Back to the triggers of migrations 0020 and 0022 (no WHEN) and migration 0013's index.
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
    EXECUTE FUNCTION mv_player_archetype_totals_remove();
CREATE TRIGGER mv_player_archetype_totals_1_remove_updated AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_player_archetype_totals_remove();
CREATE TRIGGER mv_player_archetype_totals_2_add AFTER INSERT ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_player_archetype_totals_add();
CREATE TRIGGER mv_player_archetype_totals_2_add_updated AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_player_archetype_totals_add();
CREATE TRIGGER mv_week_players_3_deleted AFTER DELETE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_inserted AFTER INSERT ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_updated_old AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_updated_new AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_matchup_totals_1_remove AFTER DELETE ON mv_matchup_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_matchup_totals_remove();
CREATE TRIGGER mv_matchup_totals_1_remove_updated AFTER UPDATE ON mv_matchup_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_matchup_totals_remove();
CREATE TRIGGER mv_matchup_totals_2_add AFTER INSERT ON mv_matchup_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_matchup_totals_add();
CREATE TRIGGER mv_matchup_totals_2_add_updated AFTER UPDATE ON mv_matchup_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_matchup_totals_add();
CREATE TRIGGER mv_format_totals_1_remove AFTER DELETE ON mv_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_format_totals_remove();
CREATE TRIGGER mv_format_totals_1_remove_updated AFTER UPDATE ON mv_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_format_totals_remove();
CREATE TRIGGER mv_format_totals_2_add AFTER INSERT ON mv_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_format_totals_add();
CREATE TRIGGER mv_format_totals_2_add_updated AFTER UPDATE ON mv_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION mv_format_totals_add();

CREATE INDEX ix_mv_player_archetype_daily_player
    ON mv_player_archetype_daily (format, archetype, player_key)
    INCLUDE (event_date, event_kind, decks, wins, losses, draws, mirror_seats, covered,
             rec_wins, rec_losses, rec_draws, rec_decks);
