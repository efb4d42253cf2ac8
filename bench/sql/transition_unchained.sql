-- pgbench: one audited transition WITHOUT the feed lock (issue 14's "pgbench unchained" ceiling to approach).
-- The statements of bench/baselines/write_floor.py, on the same tables: row lock, UPDATE, history INSERT, and the
-- event appended to the feed's queue (event_queue), as the service's writers do since issue 14.
-- A random seeded application per transaction (bench_subjects maps 1..:subjects to application ids, made by
-- bench/ceilings.py); its status toggles submitted <-> recommended so every transaction is a valid transition.
-- The queued events are not sequenced (no service runs after the ceilings). Run by `make bench` (bench/ceilings.py) as:
--   pgbench -n -M prepared -c 32 -j 2 -T <s> -D subjects=<n> -f bench/sql/transition_unchained.sql
\set n random(1, :subjects)
BEGIN;
SELECT a.id AS app, a.status AS from_status, a.version AS v FROM applications a JOIN bench_subjects s ON s.id = a.id WHERE s.n = :n FOR UPDATE OF a \gset
UPDATE applications SET status = CASE status WHEN 'submitted' THEN 'recommended' ELSE 'submitted' END, updated_at = now(), version = version + 1 WHERE id = CAST(:app AS uuid) AND version = CAST(:v AS integer) RETURNING status AS to_status, updated_at \gset
INSERT INTO transitions (subject_type, subject_id, action, from_status, to_status, actor_sub, actor_role, reason, decision_date, data) VALUES ('application', CAST(:app AS uuid), 'recommend', CAST(:from_status AS text), CAST(:to_status AS text), 'bench-supervisor', 'supervisor', NULL, NULL, '{}'::jsonb) RETURNING id, occurred_at;
INSERT INTO event_queue (event_id, type, subject_type, subject_id, actor_sub, actor_role, occurred_at, effective_on, data) VALUES (gen_random_uuid(), 'application.' || CAST(:to_status AS text), 'application', CAST(:app AS uuid), 'bench-supervisor', 'supervisor', now(), NULL, jsonb_build_object('action', 'recommend', 'from', CAST(:from_status AS text), 'to', CAST(:to_status AS text), 'reason', NULL));
END;
