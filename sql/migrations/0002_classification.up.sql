-- Archetype classification results, versioned by the content hash of the definitions.
--
-- A format's decks are classified against one definitions version at a time. Reclassifying
-- writes the rows of a new version beside the old ones; readers keep seeing the version
-- named in active_definitions until the new one is complete, then one UPDATE switches them.

CREATE TABLE definition_versions (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    format     text NOT NULL,
    version    text NOT NULL,              -- content hash of the format folder
    origin     text,                       -- folder, or the repository commit it came from
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (format, version)
);

CREATE TABLE active_definitions (
    format       text PRIMARY KEY,
    version_id   integer NOT NULL REFERENCES definition_versions,
    activated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deck_archetypes (
    -- No foreign key on version_id: its per-row check locks the one version row (FOR KEY
    -- SHARE) for every label and made writing labels 3x slower. Versions are only ever
    -- deleted together with their labels (see pipelines.classify.store).
    version_id  integer NOT NULL,
    deck_id     bigint NOT NULL REFERENCES decks ON DELETE CASCADE,
    archetype   text NOT NULL,     -- the label: display name, 'Unknown' or 'Conflict(a,b)'
    definition  text,              -- Name of the matched archetype / fallback definition
    variant     text,              -- Name of the matched variant
    color       text NOT NULL,     -- WUBRG code, 'C' for colourless
    companion   text NOT NULL DEFAULT '',
    method      text NOT NULL CHECK (method IN ('rule', 'fallback', 'conflict', 'unknown')),
    score       double precision,  -- fallback similarity
    candidates  text[] NOT NULL DEFAULT '{}',  -- every matching label, before conflict handling
    PRIMARY KEY (version_id, deck_id)
);
CREATE INDEX ix_deck_archetypes_deck ON deck_archetypes (deck_id);

CREATE TABLE classification_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    format       text NOT NULL,
    version_id   integer NOT NULL REFERENCES definition_versions ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'completed', 'failed', 'superseded')),
    decks_total  integer NOT NULL DEFAULT 0,
    requested_by text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    error        text
);
CREATE INDEX ix_classification_runs_format ON classification_runs (format, started_at DESC);

-- A run's work units (ranges of deck ids); the run completes when no chunk is left undone.
-- Done-ness is per chunk, so a chunk redelivered to a second worker counts once.
CREATE TABLE classification_chunks (
    run_id        bigint NOT NULL REFERENCES classification_runs ON DELETE CASCADE,
    chunk_no      integer NOT NULL,
    first_deck_id bigint NOT NULL,
    last_deck_id  bigint NOT NULL,
    decks         integer NOT NULL,
    done_at       timestamptz,
    PRIMARY KEY (run_id, chunk_no)
);

-- What readers use: each deck's label under its format's active definitions.
CREATE VIEW current_deck_archetypes AS
SELECT da.*
  FROM deck_archetypes da
  JOIN active_definitions a ON a.version_id = da.version_id;
