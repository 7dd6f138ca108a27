-- Back to the functions of 0022 and 0020 as they were.
CREATE OR REPLACE FUNCTION mv_week_players_recount() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mv_archetype_week_players w
     USING (SELECT DISTINCT format,
                   event_date - (event_date - DATE '0001-01-01') % 7 AS week_start
              FROM changed_rows) t
     WHERE w.format = t.format AND w.week_start = t.week_start;
    INSERT INTO mv_archetype_week_players
    SELECT p.format, t.week_start, g.event_group, p.archetype,
           count(DISTINCT p.player_key COLLATE "C")
      FROM (SELECT DISTINCT format,
                   event_date - (event_date - DATE '0001-01-01') % 7 AS week_start
              FROM changed_rows) t
      JOIN mv_player_archetype_daily p
        ON p.format = t.format AND p.event_date BETWEEN t.week_start AND t.week_start + 6
      JOIN stats_event_groups g ON g.event_kind = p.event_kind
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END
$$;

ALTER FUNCTION mv_player_archetype_totals_add() RESET ALL;
ALTER FUNCTION mv_player_archetype_totals_remove() RESET ALL;
ALTER FUNCTION mv_matchup_totals_add() RESET ALL;
ALTER FUNCTION mv_matchup_totals_remove() RESET ALL;
ALTER FUNCTION mv_format_totals_add() RESET ALL;
ALTER FUNCTION mv_format_totals_remove() RESET ALL;
