CREATE UNIQUE INDEX ux_mv_player_archetype_daily_old
    ON mv_player_archetype_daily (format, event_date, event_kind, archetype, player_key);
DROP INDEX ux_mv_player_archetype_daily;
ALTER INDEX ux_mv_player_archetype_daily_old RENAME TO ux_mv_player_archetype_daily;

CREATE UNIQUE INDEX ux_mv_matchup_daily_old
    ON mv_matchup_daily (format, event_date, event_kind, archetype, opponent);
DROP INDEX ux_mv_matchup_daily;
ALTER INDEX ux_mv_matchup_daily_old RENAME TO ux_mv_matchup_daily;
