-- Issue 14: an archetype's colours over a long window read that archetype's rows of the
-- colour table from one index alone (the unique index is by day: every archetype's rows of
-- the range were read, then one heap page per row of the archetype — 29 ms for a whole
-- history at 500k decks).
CREATE INDEX ix_mv_archetype_color_daily_archetype ON mv_archetype_color_daily
    (format, archetype, event_date) INCLUDE (event_kind, color, decks, wins, losses, draws);
