import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { TRIGGER_ROUTE } from "../api/trigger-routes";

/** The trigger route's template: the server span's name and `http.route` unless a batch route. */
export { TRIGGER_ROUTE };

/** The name of a batch item's span, a child of its batch request's span. */
export const BATCH_ITEM_SPAN = "trigger batch item";

/**
 * Span attribute names, in `@mollifier/telemetry`'s span namespace and spelling (`spanAttributesOf`:
 * `runId` is `mollifier.run_id`). Ids are span attributes, never metric labels.
 */
export const TRACE_ATTRIBUTES = {
  runId: "mollifier.run_id",
  orgId: "mollifier.org_id",
  envId: "mollifier.env_id",
  taskId: "mollifier.task_id",
  gateAction: "mollifier.gate.action",
  gateReason: "mollifier.gate.reason",
  destination: "mollifier.destination",
  cached: "mollifier.cached",
  attempts: "mollifier.attempts",
  timeInBufferMs: "mollifier.time_in_buffer_ms",
  batchIndex: "mollifier.batch.index",
} as const;

/** What the request span records of a trigger's outcome (the trigger service's result, loosely typed). */
export interface TriggerOutcome {
  readonly response: { readonly id: string; readonly isCached?: boolean };
  readonly decision: { readonly action: string; readonly reason: string } | undefined;
  readonly destination: string | undefined;
}

/** The span one run is triggered in, handed down the trigger path while tracing is on. */
export interface TriggerSpan {
  /**
   * The span's W3C trace context (`traceparent`, and `tracestate` when the caller sent one):
   * stored in a buffered run's snapshot, so the drain span can link to it.
   */
  readonly traceContext: Record<string, string>;
  /** Runs a direct database write as a child span of this span. */
  childSpan<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Records what the trigger came to: run id, env, task, gate decision and destination. */
  recordOutcome(
    env: { readonly orgId: string; readonly envId: string },
    taskId: string,
    outcome: TriggerOutcome,
  ): void;
}

/** One trigger request's server span. */
export interface TriggerTrace extends TriggerSpan {
  /** Ends the span once the answer is known: its status code, or the error that escaped. */
  endWith<Answer extends { readonly status: number }>(answer: Promise<Answer>): Promise<Answer>;
  /**
   * Runs one item of a batch request in a child span of its own (`trigger batch item`): the item's
   * run id and decision are recorded there, and its buffered run's drain links to it.
   */
  item<T extends TriggerOutcome>(
    index: number,
    env: { readonly orgId: string; readonly envId: string },
    taskId: string,
    trigger: (span: TriggerSpan) => Promise<T>,
  ): Promise<T>;
}

/** The buffered run a drain span is about: `LeasedEntry`'s fields the span reads. */
export interface DrainedEntry {
  readonly orgId: string;
  readonly envId: string;
  readonly runId: string;
  readonly attempts: number;
  readonly acceptedAt: number;
  readonly snapshot: { readonly taskId: string; readonly traceContext?: Record<string, string> | undefined };
}

/** The demo's tracing: a span per trigger request, a span per drain linked to it. */
export interface TriggerTracing {
  /**
   * Starts a trigger route's server span (`route` is its template, {@link TRIGGER_ROUTE} unless a
   * batch route), a child of the caller's `traceparent` when it sent one.
   */
  startTrigger(
    request: { readonly headers: { get(name: string): string | null } },
    route?: string,
  ): TriggerTrace;
  /**
   * Runs one materialisation as a drain span: a new trace, linked to the request span whose context
   * the snapshot carries (a buffered run outlives its request, so the drain is not its child).
   */
  traceDrain<T>(entry: DrainedEntry, work: () => Promise<T>): Promise<T>;
}

const propagator = new W3CTraceContextPropagator();

/** The caller's trace context from request headers (W3C `traceparent`/`tracestate`). */
function incomingContext(headers: { get(name: string): string | null }): Context {
  if (headers.get("traceparent") === null) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, headers, {
    keys: () => ["traceparent", "tracestate"],
    get: (carrier, key) => carrier.get(key) ?? undefined,
  });
}

function recordError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** Runs `work` in `span`, ending it with an error status when `work` throws. */
async function inSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The {@link TriggerSpan} of `span`, and the context its children start in. */
function spanScope(tracer: Tracer, span: Span): TriggerSpan & { readonly context: Context } {
  const context = trace.setSpan(ROOT_CONTEXT, span);
  const traceContext: Record<string, string> = {};
  propagator.inject(context, traceContext, defaultTextMapSetter);
  return {
    context,
    traceContext,
    childSpan(name, work) {
      return inSpan(tracer.startSpan(name, { kind: SpanKind.CLIENT }, context), work);
    },
    recordOutcome(env, taskId, outcome) {
      const attributes: Attributes = {
        [TRACE_ATTRIBUTES.runId]: outcome.response.id,
        [TRACE_ATTRIBUTES.orgId]: env.orgId,
        [TRACE_ATTRIBUTES.envId]: env.envId,
        [TRACE_ATTRIBUTES.taskId]: taskId,
        [TRACE_ATTRIBUTES.cached]: outcome.response.isCached === true,
      };
      if (outcome.decision !== undefined) {
        attributes[TRACE_ATTRIBUTES.gateAction] = outcome.decision.action;
        attributes[TRACE_ATTRIBUTES.gateReason] = outcome.decision.reason;
      }
      if (outcome.destination !== undefined) attributes[TRACE_ATTRIBUTES.destination] = outcome.destination;
      span.setAttributes(attributes);
    },
  };
}

/**
 * The trigger and drain spans over `tracer`. Context is passed explicitly (no context manager, no
 * async-hooks cost on the hot path): the request span travels down the trigger path as a
 * {@link TriggerTrace}, and across the buffer as the snapshot's `traceContext`.
 */
export function createTriggerTracing(tracer: Tracer, clock: () => number = Date.now): TriggerTracing {
  return {
    startTrigger(request, route = TRIGGER_ROUTE) {
      const span = tracer.startSpan(
        `POST ${route}`,
        { kind: SpanKind.SERVER, attributes: { "http.request.method": "POST", "http.route": route } },
        incomingContext(request.headers),
      );
      const { context, ...requestSpan } = spanScope(tracer, span);
      return {
        ...requestSpan,
        async endWith(answer) {
          try {
            const answered = await answer;
            span.setAttribute("http.response.status_code", answered.status);
            if (answered.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
            return answered;
          } catch (error) {
            recordError(span, error);
            throw error;
          } finally {
            span.end();
          }
        },
        item(index, env, taskId, trigger) {
          const itemSpan = tracer.startSpan(
            BATCH_ITEM_SPAN,
            { kind: SpanKind.INTERNAL, attributes: { [TRACE_ATTRIBUTES.batchIndex]: index } },
            context,
          );
          const scope = spanScope(tracer, itemSpan);
          return inSpan(itemSpan, async () => {
            const outcome = await trigger(scope);
            scope.recordOutcome(env, taskId, outcome);
            return outcome;
          });
        },
      };
    },

    traceDrain(entry, work) {
      const links: Link[] = [];
      const carried = entry.snapshot.traceContext;
      if (carried !== undefined) {
        const linked = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carried, defaultTextMapGetter));
        if (linked !== undefined)
          links.push({ context: linked, attributes: { "mollifier.link": "trigger" } });
      }
      const span = tracer.startSpan(
        `drain ${entry.snapshot.taskId}`,
        {
          kind: SpanKind.CONSUMER,
          root: true,
          links,
          attributes: {
            [TRACE_ATTRIBUTES.runId]: entry.runId,
            [TRACE_ATTRIBUTES.orgId]: entry.orgId,
            [TRACE_ATTRIBUTES.envId]: entry.envId,
            [TRACE_ATTRIBUTES.taskId]: entry.snapshot.taskId,
            [TRACE_ATTRIBUTES.attempts]: entry.attempts,
            [TRACE_ATTRIBUTES.timeInBufferMs]: Math.max(0, clock() - entry.acceptedAt),
          },
        },
        ROOT_CONTEXT,
      );
      return inSpan(span, work);
    },
  };
}
