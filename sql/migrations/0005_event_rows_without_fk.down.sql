-- Reverse of 0005_event_rows_without_fk.up.sql (fails if orphan rows exist, as it should).
ALTER TABLE decks ADD CONSTRAINT decks_tournament_id_fkey
    FOREIGN KEY (tournament_id) REFERENCES tournaments ON DELETE CASCADE;
ALTER TABLE standings ADD CONSTRAINT standings_tournament_id_fkey
    FOREIGN KEY (tournament_id) REFERENCES tournaments ON DELETE CASCADE;
ALTER TABLE matches ADD CONSTRAINT matches_tournament_id_fkey
    FOREIGN KEY (tournament_id) REFERENCES tournaments ON DELETE CASCADE;
ALTER TABLE deck_archetypes ADD CONSTRAINT deck_archetypes_deck_id_fkey
    FOREIGN KEY (deck_id) REFERENCES decks ON DELETE CASCADE;
