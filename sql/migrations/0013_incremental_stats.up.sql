-- Issue 14: incremental statistics. The seven statistics materialized views become plain
-- tables with the same names, columns and unique indexes (readers do not change), filled
-- by pipelines.stats.aggregates from the statements in sql/views/*.sql, one (format, day)
-- at a time: a refresh recomputes only the days whose data changed since the last one, and
-- the weeks containing them.
--
-- * stats_dirty_days: the (format, event_date) days whose statistics inputs changed and
--   are not refreshed yet. Filled by the triggers below IN THE SAME TRANSACTION as the
--   change, so no writer (ingestion, classification, deletion, a hand-written UPDATE) can
--   forget to record it; the refresh deletes exactly the rows it consumed (by id), so a
--   change committed while a refresh runs is kept for the next one. Append-only: a
--   statement adds one row per day it touched unless the same transaction already did.
-- * What feeds a day's statistics: its tournaments, their decks, standings and matches, the
--   current labels of their decks (deck_archetypes rows of an active version, and
--   active_definitions switching versions), and the canonical card ids (cards).
-- * refresh_log.kind: 'full' or 'incremental'; days: the days recomputed; rules: the
--   minimum sample of the tier table the windows were computed with.
-- * Every existing day is marked dirty here, so the first refresh after this migration
--   fills the tables (`manalytics stats refresh --full` does the same explicitly).
SET LOCAL jit = off;

DROP MATERIALIZED VIEW mv_deck_size_weekly;
DROP MATERIALIZED VIEW mv_card_usage_weekly;
DROP MATERIALIZED VIEW mv_matchup_daily;
DROP MATERIALIZED VIEW mv_archetype_color_daily;
DROP MATERIALIZED VIEW mv_archetype_daily;
DROP MATERIALIZED VIEW mv_player_archetype_daily;
DROP MATERIALIZED VIEW mv_deck_facts;

-- Columns and meaning: see sql/views/02_mv_deck_facts.sql … 08_mv_deck_size_weekly.sql.
CREATE TABLE mv_deck_facts (
    deck_id       bigint NOT NULL,
    tournament_id bigint NOT NULL,
    format        text NOT NULL,
    event_date    date NOT NULL,
    week_start    date NOT NULL,
    event_kind    text NOT NULL,
    player_key    text NOT NULL,
    archetype     text NOT NULL,
    name_raw      text NOT NULL,
    color         text NOT NULL,
    companion     text NOT NULL,
    main_total    integer NOT NULL,
    side_total    integer NOT NULL,
    rank          integer,
    wins          integer NOT NULL,
    losses        integer NOT NULL,
    draws         integer NOT NULL,
    mirror_seats  integer NOT NULL,
    counted       integer NOT NULL,
    rec_wins      integer,
    rec_losses    integer,
    rec_draws     integer,
    record_source text NOT NULL,
    record_wins   integer,
    record_losses integer,
    record_draws  integer
);
CREATE UNIQUE INDEX ux_mv_deck_facts ON mv_deck_facts (deck_id);
CREATE INDEX ix_mv_deck_facts_archetype ON mv_deck_facts (format, archetype, event_date);
-- The refresh replaces a day's (and reads a week's) decks.
CREATE INDEX ix_mv_deck_facts_day ON mv_deck_facts (format, event_date);
CREATE INDEX ix_mv_deck_facts_week ON mv_deck_facts (format, week_start);

CREATE TABLE mv_player_archetype_daily (
    format      text NOT NULL,
    event_date  date NOT NULL,
    event_kind  text NOT NULL,
    archetype   text NOT NULL,
    player_key  text NOT NULL,
    decks       integer NOT NULL,
    wins        integer NOT NULL,
    losses      integer NOT NULL,
    draws       integer NOT NULL,
    mirror_seats integer NOT NULL,
    covered     integer NOT NULL,
    rec_wins    integer NOT NULL,
    rec_losses  integer NOT NULL,
    rec_draws   integer NOT NULL,
    rec_decks   integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_player_archetype_daily
    ON mv_player_archetype_daily (format, event_date, event_kind, archetype, player_key);
-- Custom windows over long ranges read one archetype's players from the index alone
-- (engineer "windows"; migration 0014 creates it IF NOT EXISTS too).
CREATE INDEX ix_mv_player_archetype_daily_player
    ON mv_player_archetype_daily (format, archetype, player_key)
    INCLUDE (event_date, event_kind, decks, wins, losses, draws, mirror_seats, covered,
             rec_wins, rec_losses, rec_draws, rec_decks);

CREATE TABLE mv_archetype_daily (
    format     text NOT NULL,
    event_date date NOT NULL,
    event_kind text NOT NULL,
    archetype  text NOT NULL,
    decks      integer NOT NULL,
    players    integer NOT NULL,
    wins       integer NOT NULL,
    losses     integer NOT NULL,
    draws      integer NOT NULL,
    mirrors    integer NOT NULL,
    seats      integer NOT NULL,
    covered    integer NOT NULL,
    rec_wins   integer NOT NULL,
    rec_losses integer NOT NULL,
    rec_draws  integer NOT NULL,
    rec_decks  integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_archetype_daily
    ON mv_archetype_daily (format, event_date, event_kind, archetype);

CREATE TABLE mv_archetype_color_daily (
    format     text NOT NULL,
    event_date date NOT NULL,
    event_kind text NOT NULL,
    archetype  text NOT NULL,
    color      text NOT NULL,
    decks      integer NOT NULL,
    wins       integer NOT NULL,
    losses     integer NOT NULL,
    draws      integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_archetype_color_daily
    ON mv_archetype_color_daily (format, event_date, event_kind, archetype, color);

CREATE TABLE mv_matchup_daily (
    format     text NOT NULL,
    event_date date NOT NULL,
    event_kind text NOT NULL,
    archetype  text NOT NULL,
    opponent   text NOT NULL,
    wins       integer NOT NULL,
    losses     integer NOT NULL,
    draws      integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_matchup_daily
    ON mv_matchup_daily (format, event_date, event_kind, archetype, opponent);
CREATE INDEX ix_mv_matchup_daily_cell
    ON mv_matchup_daily (format, archetype, opponent)
    INCLUDE (event_date, event_kind, wins, losses, draws);

CREATE TABLE mv_card_usage_weekly (
    format     text NOT NULL,
    week_start date NOT NULL,
    event_kind text NOT NULL,
    archetype  text NOT NULL,
    board      text NOT NULL,
    card_ids   integer[] NOT NULL,
    copies     integer[] NOT NULL,
    decks      integer[] NOT NULL,
    wins       integer[] NOT NULL,
    losses     integer[] NOT NULL,
    rec_wins   integer[] NOT NULL,
    rec_losses integer[] NOT NULL
);
CREATE UNIQUE INDEX ux_mv_card_usage_weekly
    ON mv_card_usage_weekly (format, week_start, event_kind, archetype, board);

CREATE TABLE mv_deck_size_weekly (
    format     text NOT NULL,
    week_start date NOT NULL,
    event_kind text NOT NULL,
    archetype  text NOT NULL,
    main_total integer NOT NULL,
    side_total integer NOT NULL,
    decks      integer NOT NULL,
    wins       integer NOT NULL,
    losses     integer NOT NULL,
    rec_wins   integer NOT NULL,
    rec_losses integer NOT NULL
);
CREATE UNIQUE INDEX ux_mv_deck_size_weekly
    ON mv_deck_size_weekly (format, week_start, event_kind, archetype, main_total, side_total);

ALTER TABLE refresh_log
    ADD COLUMN kind text NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'incremental')),
    ADD COLUMN days integer,
    ADD COLUMN rules jsonb;

CREATE TABLE stats_dirty_days (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    format     text NOT NULL,
    event_date date NOT NULL,
    txid       bigint NOT NULL DEFAULT txid_current(),  -- the transaction that marked it
    marked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_stats_dirty_days_day ON stats_dirty_days (format, event_date);

-- Marks the (format, event_date) days given as two parallel arrays, skipping the days this
-- transaction already marked. Called by every trigger below (transition tables are only
-- visible inside the trigger function itself, so each one collects its days first).
CREATE FUNCTION stats_mark_days(formats text[], days date[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO stats_dirty_days (format, event_date)
    SELECT DISTINCT u.format, u.event_date
      FROM unnest(formats, days) AS u (format, event_date)
     WHERE u.format IS NOT NULL AND u.event_date IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM stats_dirty_days x
                        WHERE x.format = u.format AND x.event_date = u.event_date
                          AND x.txid = txid_current());
$$;

-- tournaments: the days of the old and the new rows.
CREATE FUNCTION stats_dirty_tournaments() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    f text[];
    d date[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT array_agg(format), array_agg(event_date) INTO f, d FROM old_rows;
        PERFORM stats_mark_days(f, d);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT array_agg(format), array_agg(event_date) INTO f, d FROM new_rows;
        PERFORM stats_mark_days(f, d);
    END IF;
    RETURN NULL;
END
$$;

-- decks, standings, matches: the days of their tournaments (a row deleted together with
-- its tournament is covered by the tournaments trigger).
CREATE FUNCTION stats_dirty_event_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    f text[];
    d date[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t WHERE t.id IN (SELECT tournament_id FROM old_rows);
        PERFORM stats_mark_days(f, d);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t WHERE t.id IN (SELECT tournament_id FROM new_rows);
        PERFORM stats_mark_days(f, d);
    END IF;
    RETURN NULL;
END
$$;

-- deck_archetypes: labels of an active version only (a reclassification writes a new
-- version's labels beside the old ones; they count when active_definitions switches).
CREATE FUNCTION stats_dirty_labels() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    f text[];
    d date[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t
         WHERE t.id IN (SELECT x.tournament_id FROM decks x
                         WHERE x.id IN (SELECT r.deck_id FROM old_rows r
                                         WHERE r.version_id IN (SELECT version_id
                                                                  FROM active_definitions)));
        PERFORM stats_mark_days(f, d);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t
         WHERE t.id IN (SELECT x.tournament_id FROM decks x
                         WHERE x.id IN (SELECT r.deck_id FROM new_rows r
                                         WHERE r.version_id IN (SELECT version_id
                                                                  FROM active_definitions)));
        PERFORM stats_mark_days(f, d);
    END IF;
    RETURN NULL;
END
$$;

-- active_definitions: every deck labelled by the version switched off or on.
CREATE FUNCTION stats_dirty_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    f text[];
    d date[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t
         WHERE t.id IN (SELECT x.tournament_id FROM decks x
                         WHERE x.id IN (SELECT a.deck_id FROM deck_archetypes a
                                         WHERE a.version_id IN (SELECT version_id
                                                                  FROM old_rows)));
        PERFORM stats_mark_days(f, d);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t
         WHERE t.id IN (SELECT x.tournament_id FROM decks x
                         WHERE x.id IN (SELECT a.deck_id FROM deck_archetypes a
                                         WHERE a.version_id IN (SELECT version_id
                                                                  FROM new_rows)));
        PERFORM stats_mark_days(f, d);
    END IF;
    RETURN NULL;
END
$$;

-- cards: card statistics use the smallest id of each canonical name. A change of a card's
-- canonical name, a deleted card, or a new card taking the smallest id of an existing
-- canonical name (never with generated ids) can move any deck's card counts: every day is
-- marked. New cards otherwise, and no-op upserts, change nothing.
CREATE FUNCTION stats_dirty_cards() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    f text[];
    d date[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN cards c ON c.canonical_name = n.canonical_name
                        WHERE c.id > n.id) THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
                        WHERE o.id IS NULL OR o.canonical_name <> n.canonical_name) THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT array_agg(format), array_agg(event_date) INTO f, d
      FROM (SELECT DISTINCT format, event_date FROM tournaments) t;
    PERFORM stats_mark_days(f, d);
    RETURN NULL;
END
$$;

-- Statement-level triggers with transition tables (one per event: PostgreSQL allows
-- transition tables on single-event triggers only). COPY fires them once per statement.
CREATE TRIGGER stats_dirty_tournaments_ins AFTER INSERT ON tournaments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_tournaments();
CREATE TRIGGER stats_dirty_tournaments_upd AFTER UPDATE ON tournaments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_tournaments();
CREATE TRIGGER stats_dirty_tournaments_del AFTER DELETE ON tournaments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_tournaments();

CREATE TRIGGER stats_dirty_decks_ins AFTER INSERT ON decks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();
CREATE TRIGGER stats_dirty_decks_upd AFTER UPDATE ON decks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();
CREATE TRIGGER stats_dirty_decks_del AFTER DELETE ON decks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();

CREATE TRIGGER stats_dirty_standings_ins AFTER INSERT ON standings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();
CREATE TRIGGER stats_dirty_standings_upd AFTER UPDATE ON standings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();
CREATE TRIGGER stats_dirty_standings_del AFTER DELETE ON standings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();

CREATE TRIGGER stats_dirty_matches_ins AFTER INSERT ON matches
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();
CREATE TRIGGER stats_dirty_matches_upd AFTER UPDATE ON matches
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();
CREATE TRIGGER stats_dirty_matches_del AFTER DELETE ON matches
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_event_rows();

CREATE TRIGGER stats_dirty_labels_ins AFTER INSERT ON deck_archetypes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_labels();
CREATE TRIGGER stats_dirty_labels_upd AFTER UPDATE ON deck_archetypes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_labels();
CREATE TRIGGER stats_dirty_labels_del AFTER DELETE ON deck_archetypes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_labels();

CREATE TRIGGER stats_dirty_versions_ins AFTER INSERT ON active_definitions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_versions();
CREATE TRIGGER stats_dirty_versions_upd AFTER UPDATE ON active_definitions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_versions();
CREATE TRIGGER stats_dirty_versions_del AFTER DELETE ON active_definitions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_versions();

CREATE TRIGGER stats_dirty_cards_ins AFTER INSERT ON cards
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_cards();
CREATE TRIGGER stats_dirty_cards_upd AFTER UPDATE ON cards
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_cards();
CREATE TRIGGER stats_dirty_cards_del AFTER DELETE ON cards
    FOR EACH STATEMENT EXECUTE FUNCTION stats_dirty_cards();

-- Fill everything at the next refresh.
INSERT INTO stats_dirty_days (format, event_date)
SELECT DISTINCT format, event_date FROM tournaments;
