import { useEffect, useState } from "react";
import { type LoaderFunctionArgs, useLoaderData } from "react-router";
import { servicesOf } from "../context.server";
import { type ChartLine, LineChart } from "../dashboard/line-chart";
import { statsSnapshot } from "../dashboard/stats-snapshot.server";
import type { StatsPoint, StatsSnapshot } from "../dashboard/stats-types";

export const meta = () => [{ title: "Mollifier demo" }];

export async function loader({ context }: LoaderFunctionArgs) {
  return statsSnapshot(servicesOf(context));
}

const POLL_MS = 500;

function useLiveStats(initial: StatsSnapshot): StatsSnapshot {
  const [stats, setStats] = useState(initial);
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const response = await fetch("/dashboard/stats", { cache: "no-store" });
        if (response.ok && !stopped) setStats((await response.json()) as StatsSnapshot);
      } catch {
        // The server restarting is not worth an error on a dashboard; the next poll retries.
      }
    };
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  return stats;
}

const pick = (series: readonly StatsPoint[], field: keyof StatsPoint) =>
  series.map((point) => Number(point[field]));
const last = (values: readonly number[]) => values.at(-2) ?? values.at(-1) ?? 0;

function Card(props: {
  title: string;
  now: string;
  unit: string;
  lines: ChartLine[];
  reference?: { value: number; label: string };
  testId?: string;
  value?: number;
}) {
  return (
    <section
      className="card"
      data-testid={props.testId ? `${props.testId}-card` : undefined}
      data-value={props.value}
    >
      <h2>{props.title}</h2>
      <div className="now">
        {props.now}
        <span>{props.unit}</span>
      </div>
      <LineChart
        lines={props.lines}
        {...(props.reference ? { reference: props.reference } : {})}
        {...(props.testId ? { testId: props.testId } : {})}
      />
      {props.lines.length > 1 ? (
        <div className="legend">
          {props.lines.map((line) => (
            <span key={line.name}>
              <i style={{ background: line.color }} />
              {line.name}
            </span>
          ))}
        </div>
      ) : null}
    </section>
  );
}

export default function Dashboard() {
  const stats = useLiveStats(useLoaderData<typeof loader>());
  const [rate, setRate] = useState(400);
  const [seconds, setSeconds] = useState(5);
  const [firing, setFiring] = useState(false);
  const { series } = stats;
  const mollify = pick(series, "mollify");
  const passThrough = pick(series, "passThrough");
  const shadow = pick(series, "shadowLog");
  const depth = pick(series, "depth");
  const age = pick(series, "oldestEntryAgeMs").map((ms) => ms / 1_000);
  const drained = pick(series, "drained");
  const writes = pick(series, "dbWrites");
  const p50 = pick(series, "apiP50");
  const p99 = pick(series, "apiP99");
  const report = stats.burst.lastReport as Record<string, unknown> | undefined;

  async function fire() {
    setFiring(true);
    const form = new FormData();
    form.set("rate", String(rate));
    form.set("seconds", String(seconds));
    try {
      await fetch("/dashboard/burst", { method: "POST", body: form });
    } finally {
      setFiring(false);
    }
  }

  return (
    <main className="page">
      <header className="top">
        <h1>
          Mollifier <small>burst smoothing for a trigger API</small>
        </h1>
        <span className="badge" data-testid="mode">
          mode: {stats.mode}
        </span>
        <nav>
          <a href="/dashboard/tenants">Tenants</a> · <a href="/dashboard/inspector">Buffer inspector</a> ·{" "}
          <a href="/metrics">Metrics</a>
        </nav>
      </header>
      <p className="explain">
        Every trigger passes a gate that measures each environment's rate. While an environment stays under
        its budget ({stats.limits.envRatePerSecond}/s) its triggers are written to the database directly. When
        a burst pushes it over, the gate diverts its triggers into a Redis buffer and answers at once with the
        run id and its queue position, so callers never wait on the database. A drainer then replays the
        buffer into the database fairly across tenants, at a capped rate ({stats.limits.drainRatePerSecond}
        /s). Fire a burst and watch: the decisions chart jumps, the buffer depth rises and then falls back to
        zero, while the database writes line stays flat at the drain cap instead of spiking with the burst,
        and the API latency chart shows what callers waited (p50 and p99): a buffered trigger waits for Redis,
        not for the database. The burst report gives the rate actually sent next to the rate asked for.
        Nothing is lost and nothing is written twice; the burst report below checks that against the database.
      </p>
      <div className="controls">
        <label>
          rate/s
          <input
            type="number"
            min={1}
            max={5000}
            value={rate}
            onChange={(event) => setRate(Number(event.target.value))}
            data-testid="burst-rate"
          />
        </label>
        <label>
          seconds
          <input
            type="number"
            min={1}
            max={60}
            value={seconds}
            onChange={(event) => setSeconds(Number(event.target.value))}
            data-testid="burst-seconds"
          />
        </label>
        <button
          type="button"
          className="primary"
          onClick={fire}
          disabled={firing || stats.burst.running}
          data-testid="fire-burst"
        >
          {stats.burst.running ? "Burst running…" : "Fire a demo burst"}
        </button>
      </div>
      <div className="totals">
        <span>
          runs in database <b data-testid="runs-in-db">{stats.totals.runsInDatabase}</b>
        </span>
        <span>
          buffered <b>{stats.totals.buffered}</b>
        </span>
        <span>
          drained <b>{stats.totals.drained}</b>
        </span>
        <span>
          DB writes in flight, max <b>{stats.totals.dbMaxInFlight}</b> / limit {stats.totals.dbWriteLimit}
        </span>
      </div>
      <div className="grid">
        <Card
          title="Gate decisions / s"
          now={`${last(mollify)} mollified`}
          unit={`· ${last(passThrough)} direct`}
          lines={[
            { name: "direct to DB", color: "#10b981", values: passThrough },
            { name: "mollified", color: "#6366f1", values: mollify },
            ...(shadow.some((value) => value > 0)
              ? [{ name: "shadow (would mollify)", color: "#f59e0b", values: shadow }]
              : []),
          ]}
        />
        <Card
          title="Buffer depth"
          now={String(stats.current.depth)}
          unit="runs waiting"
          lines={[{ name: "depth", color: "#6366f1", values: depth }]}
          testId="depth-chart"
          value={stats.current.depth}
        />
        <Card
          title="Oldest buffered run"
          now={(stats.current.oldestEntryAgeMs / 1_000).toFixed(1)}
          unit="s"
          lines={[{ name: "age", color: "#ec4899", values: age }]}
        />
        <Card
          title="Drain rate"
          now={String(last(drained))}
          unit="runs / s"
          lines={[{ name: "drained", color: "#0ea5e9", values: drained }]}
          reference={{ value: stats.limits.drainRatePerSecond, label: "drain cap" }}
        />
        <Card
          title="Database writes / s"
          now={String(last(writes))}
          unit="writes / s"
          lines={[{ name: "writes", color: "#ef4444", values: writes }]}
          reference={{ value: stats.limits.drainRatePerSecond, label: "drain cap" }}
        />
        <Card
          title="API latency"
          now={`${last(p99).toFixed(1)}`}
          unit="ms p99"
          lines={[
            { name: "p50", color: "#10b981", values: p50 },
            { name: "p99", color: "#f97316", values: p99 },
          ]}
        />
      </div>
      {report ? (
        <section className="card" style={{ marginTop: 16 }} data-testid="burst-report">
          <h2>Last burst</h2>
          <table className="report">
            <tbody>
              {Object.entries(report)
                .filter(([, value]) => typeof value !== "object")
                .map(([name, value]) => (
                  <tr key={name}>
                    <td>{name}</td>
                    <td>{String(value)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </main>
  );
}
