import { useEffect } from "react";
import { type LoaderFunctionArgs, useLoaderData, useRevalidator } from "react-router";
import { servicesOf } from "../context.server";
import { tenantView } from "../observability/tenant-view.server";

export const meta = () => [{ title: "Tenants · Mollifier demo" }];

export async function loader({ context }: LoaderFunctionArgs) {
  return tenantView(servicesOf(context));
}

const REFRESH_MS = 1_000;
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

export default function Tenants() {
  const view = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  useEffect(() => {
    const timer = setInterval(() => {
      if (revalidator.state === "idle") void revalidator.revalidate();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [revalidator]);
  const degradedShare = view.decisions.total === 0 ? 0 : view.decisions.degraded / view.decisions.total;
  return (
    <main className="page">
      <header className="top">
        <h1>
          Tenants <small>last {view.windowMs / 1_000} s</small>
        </h1>
        <nav>
          <a href="/">Dashboard</a> · <a href="/dashboard/inspector">Buffer inspector</a>
        </nav>
      </header>
      <div className="grid">
        <section className="card" data-testid="fairness-card" data-value={view.fairness ?? ""}>
          <h2>Drain fairness (Jain's index)</h2>
          <div className="now">
            {view.fairness === null ? "–" : view.fairness.toFixed(3)}
            <span>1 = equal shares among envs with a backlog</span>
          </div>
        </section>
        <section className="card" data-testid="degraded-card" data-value={view.decisions.degraded}>
          <h2>Degraded gate decisions</h2>
          <div className="now">
            {view.decisions.degraded}
            <span>
              of {view.decisions.total} ({percent(degradedShare)}) failed open
            </span>
          </div>
          <table className="report">
            <tbody>
              {view.degraded.map((row) => (
                <tr key={`${row.component}:${row.reason}`} data-testid="degraded-reason">
                  <td>
                    {row.component} · {row.reason}
                  </td>
                  <td>{row.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {view.degraded.length === 0 ? <p>No degradations.</p> : null}
        </section>
      </div>
      <section className="card" style={{ marginTop: 16 }} data-testid="tenant-table">
        <h2>Per environment</h2>
        <table className="report">
          <thead>
            <tr>
              <td>org</td>
              <td>env</td>
              <td>depth</td>
              <td>oldest (s)</td>
              <td>drained</td>
              <td>drain share</td>
            </tr>
          </thead>
          <tbody>
            {view.tenants.map((row) => (
              <tr key={row.envId} data-testid="tenant-row" data-env={row.envId} data-drained={row.drained}>
                <td>{row.orgId}</td>
                <td>{row.envSlug}</td>
                <td>{row.depth}</td>
                <td>{row.oldestEntryAgeMs === null ? "–" : (row.oldestEntryAgeMs / 1_000).toFixed(1)}</td>
                <td>{row.drained}</td>
                <td>{percent(row.drainShare)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2 style={{ marginTop: 16 }}>Per org</h2>
        <table className="report">
          <tbody>
            {view.orgs.map((org) => (
              <tr key={org.orgId} data-testid="org-row">
                <td>{org.orgId}</td>
                <td>depth {org.depth}</td>
                <td>drained {org.drained}</td>
                <td>{percent(org.drainShare)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
