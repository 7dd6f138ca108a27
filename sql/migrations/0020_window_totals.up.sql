-- Issue 14: custom windows over (nearly) the whole history without reading the whole history.
--
-- A custom window's statistics need every player's summed record per archetype over the
-- window (distinct players and the player-clustered interval are not additive over days).
-- These tables hold those sums over ALL of history, per event group: a window that covers
-- most of a format's days is "all of history minus the days outside it"
-- (pipelines/stats/window_stats.py), exact integer arithmetic, and reads the rows outside
-- the window (a few days) instead of the rows inside (years).
--
-- They are kept equal to the sums of the daily tables by statement-level triggers with
-- transition tables on mv_player_archetype_daily and mv_matchup_daily, in the writer's own
-- transaction (the refresh's): readers see totals and daily rows of one generation. A
-- statement that empties a daily table (the full refresh's DELETE) clears its totals.

-- Per (format, event group, archetype, player): the player's sums with that archetype.
CREATE TABLE mv_player_archetype_total (
    format       text NOT NULL,
    event_group  text NOT NULL,
    archetype    text NOT NULL,
    player_key   text NOT NULL,
    decks        integer NOT NULL,
    wins         integer NOT NULL,
    losses       integer NOT NULL,
    draws        integer NOT NULL,
    mirror_seats integer NOT NULL,
    covered      integer NOT NULL,
    rec_wins     integer NOT NULL,
    rec_losses   integer NOT NULL,
    rec_draws    integer NOT NULL,
    rec_decks    integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_player_archetype_total
    ON mv_player_archetype_total (format, event_group, archetype, player_key)
    INCLUDE (decks, wins, losses, draws, mirror_seats, covered, rec_wins, rec_losses,
             rec_draws, rec_decks);

-- Per (format, event group, player): decks over all archetypes (distinct players).
CREATE TABLE mv_player_total (
    format      text NOT NULL,
    event_group text NOT NULL,
    player_key  text NOT NULL,
    decks       integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_player_total
    ON mv_player_total (format, event_group, player_key) INCLUDE (decks);

-- Per (format, event group, archetype, opponent): the matchup cell's sums, and how many
-- daily rows it sums (a cell is in a window when one of its daily rows is).
CREATE TABLE mv_matchup_total (
    format      text NOT NULL,
    event_group text NOT NULL,
    archetype   text NOT NULL,
    opponent    text NOT NULL,
    days        integer NOT NULL,
    wins        integer NOT NULL,
    losses      integer NOT NULL,
    draws       integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_matchup_total
    ON mv_matchup_total (format, event_group, archetype, opponent)
    INCLUDE (days, wins, losses, draws);

-- Analyzed and vacuumed after a night's changes: the reads are index-only scans, which need
-- the visibility map of the pages a night's triggers rewrote.
ALTER TABLE mv_player_archetype_total SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000);
ALTER TABLE mv_player_total SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000);
ALTER TABLE mv_matchup_total SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);

-- Rows added: their sums added (a new key inserted).
CREATE FUNCTION mv_player_archetype_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mv_player_archetype_total AS t
    SELECT n.format, g.event_group, n.archetype, n.player_key,
           sum(n.decks), sum(n.wins), sum(n.losses), sum(n.draws), sum(n.mirror_seats),
           sum(n.covered), sum(n.rec_wins), sum(n.rec_losses), sum(n.rec_draws),
           sum(n.rec_decks)
      FROM new_rows n JOIN stats_event_groups g ON g.event_kind = n.event_kind
     GROUP BY 1, 2, 3, 4
    ON CONFLICT (format, event_group, archetype, player_key) DO UPDATE
       SET decks = t.decks + EXCLUDED.decks, wins = t.wins + EXCLUDED.wins,
           losses = t.losses + EXCLUDED.losses, draws = t.draws + EXCLUDED.draws,
           mirror_seats = t.mirror_seats + EXCLUDED.mirror_seats,
           covered = t.covered + EXCLUDED.covered, rec_wins = t.rec_wins + EXCLUDED.rec_wins,
           rec_losses = t.rec_losses + EXCLUDED.rec_losses,
           rec_draws = t.rec_draws + EXCLUDED.rec_draws,
           rec_decks = t.rec_decks + EXCLUDED.rec_decks;
    INSERT INTO mv_player_total AS t
    SELECT n.format, g.event_group, n.player_key, sum(n.decks)
      FROM new_rows n JOIN stats_event_groups g ON g.event_kind = n.event_kind
     GROUP BY 1, 2, 3
    ON CONFLICT (format, event_group, player_key) DO UPDATE SET decks = t.decks + EXCLUDED.decks;
    RETURN NULL;
END
$$;

-- Rows removed: their sums subtracted; a key whose decks reach 0 has no row left (every daily
-- row counts at least one deck) and is deleted.
CREATE FUNCTION mv_player_archetype_totals_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM mv_player_archetype_daily) THEN
        DELETE FROM mv_player_archetype_total;
        DELETE FROM mv_player_total;
        RETURN NULL;
    END IF;
    WITH r AS (
        SELECT o.format, g.event_group, o.archetype, o.player_key,
               sum(o.decks) AS decks, sum(o.wins) AS wins, sum(o.losses) AS losses,
               sum(o.draws) AS draws, sum(o.mirror_seats) AS mirror_seats,
               sum(o.covered) AS covered, sum(o.rec_wins) AS rec_wins,
               sum(o.rec_losses) AS rec_losses, sum(o.rec_draws) AS rec_draws,
               sum(o.rec_decks) AS rec_decks
          FROM old_rows o JOIN stats_event_groups g ON g.event_kind = o.event_kind
         GROUP BY 1, 2, 3, 4
    ), gone AS (
        DELETE FROM mv_player_archetype_total t USING r
         WHERE t.format = r.format AND t.event_group = r.event_group
           AND t.archetype = r.archetype AND t.player_key = r.player_key AND t.decks = r.decks
        RETURNING t.format
    )
    UPDATE mv_player_archetype_total t
       SET decks = t.decks - r.decks, wins = t.wins - r.wins, losses = t.losses - r.losses,
           draws = t.draws - r.draws, mirror_seats = t.mirror_seats - r.mirror_seats,
           covered = t.covered - r.covered, rec_wins = t.rec_wins - r.rec_wins,
           rec_losses = t.rec_losses - r.rec_losses, rec_draws = t.rec_draws - r.rec_draws,
           rec_decks = t.rec_decks - r.rec_decks
      FROM r
     WHERE t.format = r.format AND t.event_group = r.event_group
       AND t.archetype = r.archetype AND t.player_key = r.player_key AND t.decks <> r.decks;
    WITH r AS (
        SELECT o.format, g.event_group, o.player_key, sum(o.decks) AS decks
          FROM old_rows o JOIN stats_event_groups g ON g.event_kind = o.event_kind
         GROUP BY 1, 2, 3
    ), gone AS (
        DELETE FROM mv_player_total t USING r
         WHERE t.format = r.format AND t.event_group = r.event_group
           AND t.player_key = r.player_key AND t.decks = r.decks
        RETURNING t.format, t.event_group, t.player_key
    )
    UPDATE mv_player_total t SET decks = t.decks - r.decks
      FROM r
     WHERE t.format = r.format AND t.event_group = r.event_group
       AND t.player_key = r.player_key AND t.decks <> r.decks;
    RETURN NULL;
END
$$;

CREATE FUNCTION mv_matchup_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mv_matchup_total AS t
    SELECT n.format, g.event_group, n.archetype, n.opponent,
           count(*), sum(n.wins), sum(n.losses), sum(n.draws)
      FROM new_rows n JOIN stats_event_groups g ON g.event_kind = n.event_kind
     GROUP BY 1, 2, 3, 4
    ON CONFLICT (format, event_group, archetype, opponent) DO UPDATE
       SET days = t.days + EXCLUDED.days, wins = t.wins + EXCLUDED.wins,
           losses = t.losses + EXCLUDED.losses, draws = t.draws + EXCLUDED.draws;
    RETURN NULL;
END
$$;

CREATE FUNCTION mv_matchup_totals_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM mv_matchup_daily) THEN
        DELETE FROM mv_matchup_total;
        RETURN NULL;
    END IF;
    WITH r AS (
        SELECT o.format, g.event_group, o.archetype, o.opponent, count(*) AS days,
               sum(o.wins) AS wins, sum(o.losses) AS losses, sum(o.draws) AS draws
          FROM old_rows o JOIN stats_event_groups g ON g.event_kind = o.event_kind
         GROUP BY 1, 2, 3, 4
    ), gone AS (
        DELETE FROM mv_matchup_total t USING r
         WHERE t.format = r.format AND t.event_group = r.event_group
           AND t.archetype = r.archetype AND t.opponent = r.opponent AND t.days = r.days
        RETURNING t.format
    )
    UPDATE mv_matchup_total t
       SET days = t.days - r.days, wins = t.wins - r.wins, losses = t.losses - r.losses,
           draws = t.draws - r.draws
      FROM r
     WHERE t.format = r.format AND t.event_group = r.event_group
       AND t.archetype = r.archetype AND t.opponent = r.opponent AND t.days <> r.days;
    RETURN NULL;
END
$$;

CREATE FUNCTION mv_window_totals_clear() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'mv_matchup_daily' THEN
        DELETE FROM mv_matchup_total;
    ELSE
        DELETE FROM mv_player_archetype_total;
        DELETE FROM mv_player_total;
    END IF;
    RETURN NULL;
END
$$;

-- UPDATE = remove the old rows, add the new ones (two triggers, in name order).
CREATE TRIGGER mv_player_archetype_totals_1_remove AFTER DELETE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_player_archetype_totals_remove();
CREATE TRIGGER mv_player_archetype_totals_1_remove_updated AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_player_archetype_totals_remove();
CREATE TRIGGER mv_player_archetype_totals_2_add AFTER INSERT ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_player_archetype_totals_add();
CREATE TRIGGER mv_player_archetype_totals_2_add_updated AFTER UPDATE ON mv_player_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_player_archetype_totals_add();
CREATE TRIGGER mv_player_archetype_totals_clear AFTER TRUNCATE ON mv_player_archetype_daily
    FOR EACH STATEMENT EXECUTE FUNCTION mv_window_totals_clear();

CREATE TRIGGER mv_matchup_totals_1_remove AFTER DELETE ON mv_matchup_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_matchup_totals_remove();
CREATE TRIGGER mv_matchup_totals_1_remove_updated AFTER UPDATE ON mv_matchup_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_matchup_totals_remove();
CREATE TRIGGER mv_matchup_totals_2_add AFTER INSERT ON mv_matchup_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_matchup_totals_add();
CREATE TRIGGER mv_matchup_totals_2_add_updated AFTER UPDATE ON mv_matchup_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_matchup_totals_add();
CREATE TRIGGER mv_matchup_totals_clear AFTER TRUNCATE ON mv_matchup_daily
    FOR EACH STATEMENT EXECUTE FUNCTION mv_window_totals_clear();

-- The totals of the rows already there.
INSERT INTO mv_player_archetype_total
SELECT p.format, g.event_group, p.archetype, p.player_key,
       sum(p.decks), sum(p.wins), sum(p.losses), sum(p.draws), sum(p.mirror_seats),
       sum(p.covered), sum(p.rec_wins), sum(p.rec_losses), sum(p.rec_draws), sum(p.rec_decks)
  FROM mv_player_archetype_daily p JOIN stats_event_groups g ON g.event_kind = p.event_kind
 GROUP BY 1, 2, 3, 4;
INSERT INTO mv_player_total
SELECT p.format, g.event_group, p.player_key, sum(p.decks)
  FROM mv_player_archetype_daily p JOIN stats_event_groups g ON g.event_kind = p.event_kind
 GROUP BY 1, 2, 3;
INSERT INTO mv_matchup_total
SELECT m.format, g.event_group, m.archetype, m.opponent,
       count(*), sum(m.wins), sum(m.losses), sum(m.draws)
  FROM mv_matchup_daily m JOIN stats_event_groups g ON g.event_kind = m.event_kind
 GROUP BY 1, 2, 3, 4;

-- Per (format, event kind): decks over all of history (the formats overview), kept by the
-- same kind of triggers on mv_archetype_daily.
CREATE TABLE mv_format_total (
    format     text NOT NULL,
    event_kind text NOT NULL,
    decks      integer NOT NULL,
    PRIMARY KEY (format, event_kind)
);

CREATE FUNCTION mv_format_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mv_format_total AS t
    SELECT n.format, n.event_kind, sum(n.decks) FROM new_rows n GROUP BY 1, 2
    ON CONFLICT (format, event_kind) DO UPDATE SET decks = t.decks + EXCLUDED.decks;
    RETURN NULL;
END
$$;

CREATE FUNCTION mv_format_totals_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH r AS (
        SELECT o.format, o.event_kind, sum(o.decks) AS decks FROM old_rows o GROUP BY 1, 2
    ), gone AS (
        DELETE FROM mv_format_total t USING r
         WHERE t.format = r.format AND t.event_kind = r.event_kind AND t.decks = r.decks
        RETURNING t.format
    )
    UPDATE mv_format_total t SET decks = t.decks - r.decks
      FROM r
     WHERE t.format = r.format AND t.event_kind = r.event_kind AND t.decks <> r.decks;
    RETURN NULL;
END
$$;

CREATE FUNCTION mv_format_totals_clear() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mv_format_total;
    RETURN NULL;
END
$$;

CREATE TRIGGER mv_format_totals_1_remove AFTER DELETE ON mv_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_format_totals_remove();
CREATE TRIGGER mv_format_totals_1_remove_updated AFTER UPDATE ON mv_archetype_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_format_totals_remove();
CREATE TRIGGER mv_format_totals_2_add AFTER INSERT ON mv_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_format_totals_add();
CREATE TRIGGER mv_format_totals_2_add_updated AFTER UPDATE ON mv_archetype_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mv_format_totals_add();
CREATE TRIGGER mv_format_totals_clear AFTER TRUNCATE ON mv_archetype_daily
    FOR EACH STATEMENT EXECUTE FUNCTION mv_format_totals_clear();

INSERT INTO mv_format_total
SELECT format, event_kind, sum(decks) FROM mv_archetype_daily GROUP BY 1, 2;

-- Weekly series (trends, an archetype's weeks) read a format's days from this index alone
-- (the whole table was read for a long window).
CREATE INDEX ix_mv_archetype_daily_days ON mv_archetype_daily (format, event_date)
    INCLUDE (event_kind, archetype, decks, wins, losses, draws, mirrors, seats);

-- An archetype's best decks (records first) over a long window: the top of this index, not
-- a sort of every deck of the archetype.
CREATE INDEX ix_mv_deck_facts_best ON mv_deck_facts
    (format, archetype, (record_wins - record_losses) DESC, record_wins DESC, event_date DESC,
     rank NULLS LAST, deck_id) INCLUDE (event_kind);
