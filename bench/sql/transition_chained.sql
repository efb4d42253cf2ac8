-- pgbench: one audited transition WITH the feed lock, as the service chained its events before issue 14 (the
-- "pgbench chained-lock ceiling"): the statements of transition_unchained.sql, plus, before the event INSERT, the
-- global transaction-scoped advisory lock (app/db/repositories/events.py: FEED_LOCK_KEY = 0x7E1C_0001 = 2115764225),
-- held until COMMIT, and the read of the feed's head; the event takes seq head + 1 and chains to the head's hash.
-- Run by `make bench` (bench/ceilings.py) as:
--   pgbench -n -M prepared -c 32 -j 2 -T <s> -D subjects=<n> -f bench/sql/transition_chained.sql
\set n random(1, :subjects)
BEGIN;
SELECT a.id AS app, a.status AS from_status, a.version AS v FROM applications a JOIN bench_subjects s ON s.id = a.id WHERE s.n = :n FOR UPDATE OF a \gset
UPDATE applications SET status = CASE status WHEN 'submitted' THEN 'recommended' ELSE 'submitted' END, updated_at = now(), version = version + 1 WHERE id = CAST(:app AS uuid) AND version = CAST(:v AS integer) RETURNING status AS to_status, updated_at \gset
INSERT INTO transitions (subject_type, subject_id, action, from_status, to_status, actor_sub, actor_role, reason, decision_date, data) VALUES ('application', CAST(:app AS uuid), 'recommend', CAST(:from_status AS text), CAST(:to_status AS text), 'bench-supervisor', 'supervisor', NULL, NULL, '{}'::jsonb) RETURNING id, occurred_at;
SELECT pg_advisory_xact_lock(2115764225);
SELECT seq AS head_seq, hash AS head_hash FROM events ORDER BY seq DESC LIMIT 1 \gset
INSERT INTO events (seq, id, type, subject_type, subject_id, actor_sub, actor_role, occurred_at, effective_on, data, prev_hash, hash) SELECT CAST(:head_seq AS bigint) + 1, e.id, 'application.' || CAST(:to_status AS text), 'application', CAST(:app AS uuid), 'bench-supervisor', 'supervisor', now(), NULL, e.data, CAST(:head_hash AS text), encode(sha256(convert_to(CAST(:head_hash AS text) || e.id::text || e.data::text, 'UTF8')), 'hex') FROM (SELECT gen_random_uuid() AS id, jsonb_build_object('action', 'recommend', 'from', CAST(:from_status AS text), 'to', CAST(:to_status AS text), 'reason', NULL) AS data) AS e;
END;
