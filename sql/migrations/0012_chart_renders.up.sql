-- Static charts (SVG and PNG) rendered by the workers after each statistics refresh, one row
-- per format × standard window × event group × chart (× archetype for per-archetype charts)
-- and refresh generation. The API serves the newest generation's row by primary key; the
-- render task deletes generations older than the previous one.
CREATE TABLE chart_renders (
    format      text        NOT NULL,
    window_key  text        NOT NULL,
    event_group text        NOT NULL,
    chart       text        NOT NULL,
    subject     text        NOT NULL DEFAULT '',  -- the archetype of per-archetype charts
    generation  bigint      NOT NULL,
    title       text        NOT NULL,
    alt         text        NOT NULL,
    spec        jsonb       NOT NULL,
    svg         text        NOT NULL,
    png         bytea       NOT NULL,
    etag        text        NOT NULL,
    rendered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (format, window_key, event_group, chart, subject, generation)
);
CREATE INDEX chart_renders_generation ON chart_renders (generation);
