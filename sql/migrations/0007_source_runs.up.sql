-- Fetching from the sources (issue 10): run records, per-event checkpoints, quarantined
-- pages, per-source checkpoints (the cache repository's commit) and the raw pages.

-- One row per fetch run of one source (nightly, operator or CLI).
CREATE TABLE source_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text NOT NULL,
    trigger       text NOT NULL DEFAULT 'manual',
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'disabled')),
    since         date,
    until         date,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    listed        integer NOT NULL DEFAULT 0,
    fetched       integer NOT NULL DEFAULT 0,
    skipped       integer NOT NULL DEFAULT 0,
    failed        integer NOT NULL DEFAULT 0,
    quarantined   integer NOT NULL DEFAULT 0,
    documents     integer NOT NULL DEFAULT 0,
    pages         integer NOT NULL DEFAULT 0,
    retries       integer NOT NULL DEFAULT 0,
    -- failures by reason, e.g. {"http_404": 2, "parse": 1, "transient": 1}
    failures      jsonb NOT NULL DEFAULT '{}'::jsonb,
    newest_event  date,
    error         text,
    -- what the run wrote (cache-relative paths), handed to ingestion
    written       jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX ix_source_runs_source ON source_runs (source, started_at DESC);

-- What was listed and fetched, per event: a nightly run fetches only what is new, plus the
-- events younger than SOURCES_REFETCH_DAYS (results and leagues change after publication).
CREATE TABLE source_events (
    source          text NOT NULL,
    event_key       text NOT NULL,
    event_date      date NOT NULL,
    name            text NOT NULL,
    format          text,
    status          text NOT NULL CHECK (status IN ('listed', 'fetched', 'empty', 'failed',
                                                    'quarantined')),
    attempts        integer NOT NULL DEFAULT 0,
    first_listed_at timestamptz NOT NULL DEFAULT now(),
    last_listed_at  timestamptz NOT NULL DEFAULT now(),
    last_fetched_at timestamptz,
    documents       jsonb NOT NULL DEFAULT '[]'::jsonb,
    last_error      text,
    last_run_id     bigint REFERENCES source_runs ON DELETE SET NULL,
    PRIMARY KEY (source, event_key)
);
CREATE INDEX ix_source_events_date ON source_events (source, event_date DESC);

-- Pages a parser could not understand (changed layout, truncated JSON): the run goes on.
CREATE TABLE source_quarantine (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL,
    run_id      bigint REFERENCES source_runs ON DELETE SET NULL,
    event_key   text,
    url         text,
    status      integer,
    error       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_source_quarantine_source ON source_quarantine (source, created_at DESC);

-- Free-form per-source state (the cache repository's last ingested commit...).
CREATE TABLE source_checkpoints (
    source      text PRIMARY KEY,
    state       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Raw bytes of fetched pages, gzip-compressed, stored once per content hash: a parser fix
-- can re-derive documents without fetching again, and a re-fetch of an unchanged page costs
-- one small row in source_pages.
CREATE TABLE source_page_bodies (
    sha256      bytea PRIMARY KEY,
    size        integer NOT NULL,
    body        bytea NOT NULL
);
-- Already compressed: keep TOAST from trying again.
ALTER TABLE source_page_bodies ALTER COLUMN body SET STORAGE EXTERNAL;

CREATE TABLE source_pages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL,
    run_id      bigint REFERENCES source_runs ON DELETE SET NULL,
    method      text NOT NULL,
    url         text NOT NULL,
    status      integer NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    body_sha256 bytea REFERENCES source_page_bodies
);
CREATE INDEX ix_source_pages_url ON source_pages (url, fetched_at DESC);
CREATE INDEX ix_source_pages_source ON source_pages (source, fetched_at DESC);
