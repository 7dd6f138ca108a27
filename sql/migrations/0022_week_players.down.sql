DROP TRIGGER IF EXISTS mv_week_players_3_deleted ON mv_player_archetype_daily;
DROP TRIGGER IF EXISTS mv_week_players_3_inserted ON mv_player_archetype_daily;
DROP TRIGGER IF EXISTS mv_week_players_3_updated_old ON mv_player_archetype_daily;
DROP TRIGGER IF EXISTS mv_week_players_3_updated_new ON mv_player_archetype_daily;
DROP TRIGGER IF EXISTS mv_week_players_clear ON mv_player_archetype_daily;
DROP FUNCTION IF EXISTS mv_week_players_clear();
DROP FUNCTION IF EXISTS mv_week_players_recount();
DROP TABLE IF EXISTS mv_archetype_week_players;
