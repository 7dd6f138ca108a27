-- Issue 14 point 3 / issue 12 defect 3: deck and tournament lists whose cost does not grow
-- with history (pipelines/reads/deck_list.py walks these indexes in display order).

-- The event date on each label, so that the decks of one archetype are read from one index
-- in display order (newest first) instead of collecting every deck of the archetype, then
-- sorting. Label writers pass it (pipelines/classify/labels.py); any other writer that
-- leaves it NULL gets it from the trigger (a per-row lookup: 3x slower, hence not the
-- classifier's path).
ALTER TABLE deck_archetypes ADD COLUMN event_date date;
UPDATE deck_archetypes a SET event_date = t.event_date
  FROM decks d JOIN tournaments t ON t.id = d.tournament_id
 WHERE d.id = a.deck_id;
ALTER TABLE deck_archetypes ALTER COLUMN event_date SET NOT NULL;

CREATE FUNCTION deck_archetypes_event_date() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT t.event_date INTO NEW.event_date
      FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE d.id = NEW.deck_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER deck_archetypes_event_date BEFORE INSERT ON deck_archetypes
    FOR EACH ROW WHEN (NEW.event_date IS NULL) EXECUTE FUNCTION deck_archetypes_event_date();

-- An event moved to another day carries its labels along (ingestion replaces an event's
-- decks and labels, so this is for any other path that edits the date).
CREATE FUNCTION tournaments_label_dates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE deck_archetypes a SET event_date = NEW.event_date
      FROM decks d
     WHERE d.tournament_id = NEW.id AND a.deck_id = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER tournaments_label_dates AFTER UPDATE OF event_date ON tournaments
    FOR EACH ROW WHEN (NEW.event_date IS DISTINCT FROM OLD.event_date)
    EXECUTE FUNCTION tournaments_label_dates();

-- Every deck of a definitions folder's scope up to this deck id has a label of its active
-- version (written by classification, which reads the newest deck id before labelling).
-- The deck list finds a labelled format's unlabelled decks above it instead of checking
-- every deck of the format; 0 (unknown yet: e.g. just migrated) means "check every deck"
-- until the next classification run.
ALTER TABLE active_definitions ADD COLUMN labelled_through bigint NOT NULL DEFAULT 0;

-- One archetype's decks (of one definitions version) newest first; replaces the label index
-- of 0009, which had no order.
CREATE INDEX ix_deck_archetypes_list
    ON deck_archetypes (version_id, archetype, event_date DESC, deck_id DESC);
DROP INDEX ix_deck_archetypes_label;

-- A tournament's deck ids, read without the table (tournaments are walked newest first,
-- then their decks).
CREATE INDEX ix_decks_tournament_id ON decks (tournament_id, id);

-- Tournament lists filtered by kind or source walk these in display order.
CREATE INDEX ix_tournaments_kind_recent ON tournaments (event_kind, event_date DESC, id DESC);
CREATE INDEX ix_tournaments_source_recent ON tournaments (source_id, event_date DESC, id DESC);
