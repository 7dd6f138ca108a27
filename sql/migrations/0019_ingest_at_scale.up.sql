-- Issue 14: ingestion of the 500k-deck archive (profiled: ~31 s of client CPU, ~18 s of
-- server CPU). Two server-side costs that did not depend on what is ingested:
--
-- * raw_documents.body becomes text: every body was parsed a second time by the server's
--   JSON validator (~3.7 s of the ~18 s at 500k; 1.6 GB of JSON). Ingestion stores only
--   documents its own strict JSON decoder accepted (quarantined files go to quarantine.raw),
--   and text keeps the received bytes as they are, as json did (sha256(body) is still the
--   file's hash). Cast to json or jsonb to query into it. Still lz4-compressed where the
--   server has lz4.
-- * The dirty-day triggers of decks, standings and matches (0013) looked up their
--   tournaments with a join the planner ran as a sequential scan of tournaments while the
--   table was being filled (statistics of a few hundred rows for thousands): one scan of
--   the whole, growing table per COPY, ~2 s at 500k. They now read the statement's distinct
--   tournament ids first, then those tournaments by primary key. stats_mark_days checks the
--   days already marked by this transaction through the (format, event_date) index instead
--   of a scan of stats_dirty_days (it holds every day after a full load). What is marked,
--   and when, is unchanged.
SET LOCAL jit = off;

DO $$
BEGIN
    ALTER TABLE raw_documents ALTER COLUMN body TYPE text, ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    ALTER TABLE raw_documents ALTER COLUMN body TYPE text;
END $$;

-- Same rows as 0013's; the lookup of the days already marked uses the index.
CREATE OR REPLACE FUNCTION stats_mark_days(formats text[], days date[]) RETURNS void
LANGUAGE sql SET enable_seqscan = off AS $$
    INSERT INTO stats_dirty_days (format, event_date)
    SELECT DISTINCT u.format, u.event_date
      FROM unnest(formats, days) AS u (format, event_date)
     WHERE u.format IS NOT NULL AND u.event_date IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM stats_dirty_days x
                        WHERE x.format = u.format AND x.event_date = u.event_date
                          AND x.txid = txid_current());
$$;

-- decks, standings, matches: the days of their tournaments, old and new rows (a row deleted
-- together with its tournament is covered by the tournaments trigger).
CREATE OR REPLACE FUNCTION stats_dirty_event_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    f text[];
    d date[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT tournament_id) INTO ids FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT tournament_id) INTO ids FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT tournament_id) INTO ids
          FROM (SELECT tournament_id FROM old_rows
                UNION ALL SELECT tournament_id FROM new_rows) AS r;
    END IF;
    -- By primary key: a handful of events per statement, whatever the size of the table.
    SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
      FROM tournaments t WHERE t.id = ANY (ids);
    PERFORM stats_mark_days(f, d);
    RETURN NULL;
END
$$;
