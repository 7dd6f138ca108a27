-- Back to migration 0013's function: every update of active_definitions marks its days.
CREATE OR REPLACE FUNCTION stats_dirty_versions() RETURNS trigger
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
