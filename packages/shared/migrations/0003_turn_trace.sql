-- The trace context of the POST that began a turn (W3C traceparent), so that its steps, which may
-- start much later from an `advance` job, join that request's trace. Null when tracing is off.
ALTER TABLE "turns" ADD COLUMN "trace" jsonb;
