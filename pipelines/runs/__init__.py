"""Run records: every background run as a row (state, progress, attempts, heartbeat)."""
