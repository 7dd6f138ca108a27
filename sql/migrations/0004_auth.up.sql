-- Read API accounts: users (bcrypt password hashes, roles), API keys for machine clients
-- (only a SHA-256 of the secret is stored), and operator task requests (job status of
-- POST /api/v1/admin/* alongside Celery's own result state).

CREATE TABLE users (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Lower-case login name; the rule is also enforced by pipelines.auth.users.
    username            text NOT NULL UNIQUE
        CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    password_hash       text NOT NULL,          -- bcrypt ($2b$, cost >= 12)
    roles               text[] NOT NULL DEFAULT '{}'
        CHECK (roles <@ ARRAY['operator', 'admin']::text[]),
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz
);

-- Key format: mk_<prefix>_<secret>. The prefix is public (shown in listings, used to find
-- the row); the secret is 256 random bits, so a fast SHA-256 is a sufficient hash (bcrypt
-- protects low-entropy passwords, which these are not).
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix       text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z0-9]{12}$'),
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX ix_api_keys_user ON api_keys (user_id);

-- One row per operator request; id is the Celery task id. The row is committed before the
-- message is published (ENGINEERING.md §3.6), so a task can never run without its row.
CREATE TABLE operator_tasks (
    id            uuid PRIMARY KEY,
    task_name     text NOT NULL,
    arguments     jsonb NOT NULL DEFAULT '{}',
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    enqueued_at   timestamptz,
    enqueue_error text
);
CREATE INDEX ix_operator_tasks_requested ON operator_tasks (requested_at DESC, id);
