-- Archetype discovery (issue 17): runs per format and window, their suggested rules (never
-- applied automatically), rule usage, and per-deck similarity results read by the API.

-- One discovery of one format over one window of event dates.
CREATE TABLE discovery_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    format       text NOT NULL,
    window_key   text NOT NULL,            -- current, last30, ... or all
    start_date   date,
    end_date     date,
    definitions  text NOT NULL,            -- definitions version (content hash) used
    decks        integer NOT NULL,
    unknown      integer NOT NULL,
    fallback     integer NOT NULL,
    clusters     integer NOT NULL,
    seconds      double precision NOT NULL,
    requested_by text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_discovery_runs_format ON discovery_runs (format, window_key, id DESC);

-- Cluster identities: a cluster keeps its id from run to run while most of its decks persist.
CREATE SEQUENCE discovery_cluster_ids;

CREATE TABLE discovery_suggestions (
    run_id      bigint NOT NULL REFERENCES discovery_runs ON DELETE CASCADE,
    cluster_id  bigint NOT NULL,
    name        text NOT NULL,
    cards       text[] NOT NULL,           -- most distinctive cards first
    members     bigint[] NOT NULL,         -- deck ids of the cluster
    definition  jsonb NOT NULL,            -- the suggested Archetypes/*.json document
    exclusive   boolean NOT NULL,          -- matches no deck of another archetype
    precision   double precision NOT NULL,
    recall      double precision NOT NULL,
    relabel     jsonb NOT NULL,            -- [{"from", "to", "decks"}] if it were added
    notes       text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, cluster_id)
);

-- Decks each definition file labelled in the run's window (0 = a rule nobody uses).
CREATE TABLE discovery_rule_usage (
    run_id bigint NOT NULL REFERENCES discovery_runs ON DELETE CASCADE,
    file   text NOT NULL,
    decks  integer NOT NULL,
    PRIMARY KEY (run_id, file)
);

-- k nearest decks of each deck across its format's history (precomputed for the API).
CREATE TABLE deck_neighbours (
    deck_id     bigint NOT NULL REFERENCES decks ON DELETE CASCADE,
    rank        smallint NOT NULL,
    neighbour_id bigint NOT NULL,
    similarity  real NOT NULL,
    PRIMARY KEY (deck_id, rank)
);

-- The closest labelled archetype of each Unknown deck.
CREATE TABLE deck_nearest_archetype (
    deck_id    bigint PRIMARY KEY REFERENCES decks ON DELETE CASCADE,
    archetype  text NOT NULL,
    similarity real NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);
