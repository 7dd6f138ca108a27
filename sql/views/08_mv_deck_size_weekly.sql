-- mv_deck_size_weekly: decks per (format, Monday, event kind, archetype, mainboard total,
-- sideboard total). Gives the archetype's deck count for the card-usage weeks (the share
-- denominator) and the most common board sizes of the stock decklist; with their summed
-- non-mirror results and records (the card-performance totals of the archetype).
-- Fills the weeks in refresh_weeks (the Mondays of the days refreshed).
INSERT INTO mv_deck_size_weekly
SELECT format, week_start, event_kind, archetype, main_total, side_total,
       count(*)::int AS decks,
       sum(wins)::int AS wins, sum(losses)::int AS losses,
       coalesce(sum(rec_wins), 0)::int AS rec_wins,
       coalesce(sum(rec_losses), 0)::int AS rec_losses
  FROM mv_deck_facts
 WHERE (format, week_start) IN (SELECT format, week_start FROM refresh_weeks)
 GROUP BY format, week_start, event_kind, archetype, main_total, side_total;
