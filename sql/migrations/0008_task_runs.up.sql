-- Run records: the source of truth of every background run (ingest, classify, reclassify,
-- refresh, fetch...). One row per run; the Celery task id of its messages is the row's id
-- (a retried or re-queued message keeps it), so a redelivered copy finds its run.
--
-- state: queued -> running -> succeeded | failed; running -> retrying -> running (transient
-- error, back-off); running -> queued (abandoned: the reaper found its worker gone and
-- re-queued it); abandoned is final (too many attempts without a heartbeat).
-- dedup_key: identical requests share it; at most one queued/retrying and one running run
-- per key (partial unique indexes), so a request arriving while one runs becomes the
-- pending follow-up (pending_requests, run once after the current one finishes).
CREATE TABLE task_runs (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL,
    task_name        text NOT NULL,
    arguments        jsonb NOT NULL DEFAULT '{}',
    dedup_key        text NOT NULL,
    state            text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'abandoned')),
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 5,
    progress         jsonb NOT NULL DEFAULT '{}',
    result           jsonb,
    error            text,
    requested_by     text,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    enqueued_at      timestamptz,
    started_at       timestamptz,
    finished_at      timestamptz,
    heartbeat_at     timestamptz,
    next_attempt_at  timestamptz,
    worker           text,
    pending_requests integer NOT NULL DEFAULT 0,
    follow_up_of     uuid REFERENCES task_runs ON DELETE SET NULL,
    history          jsonb NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX ux_task_runs_waiting ON task_runs (dedup_key)
    WHERE state IN ('queued', 'retrying');
CREATE UNIQUE INDEX ux_task_runs_running ON task_runs (dedup_key) WHERE state = 'running';
-- The reaper's and the metrics' scans: unfinished runs only (a small, hot set).
CREATE INDEX ix_task_runs_active ON task_runs (state, heartbeat_at)
    WHERE state IN ('queued', 'running', 'retrying');
CREATE INDEX ix_task_runs_requested ON task_runs (requested_at DESC, id);
CREATE INDEX ix_task_runs_kind_finished ON task_runs (kind, finished_at DESC)
    WHERE state = 'succeeded';

-- An operator request points at the run that serves it (an identical request joins the
-- queued or running run instead of starting another).
ALTER TABLE operator_tasks ADD COLUMN run_id uuid REFERENCES task_runs ON DELETE SET NULL;
