-- Issue 14: the recount of migration 0022's weekly players joined the touched weeks to the
-- daily rows on the format alone and filtered the day range (a merge join comparing
-- 179 million pairs: 49 s for a full rebuild's INSERT at 500k decks). Now a statement that
-- touched a few weeks (a night) reads each week's days by index (LATERAL), and a larger one
-- hashes the daily rows on (format, week). The trigger functions of 0020 and 0022 run
-- without JIT (compiling cost more than a night's statement) and with room to sort or hash
-- a full rebuild's rows in memory.
CREATE OR REPLACE FUNCTION mv_week_players_recount() RETURNS trigger
LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    formats text[];
    weeks date[];
BEGIN
    SELECT array_agg(format), array_agg(week_start) INTO formats, weeks
      FROM (SELECT DISTINCT format,
                   event_date - (event_date - DATE '0001-01-01') % 7 AS week_start
              FROM changed_rows) t;
    IF formats IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM mv_archetype_week_players w
     USING unnest(formats, weeks) AS t(format, week_start)
     WHERE w.format = t.format AND w.week_start = t.week_start;
    IF cardinality(weeks) <= 64 THEN
        INSERT INTO mv_archetype_week_players
        SELECT t.format, t.week_start, g.event_group, p.archetype,
               count(DISTINCT p.player_key COLLATE "C")
          FROM unnest(formats, weeks) AS t(format, week_start)
         CROSS JOIN LATERAL (
               SELECT d.archetype, d.player_key, d.event_kind
                 FROM mv_player_archetype_daily d
                WHERE d.format = t.format
                  AND d.event_date BETWEEN t.week_start AND t.week_start + 6) p
          JOIN stats_event_groups g ON g.event_kind = p.event_kind
         GROUP BY 1, 2, 3, 4;
    ELSE
        INSERT INTO mv_archetype_week_players
        SELECT p.format, t.week_start, g.event_group, p.archetype,
               count(DISTINCT p.player_key COLLATE "C")
          FROM unnest(formats, weeks) AS t(format, week_start)
          JOIN mv_player_archetype_daily p
            ON p.format = t.format
           AND p.event_date - (p.event_date - DATE '0001-01-01') % 7 = t.week_start
          JOIN stats_event_groups g ON g.event_kind = p.event_kind
         GROUP BY 1, 2, 3, 4;
    END IF;
    RETURN NULL;
END
$$;

-- Removals find the totals of the removed keys by index (without statistics on the transition
-- table the planner hashed a whole totals table for a night's 185 rows: 478 -> ~150 ms).
ALTER FUNCTION mv_player_archetype_totals_add() SET jit = off SET work_mem = '64MB';
ALTER FUNCTION mv_player_archetype_totals_remove()
    SET jit = off SET work_mem = '64MB' SET enable_seqscan = off;
ALTER FUNCTION mv_matchup_totals_add() SET jit = off SET work_mem = '64MB';
ALTER FUNCTION mv_matchup_totals_remove()
    SET jit = off SET work_mem = '64MB' SET enable_seqscan = off;
ALTER FUNCTION mv_format_totals_add() SET jit = off;
ALTER FUNCTION mv_format_totals_remove() SET jit = off SET enable_seqscan = off;
