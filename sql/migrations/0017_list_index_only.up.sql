-- Issue 14: the deck list at archive scale, measured on the 500k-deck archive.

-- A player's decks and a deck's current label are checked from the index alone (no visit
-- of the wide deck rows or of the label rows): a prolific player's 1,600 decks were 1,600
-- random heap reads. Same names, more columns.
DROP INDEX ix_decks_player_lower;
-- (player itself too: PostgreSQL reads an expression index alone only when the columns
-- under the expression are in it.)
CREATE INDEX ix_decks_player_lower ON decks (lower(player)) INCLUDE (player, id, tournament_id);
DROP INDEX ix_deck_archetypes_deck;
CREATE INDEX ix_deck_archetypes_deck ON deck_archetypes (deck_id) INCLUDE (version_id, archetype);

-- 0015 left labelled_through at 0 ("check every deck") until the next classification run;
-- work it out from the data instead: every deck of the folder's format up to the first one
-- without a current label (all of them: the newest deck id). Folders whose name is not a
-- format as events store it (dated folders) keep 0 until classification sets it.
UPDATE active_definitions a
   SET labelled_through = coalesce(
         (SELECT min(d.id) - 1
            FROM decks d JOIN tournaments t ON t.id = d.tournament_id
           WHERE t.format = a.format
             AND NOT EXISTS (SELECT 1 FROM current_deck_archetypes l WHERE l.deck_id = d.id)),
         (SELECT max(id) FROM decks), 0)
 WHERE a.labelled_through = 0
   AND EXISTS (SELECT 1 FROM tournaments t WHERE t.format = a.format);
