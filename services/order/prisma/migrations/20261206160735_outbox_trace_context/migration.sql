-- Each outbox row keeps the W3C trace context of the code that wrote it, so the relay sends its event in that trace.
-- Nullable: rows written before have none and are sent in a trace of their own.

-- AlterTable
ALTER TABLE "outbox" ADD COLUMN     "trace_context" JSONB;
