import { Form, type LoaderFunctionArgs, redirect, useLoaderData } from "react-router";
import { servicesOf } from "../context.server";
import {
  cancelBufferedRun,
  discardFailedRun,
  type InspectedEntry,
  type InspectedFailure,
  inspectorTenant,
  listBufferedRuns,
  listFailedRuns,
  openBufferedRun,
  replayFailedRun,
} from "../observability/buffer-inspector.server";

export const meta = () => [{ title: "Buffer inspector · Mollifier demo" }];

/** The environment API key the inspector acts with; it scopes every read and action to that env. */
const KEY_COOKIE = "mollifier_inspector_key";

function keyOf(request: Request): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === KEY_COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

const keyCookie = (key: string, maxAge: number) =>
  `${KEY_COOKIE}=${encodeURIComponent(key)}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`;

type LoaderData =
  | { signedIn: false; error: string | null }
  | {
      signedIn: true;
      tenant: { orgId: string; envId: string; envSlug: string };
      entries: InspectedEntry[];
      nextCursor: string | null;
      cursor: string | null;
      opened: InspectedEntry | null;
      openedRunId: string | null;
      failures: InspectedFailure[];
      notice: string | null;
    };

export async function loader({ request, context }: LoaderFunctionArgs): Promise<LoaderData> {
  const services = servicesOf(context);
  const url = new URL(request.url);
  const key = keyOf(request);
  const tenant = inspectorTenant(services, key);
  if (tenant === undefined) return { signedIn: false, error: key ? "that key opens no environment" : null };
  const cursor = url.searchParams.get("cursor");
  const openedRunId = url.searchParams.get("run");
  const [page, opened, failures] = await Promise.all([
    listBufferedRuns(services, tenant, cursor ? { cursor } : {}),
    openedRunId ? openBufferedRun(services, tenant, openedRunId) : Promise.resolve(undefined),
    listFailedRuns(services, tenant),
  ]);
  return {
    signedIn: true,
    tenant: { orgId: tenant.orgId, envId: tenant.envId, envSlug: tenant.envSlug },
    entries: page.entries,
    nextCursor: page.nextCursor,
    cursor,
    opened: opened ?? null,
    openedRunId,
    failures,
    notice: url.searchParams.get("notice"),
  };
}

export async function action({ request, context }: LoaderFunctionArgs) {
  const services = servicesOf(context);
  const form = await request.formData();
  const intent = String(form.get("intent") ?? "");
  if (intent === "sign-in") {
    const key = String(form.get("key") ?? "").trim();
    return redirect("/dashboard/inspector", { headers: { "set-cookie": keyCookie(key, 3_600) } });
  }
  if (intent === "sign-out") {
    return redirect("/dashboard/inspector", { headers: { "set-cookie": keyCookie("", 0) } });
  }
  const tenant = inspectorTenant(services, keyOf(request));
  if (tenant === undefined) return redirect("/dashboard/inspector");
  const runId = String(form.get("runId") ?? "");
  let notice: string;
  if (intent === "cancel") {
    try {
      notice = `${runId}: ${(await cancelBufferedRun(services, tenant, runId, "canceled in the buffer inspector")).status}`;
    } catch {
      notice = `${runId}: not found`;
    }
  } else if (intent === "replay") {
    const result = await replayFailedRun(services, tenant, runId);
    notice =
      result.outcome === "replayed"
        ? `${runId}: replayed (queue position ${result.position})`
        : result.outcome === "refused"
          ? `${runId}: not replayed, ${result.reason}`
          : `${runId}: ${result.outcome.replace("_", " ")}`;
  } else if (intent === "discard") {
    notice = `${runId}: ${(await discardFailedRun(services, tenant, runId)).outcome.replace("_", " ")}`;
  } else {
    notice = `unknown action ${intent}`;
  }
  const back = new URLSearchParams({ notice });
  if (intent === "cancel") back.set("run", runId);
  return redirect(`/dashboard/inspector?${back}`);
}

const time = (epochMs: number) => new Date(epochMs).toISOString().replace("T", " ").slice(0, 19);

function SignIn({ error }: { error: string | null }) {
  return (
    <section className="card" data-testid="inspector-sign-in">
      <h2>Open an environment</h2>
      <p className="explain">The inspector shows one environment: the one its API key opens.</p>
      <Form method="post" className="controls">
        <input type="hidden" name="intent" value="sign-in" />
        <label>
          API key <input name="key" type="password" autoComplete="off" data-testid="inspector-key" />
        </label>
        <button className="primary" type="submit" data-testid="inspector-open">
          Open
        </button>
      </Form>
      {error ? <p data-testid="inspector-error">{error}</p> : null}
    </section>
  );
}

function RunAction(props: { intent: string; runId: string; label: string }) {
  return (
    <Form method="post" style={{ display: "inline" }}>
      <input type="hidden" name="intent" value={props.intent} />
      <input type="hidden" name="runId" value={props.runId} />
      <button type="submit" data-testid={`${props.intent}-${props.runId}`}>
        {props.label}
      </button>
    </Form>
  );
}

export default function Inspector() {
  const data = useLoaderData<typeof loader>();
  return (
    <main className="page">
      <header className="top">
        <h1>
          Buffer inspector <small>Mollifier demo</small>
        </h1>
        <nav>
          <a href="/">Dashboard</a> · <a href="/dashboard/tenants">Tenants</a>
        </nav>
      </header>
      {!data.signedIn ? (
        <SignIn error={data.error} />
      ) : (
        <>
          <p className="explain" data-testid="inspector-env">
            {data.tenant.orgId} / {data.tenant.envSlug} ({data.tenant.envId}){" "}
            <Form method="post" style={{ display: "inline" }}>
              <input type="hidden" name="intent" value="sign-out" />
              <button type="submit">Close</button>
            </Form>
          </p>
          {data.notice ? (
            <p className="badge" data-testid="inspector-notice">
              {data.notice}
            </p>
          ) : null}
          <section className="card" data-testid="buffered-runs">
            <h2>Buffered runs, next to drain first</h2>
            <table className="report">
              <thead>
                <tr>
                  <td>run</td>
                  <td>task</td>
                  <td>state</td>
                  <td>attempts</td>
                  <td>accepted</td>
                </tr>
              </thead>
              <tbody>
                {data.entries.map((entry) => (
                  <tr key={entry.runId} data-testid="buffered-run">
                    <td>
                      <a href={`/dashboard/inspector?run=${encodeURIComponent(entry.runId)}`}>
                        {entry.runId}
                      </a>
                    </td>
                    <td>{entry.taskId}</td>
                    <td>{entry.mutations.canceled ? "canceled" : entry.state}</td>
                    <td>{entry.attempts}</td>
                    <td>{time(entry.acceptedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.entries.length === 0 ? <p>Nothing buffered.</p> : null}
            <p>
              {data.cursor ? <a href="/dashboard/inspector">First page</a> : null}{" "}
              {data.nextCursor ? (
                <a
                  href={`/dashboard/inspector?cursor=${encodeURIComponent(data.nextCursor)}`}
                  data-testid="next-page"
                >
                  Next page
                </a>
              ) : null}
            </p>
          </section>
          {data.openedRunId ? (
            <section className="card" data-testid="opened-run" style={{ marginTop: 16 }}>
              <h2>{data.openedRunId}</h2>
              {data.opened ? (
                <>
                  <p>
                    {data.opened.state}
                    {data.opened.position !== null ? ` · queue position ${data.opened.position}` : ""} ·
                    attempts {data.opened.attempts}
                  </p>
                  {data.opened.state === "leased" ? (
                    <p data-testid="opened-lease">
                      Leased to a drainer (which one is not recorded) until{" "}
                      {data.opened.leaseDeadline !== null ? time(data.opened.leaseDeadline) : "?"} UTC; if it
                      is not acknowledged by then, the reaper hands it to a drainer again.
                    </p>
                  ) : null}
                  <h3>Snapshot</h3>
                  <pre data-testid="opened-snapshot">{JSON.stringify(data.opened.snapshot, null, 2)}</pre>
                  <h3>Mutations</h3>
                  <pre data-testid="opened-mutations">{JSON.stringify(data.opened.mutations, null, 2)}</pre>
                  {data.opened.mutations.canceled ? null : (
                    <RunAction intent="cancel" runId={data.openedRunId} label="Cancel run" />
                  )}
                </>
              ) : (
                <p>Not in the buffer (drained, or not this environment's).</p>
              )}
            </section>
          ) : null}
          <section className="card" data-testid="failed-runs" style={{ marginTop: 16 }}>
            <h2>Failed entries</h2>
            <table className="report">
              <thead>
                <tr>
                  <td>run</td>
                  <td>task</td>
                  <td>kind</td>
                  <td>error</td>
                  <td>attempts</td>
                  <td>failed</td>
                  <td />
                </tr>
              </thead>
              <tbody>
                {data.failures.map((failure) => (
                  <tr key={failure.runId} data-testid="failed-run">
                    <td>{failure.runId}</td>
                    <td>{failure.taskId ?? "?"}</td>
                    <td>{failure.kind}</td>
                    <td>
                      {failure.error}
                      {failure.unreadable ? (
                        <details data-testid={`unreadable-${failure.runId}`}>
                          <summary>
                            unreadable snapshot
                            {failure.unreadable.error === failure.error
                              ? ""
                              : `: ${failure.unreadable.error}`}{" "}
                            (its stored text)
                          </summary>
                          <pre>{failure.unreadable.excerpt}</pre>
                        </details>
                      ) : null}
                    </td>
                    <td>{failure.attempts}</td>
                    <td>{time(failure.failedAt)}</td>
                    <td>
                      {failure.replayable ? (
                        <RunAction intent="replay" runId={failure.runId} label="Replay" />
                      ) : null}{" "}
                      <RunAction intent="discard" runId={failure.runId} label="Discard" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.failures.length === 0 ? <p>No failed entries.</p> : null}
          </section>
        </>
      )}
    </main>
  );
}
