import type { BurstTimeline } from "./burst-timeline.js";

const WIDTH = 900;
const HEIGHT = 420;
const MARGIN = { top: 48, right: 78, bottom: 56, left: 72 };

interface Series {
  readonly label: string;
  readonly color: string;
  readonly dash?: string;
  readonly axis: "rate" | "depth";
  readonly values: readonly number[];
}

function niceMaximum(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function compact(value: number): string {
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(value % 1_000_000 === 0 ? 0 : 1)}M`;
  if (value >= 1_000) return `${(value / 1_000).toFixed(value % 1_000 === 0 ? 0 : 1)}k`;
  return String(Math.round(value));
}

/**
 * Renders the burst timeline as a standalone SVG line chart: offered rate,
 * accepted rate and database writes/s on the left axis, buffer depth on the
 * right axis, the database write limit as a dashed reference line.
 */
export function renderBurstChartSvg(timeline: BurstTimeline, title: string): string {
  const points = timeline.points;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const series: Series[] = [
    {
      label: "offered/s",
      color: "#9aa0a6",
      axis: "rate",
      values: points.map((point) => point.offeredPerSecond),
    },
    {
      label: "accepted/s",
      color: "#1a73e8",
      axis: "rate",
      values: points.map((point) => point.acceptedPerSecond),
    },
    {
      label: "DB writes/s",
      color: "#d93025",
      axis: "rate",
      values: points.map((point) => point.databaseWritesPerSecond),
    },
    {
      label: "buffer depth",
      color: "#188038",
      dash: "6 3",
      axis: "depth",
      values: points.map((point) => point.bufferDepth),
    },
  ];
  const lastMs = Math.max(timeline.bucketMs, (points.at(-1)?.atMs ?? 0) + timeline.bucketMs);
  const rateMaximum = niceMaximum(
    Math.max(
      timeline.databaseWriteLimitPerSecond,
      ...series.filter((line) => line.axis === "rate").flatMap((line) => line.values),
    ),
  );
  const depthMaximum = niceMaximum(Math.max(1, ...points.map((point) => point.bufferDepth)));
  const x = (ms: number) => MARGIN.left + (ms / lastMs) * plotWidth;
  const y = (value: number, axis: "rate" | "depth") =>
    Math.round(
      (MARGIN.top + plotHeight - (value / (axis === "rate" ? rateMaximum : depthMaximum)) * plotHeight) * 10,
    ) / 10;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  );
  for (let tick = 0; tick <= 5; tick++) {
    const fraction = tick / 5;
    const lineY = Math.round((MARGIN.top + plotHeight - fraction * plotHeight) * 10) / 10;
    parts.push(
      `<line x1="${MARGIN.left}" y1="${lineY}" x2="${MARGIN.left + plotWidth}" y2="${lineY}" stroke="#e8eaed"/>`,
      `<text x="${MARGIN.left - 8}" y="${lineY + 4}" text-anchor="end" fill="#5f6368">${compact(rateMaximum * fraction)}</text>`,
      `<text x="${MARGIN.left + plotWidth + 8}" y="${lineY + 4}" fill="#188038">${compact(depthMaximum * fraction)}</text>`,
    );
  }
  const secondsStep = Math.max(1, Math.ceil(lastMs / 1000 / 10));
  for (let second = 0; second * 1000 <= lastMs; second += secondsStep) {
    const lineX = x(second * 1000);
    parts.push(
      `<line x1="${lineX}" y1="${MARGIN.top + plotHeight}" x2="${lineX}" y2="${MARGIN.top + plotHeight + 5}" stroke="#5f6368"/>`,
      `<text x="${lineX}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle" fill="#5f6368">${second}s</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#5f6368"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" text-anchor="middle" fill="#5f6368">time since the burst started</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#5f6368">per second</text>`,
    `<text transform="translate(${WIDTH - 14} ${MARGIN.top + plotHeight / 2}) rotate(90)" text-anchor="middle" fill="#188038">entries in the buffer</text>`,
  );
  const limitY = y(timeline.databaseWriteLimitPerSecond, "rate");
  parts.push(
    `<line x1="${MARGIN.left}" y1="${limitY}" x2="${MARGIN.left + plotWidth}" y2="${limitY}" stroke="#d93025" stroke-dasharray="2 4" opacity="0.7"/>`,
    `<text x="${MARGIN.left + 6}" y="${limitY - 5}" fill="#d93025">DB write limit ${compact(timeline.databaseWriteLimitPerSecond)}/s</text>`,
  );
  for (const line of series) {
    // Each value is a bucket's figure, drawn at the bucket's middle.
    const path = line.values
      .map(
        (value, index) =>
          `${index === 0 ? "M" : "L"}${x(index * timeline.bucketMs + timeline.bucketMs / 2).toFixed(1)},${y(value, line.axis).toFixed(1)}`,
      )
      .join(" ");
    parts.push(
      `<path d="${path}" fill="none" stroke="${line.color}" stroke-width="2"${line.dash === undefined ? "" : ` stroke-dasharray="${line.dash}"`}/>`,
    );
  }
  series.forEach((line, index) => {
    const legendX = MARGIN.left + 10 + index * 150;
    const legendY = MARGIN.top - 12;
    parts.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 22}" y2="${legendY}" stroke="${line.color}" stroke-width="2"${line.dash === undefined ? "" : ` stroke-dasharray="${line.dash}"`}/>`,
      `<text x="${legendX + 28}" y="${legendY + 4}">${escapeXml(line.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
