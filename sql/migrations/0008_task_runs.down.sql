-- Reverse of 0008_task_runs.up.sql.
ALTER TABLE operator_tasks DROP COLUMN IF EXISTS run_id;
DROP TABLE IF EXISTS task_runs;
