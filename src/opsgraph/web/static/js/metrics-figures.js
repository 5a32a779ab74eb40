// The figures of the Metrics page: one chart of one series, or of several overlaid with a
// legend (each series in its colour; series of different units each scaled to their own
// range), their captions and screen-reader summaries, and the band's label.

import { drawChart } from "./metrics-chart.js";
import { metricUnit, seriesStyle } from "./metrics-state.js";
import { el, formatMetric, metricLabel } from "./format.js";

let figures = 0;

/** The figure of `grid` for `key` (a metric, or "overlay"), made when there is none. */
export function chartFigure(grid, key) {
  let figure = [...grid.children].find((f) => f.dataset.key === key);
  if (figure) return figure;
  const id = `chart-${(figures += 1)}`;
  figure = el(
    "figure",
    { className: "metric-chart", dataset: { key, testid: "metric-chart", clip: `${id}-clip` } },
    el(
      "figcaption",
      { id: `${id}-caption` },
      el("span", { className: "mc-name" }),
      el("span", { className: "mc-latest", dataset: { testid: "chart-latest" } }),
    ),
  );
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", `${id}-caption ${id}-summary`);
  const legend = el("ul", { className: "chart-legend", dataset: { testid: "chart-legend" } });
  const summary = el("p", { id: `${id}-summary`, className: "visually-hidden" });
  figure.append(svg, legend, summary);
  return figure;
}

const EMPTY_SERIES = { ts: [], values: [] };

export function bandText(band) {
  if (!band) return "";
  const scorer = band.pipeline_detector && band.pipeline_detector !== band.detector
    ? `; series scored by ${band.pipeline_detector}`
    : "";
  return (
    `Band: ${band.detector}, k ${Number(band.k).toFixed(2)}, window ${band.window}, ` +
    `warm-up ${band.min_points} points${scorer}`
  );
}

function seriesSummary(metric, series, anomalies) {
  const points = series.ts.length;
  const latest = series.values[points - 1];
  const count = anomalies.filter((a) => a.metric === metric).length;
  return `${metric}: ${points} points, latest ${formatMetric(metric, latest)}, ` +
    `${count} anomal${count === 1 ? "y" : "ies"} in range.`;
}

/** Draw `metrics` (one, or several overlaid) of `series` into `figure`, with its caption,
 * legend, summary and data attributes (points; band: banded points of the least banded);
 * `charted` is every metric charted, in order, which gives each its colour. */
export function drawFigure(figure, opts) {
  const { metrics, charted, series, anomalies: all, window: [start, end], tooltip } = opts;
  // A series keeps its colour, its place among every series charted, in any layout.
  const lines = metrics.map((metric) => ({
    metric,
    series: series[metric] || EMPTY_SERIES,
    style: seriesStyle(charted.indexOf(metric)),
  }));
  const overlay = metrics.length > 1;
  const normalise = overlay && new Set(metrics.map(metricUnit)).size > 1;
  const anomalies = all.filter((a) => metrics.includes(a.metric));
  const width = figure.clientWidth || 480;
  drawChart(figure.querySelector("svg"), {
    lines, anomalies, start, end, width, tooltip, normalise, clipId: figure.dataset.clip,
  });
  const counts = lines.map((l) => l.series.ts.length);
  figure.dataset.metric = overlay ? "overlay" : metrics[0];
  figure.dataset.metrics = metrics.join(" ");
  figure.dataset.points = String(counts.reduce((a, b) => a + b, 0));
  const banded = lines.map((l) => (l.series.upper || []).filter((v) => v !== null).length);
  figure.dataset.band = String(Math.min(...banded));
  figure.dataset.anomalies = String(anomalies.length);
  figure.dataset.normalised = String(normalise);
  const name = figure.querySelector(".mc-name");
  const latest = figure.querySelector(".mc-latest");
  if (overlay) {
    name.textContent = `${metrics.length} series overlaid`;
    const unit = metricUnit(metrics[0]);
    latest.textContent = normalise
      ? "each scaled to its own range"
      : `one axis${unit === "number" ? "" : ` (${unit})`}`;
  } else {
    name.textContent = metricLabel(metrics[0]);
    latest.textContent = counts[0]
      ? formatMetric(metrics[0], lines[0].series.values[counts[0] - 1])
      : "no points in this range";
  }
  const legend = figure.querySelector(".chart-legend");
  legend.hidden = !overlay;
  legend.replaceChildren(
    ...(overlay ? lines : []).map((l) => {
      const swatch = el("span", { className: `lg-swatch${l.style.dashed ? " dashed" : ""}`, "aria-hidden": "true" });
      swatch.style.setProperty("--series", `var(--series-${l.style.colour})`);
      const n = l.series.ts.length;
      return el(
        "li",
        { dataset: { testid: "legend-item", metric: l.metric } },
        swatch,
        el("span", { className: "lg-name", text: l.metric }),
        el("span", { className: "muted", text: n ? formatMetric(l.metric, l.series.values[n - 1]) : "no points" }),
      );
    }),
  );
  figure.querySelector(".visually-hidden").textContent = lines
    .map((l) => seriesSummary(l.metric, l.series, anomalies))
    .join(" ");
}

