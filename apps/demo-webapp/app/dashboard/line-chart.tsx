/** One line of a chart. */
export interface ChartLine {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

export interface LineChartProps {
  readonly lines: readonly ChartLine[];
  /** A dashed horizontal marker, e.g. the drain cap. */
  readonly reference?: { readonly value: number; readonly label: string };
  readonly testId?: string;
}

const WIDTH = 340;
const HEIGHT = 130;
const PAD_LEFT = 34;
const PAD_BOTTOM = 16;
const PAD_TOP = 8;

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

const short = (value: number) =>
  value >= 1_000 ? `${Math.round(value / 100) / 10}k` : `${Math.round(value * 10) / 10}`;

/** A small SVG line chart drawn by hand: last minute, newest on the right. */
export function LineChart({ lines, reference, testId }: LineChartProps) {
  const count = Math.max(2, ...lines.map((line) => line.values.length));
  const peak = Math.max(0, reference?.value ?? 0, ...lines.flatMap((line) => line.values));
  const top = niceMax(peak * 1.1);
  const x = (index: number) => PAD_LEFT + (index / (count - 1)) * (WIDTH - PAD_LEFT - 4);
  const y = (value: number) => PAD_TOP + (1 - value / top) * (HEIGHT - PAD_TOP - PAD_BOTTOM);
  const ticks = [0, top / 2, top];
  return (
    <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" data-testid={testId}>
      <title>{lines.map((line) => line.name).join(", ")}</title>
      {ticks.map((tick) => (
        <g key={tick}>
          <line x1={PAD_LEFT} x2={WIDTH - 4} y1={y(tick)} y2={y(tick)} stroke="#eef0f4" />
          <text x={PAD_LEFT - 5} y={y(tick) + 3} fontSize="9" textAnchor="end" fill="#8a94a6">
            {short(tick)}
          </text>
        </g>
      ))}
      <text x={PAD_LEFT} y={HEIGHT - 3} fontSize="9" fill="#8a94a6">
        −60 s
      </text>
      <text x={WIDTH - 4} y={HEIGHT - 3} fontSize="9" fill="#8a94a6" textAnchor="end">
        now
      </text>
      {reference ? (
        <g>
          <line
            x1={PAD_LEFT}
            x2={WIDTH - 4}
            y1={y(reference.value)}
            y2={y(reference.value)}
            stroke="#f59e0b"
            strokeDasharray="4 3"
          />
          <text x={WIDTH - 6} y={y(reference.value) - 3} fontSize="9" textAnchor="end" fill="#b45309">
            {reference.label}
          </text>
        </g>
      ) : null}
      {lines.map((line) => (
        <polyline
          key={line.name}
          fill="none"
          stroke={line.color}
          strokeWidth="1.8"
          strokeLinejoin="round"
          points={line.values
            .map((value, index) => `${x(index).toFixed(1)},${y(value).toFixed(1)}`)
            .join(" ")}
        />
      ))}
    </svg>
  );
}
