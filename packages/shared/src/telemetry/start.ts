import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { enableProcessMetrics, serveMetrics } from "./metrics.ts";
import { startTracing } from "./tracing.ts";

export interface Telemetry {
  close(): Promise<void>;
}

/**
 * Metrics and traces of one service process, from its config: process metrics always, a metrics
 * server on `METRICS_PORT` when `serve` (processes without an HTTP server of their own), traces when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
export async function startTelemetry(
  config: Config,
  service: string,
  logger: Logger,
  opts: { serve: boolean },
): Promise<Telemetry> {
  enableProcessMetrics();
  const tracing = startTracing(`synapse-${service}`, { endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT)
    logger.info({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT }, "tracing on");
  const port = opts.serve ? config.METRICS_PORT : undefined;
  const server = port === undefined ? undefined : await serveMetrics(port, config.HOST);
  if (server)
    logger.info(
      { url: `http://${config.HOST}:${port}/metrics` },
      `metrics on http://${config.HOST}:${port}/metrics`,
    );
  return {
    async close() {
      server?.close();
      await tracing.shutdown();
    },
  };
}
