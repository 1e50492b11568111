import http from "node:http";

/** An OTLP attribute as the JSON encoding carries it. */
interface OtlpAttribute {
  readonly key: string;
  readonly value: Record<string, unknown>;
}

/** One exported span, flattened with its resource's `service.name`. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>;
}

/** A small OTLP/HTTP (JSON) receiver: a real `node:http` server that keeps what exporters post. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: the `OTEL_EXPORTER_OTLP_ENDPOINT` to give the app. */
  readonly endpoint: string;
  /** Every span received so far. */
  spans(): ReceivedSpan[];
  /** The `service.name`s that posted to `/v1/metrics`. */
  metricServices(): string[];
  close(): Promise<void>;
}

function attributeValueOf(value: Record<string, unknown>): unknown {
  if ("stringValue" in value) return value.stringValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return value.doubleValue;
  if ("boolValue" in value) return value.boolValue;
  return value;
}

function attributesOf(list: readonly OtlpAttribute[] | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) attributes[key] = attributeValueOf(value);
  return attributes;
}

// biome-ignore lint/suspicious/noExplicitAny: the OTLP JSON body, read field by field below
type Json = any;

/** Starts the receiver on a free loopback port. Only the JSON encoding (`application/json`) is read. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricServices: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const contentType = request.headers["content-type"] ?? "";
      if (!contentType.includes("json")) {
        response.writeHead(415).end();
        return;
      }
      const body: Json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (request.url === "/v1/traces") {
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"]);
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
              spans.push({
                service,
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId || undefined,
                name: span.name,
                kind: span.kind,
                attributes: attributesOf(span.attributes),
                links: (span.links ?? []).map((link: Json) => ({
                  traceId: link.traceId,
                  spanId: link.spanId,
                })),
              });
            }
          }
        }
      } else if (request.url === "/v1/metrics") {
        for (const resourceMetrics of body.resourceMetrics ?? []) {
          metricServices.push(String(attributesOf(resourceMetrics.resource?.attributes)["service.name"]));
        }
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    metricServices: () => [...metricServices],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
