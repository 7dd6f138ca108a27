-- Issue 14: an archetype's weekly series over a long window without counting every week's
-- distinct players from the daily rows (a whole history: ~27k (week, player) pairs sorted per
-- request). Distinct players are not additive over days, so the table holds them per whole
-- Monday–Sunday week and event group; the reader counts only the partial weeks at the
-- window's ends from the daily rows (pipelines/stats/archetype_reads.py).
--
-- Kept by statement-level triggers on mv_player_archetype_daily (transition tables, the
-- writer's transaction): the (format, week) pairs of the rows a statement changed are
-- recounted from the daily table.
CREATE TABLE mv_archetype_week_players (
    format      text NOT NULL,
    week_start  date NOT NULL,
    event_group text NOT NULL,
    archetype   text NOT NULL,
    players     integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_archetype_week_players
    ON mv_archetype_week_players (format, event_group, archetype, week_start) INCLUDE (players);
ALTER TABLE mv_archetype_week_players SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000);

CREATE FUNCTION mv_week_players_recount() RETURNS trigger
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

CREATE FUNCTION mv_week_players_clear() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mv_archetype_week_players;
    RETURN NULL;
END
$$;

-- An UPDATE recounts the weeks of its old rows and of its new ones (two triggers).
CREATE TRIGGER mv_week_players_3_deleted AFTER DELETE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_inserted AFTER INSERT ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_updated_old AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_3_updated_new AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_week_players_recount();
CREATE TRIGGER mv_week_players_clear AFTER TRUNCATE ON mv_player_archetype_daily
    FOR EACH STATEMENT EXECUTE FUNCTION mv_week_players_clear();

INSERT INTO mv_archetype_week_players
SELECT p.format, p.event_date - (p.event_date - DATE '0001-01-01') % 7, g.event_group,
       p.archetype, count(DISTINCT p.player_key COLLATE "C")
  FROM mv_player_archetype_daily p JOIN stats_event_groups g ON g.event_kind = p.event_kind
 GROUP BY 1, 2, 3, 4;
