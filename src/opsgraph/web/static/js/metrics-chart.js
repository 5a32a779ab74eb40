// One chart of the Metrics page as SVG: one or several series (an overlay), each in its own
// colour with the detector's expected value and band and its points outside the band, and
// anomaly episodes as shaded spans with a tooltip. Series of different units in one chart are
// each scaled to their own range (the axis then reads "% of range"; the tooltip, real values).

import { formatDateTime, formatMetric, formatTime, metricLabel } from "./format.js";

const NS = "http://www.w3.org/2000/svg";
const HEIGHT = 170;
const MARGIN = { top: 8, right: 12, bottom: 22, left: 62 };
const MIN_SPAN_PX = 4;

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  return node;
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);

/** Path data for the points where both x and y are known; a null breaks the line. */
function linePath(xs, ys) {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i += 1) {
    if (!finite(ys[i])) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${xs[i].toFixed(1)},${ys[i].toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** One closed polygon per stretch where the band is known (upper forwards, lower back). */
function bandPath(xs, uppers, lowers) {
  let d = "";
  let run = [];
  const flush = () => {
    if (run.length > 1) {
      d += run.map((i, n) => `${n ? "L" : "M"}${xs[i].toFixed(1)},${uppers[i].toFixed(1)}`).join("");
      d += run
        .slice()
        .reverse()
        .map((i) => `L${xs[i].toFixed(1)},${lowers[i].toFixed(1)}`)
        .join("");
      d += "Z";
    }
    run = [];
  };
  for (let i = 0; i < xs.length; i += 1) {
    if (finite(uppers[i]) && finite(lowers[i])) run.push(i);
    else flush();
  }
  flush();
  return d;
}

/** Round-ish tick values covering [lo, hi]. */
function niceTicks(lo, hi, count) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
  return ticks;
}

function yDomain(seriesList) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const key of ["values", "lower", "upper"]) {
    for (const v of seriesList.flatMap((series) => series[key] || [])) {
      if (finite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.1, hi + (Math.abs(hi) || 1) * 0.1];
  const pad = (hi - lo) * 0.06;
  // Counts and percentages do not go below zero: keep the axis from suggesting they do.
  return [lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad];
}

/** Text of an anomaly's tooltip (also its accessible name). */
export function anomalyText(a) {
  const until = a.end_ts == null ? "ongoing" : `until ${formatTime(a.end_ts)}`;
  return (
    `${a.severity} anomaly on ${metricLabel(a.metric)} (${a.detector}), ` +
    `from ${formatDateTime(a.start_ts)} ${until}; value ${formatMetric(a.metric, a.value)} ` +
    `vs expected ${formatMetric(a.metric, a.expected)}, score ${Number(a.max_score).toFixed(2)}, ` +
    `${a.status}`
  );
}

/** The series a line draws, scaled to 0..1 of its own range when `normalise`. */
function scaled(series, normalise) {
  if (!normalise) return series;
  const [lo, hi] = yDomain([series]);
  const f = (v) => (finite(v) ? (v - lo) / (hi - lo) : null);
  const out = { ts: series.ts };
  for (const key of ["values", "expected", "lower", "upper"]) out[key] = (series[key] || []).map(f);
  return out;
}

function axisLabel(metric, v, normalise) {
  return normalise ? `${Math.round(v * 100)}%` : formatMetric(metric, v);
}

/**
 * Draw `lines` ([{metric, series: {ts, values, expected?, lower?, upper?}, style: {colour,
 * dashed}}]) into `svg` over [start, end] in epoch seconds; `anomalies` are the episodes of
 * those metrics; `normalise` scales each line to its own range. `tooltip` is
 * {show(text, x, y), hide()} in page coordinates; `clipId` is unique in the page.
 */
export function drawChart(svg, opts) {
  const { lines, anomalies, start, end, width, tooltip, normalise = false, clipId } = opts;
  const w = Math.max(200, Math.round(width));
  const h = HEIGHT;
  const plotW = w - MARGIN.left - MARGIN.right;
  const plotH = h - MARGIN.top - MARGIN.bottom;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(h));
  svg.replaceChildren();

  const drawn = lines.map((line) => ({ ...line, shown: scaled(line.series, normalise) }));
  const [lo, hi] = normalise ? [-0.04, 1.04] : yDomain(drawn.map((d) => d.shown));
  const span = Math.max(1, end - start);
  const x = (t) => MARGIN.left + ((t - start) / span) * plotW;
  const y = (v) => MARGIN.top + (1 - (v - lo) / (hi - lo)) * plotH;
  const axisMetric = lines[0]?.metric ?? "";

  const grid = svgEl("g", { class: "grid", "aria-hidden": "true" });
  for (const v of normalise ? [0, 0.25, 0.5, 0.75, 1] : niceTicks(lo, hi, 4)) {
    const gy = y(v);
    grid.append(svgEl("line", { x1: MARGIN.left, x2: w - MARGIN.right, y1: gy, y2: gy }));
    const label = svgEl("text", { x: MARGIN.left - 6, y: gy + 4, "text-anchor": "end" });
    label.textContent = axisLabel(axisMetric, v, normalise);
    grid.append(label);
  }
  const steps = Math.max(2, Math.min(6, Math.floor(plotW / 110)));
  for (let i = 0; i <= steps; i += 1) {
    const t = start + (span * i) / steps;
    const label = svgEl("text", {
      x: x(t),
      y: h - 6,
      "text-anchor": i === 0 ? "start" : i === steps ? "end" : "middle",
    });
    label.textContent = span > 86400 ? formatDateTime(t) : formatTime(t).slice(0, 5);
    grid.append(label);
  }
  svg.append(grid);

  const defs = svgEl("defs");
  const clip = svgEl("clipPath", { id: clipId });
  clip.append(svgEl("rect", { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH }));
  defs.append(clip);
  svg.append(defs);
  const plot = svgEl("g", { "clip-path": `url(#${clipId})` });
  svg.append(plot);

  for (const line of drawn) {
    const { shown } = line;
    const xs = (shown.ts || []).map(x);
    const ys = (key) => (shown[key] || []).map((v) => (finite(v) ? y(v) : null));
    line.xs = xs;
    const group = svgEl("g", {
      class: `series${line.style.dashed ? " dashed" : ""}`,
      "data-metric": line.metric,
      style: `--series: var(--series-${line.style.colour})`,
    });
    group.append(svgEl("path", { class: "band", d: bandPath(xs, ys("upper"), ys("lower")) }));
    group.append(svgEl("path", { class: "expected", d: linePath(xs, ys("expected")) }));
    const valueYs = ys("values");
    group.append(svgEl("path", { class: "line", d: linePath(xs, valueYs), "data-testid": "value-line" }));
    const { values = [], upper = [], lower = [] } = line.series;
    const outliers = svgEl("g", { class: "outliers", "aria-hidden": "true" });
    for (let i = 0; i < xs.length; i += 1) {
      const [v, u, l] = [values[i], upper[i], lower[i]];
      if (finite(v) && finite(u) && finite(l) && (v > u || v < l)) {
        outliers.append(svgEl("circle", { cx: xs[i], cy: valueYs[i], r: 2.5 }));
      }
    }
    group.append(outliers);
    plot.append(group);
  }

  addHover(svg, { lines: drawn, plotTop: MARGIN.top, plotH, tooltip, w });

  // Spans last, so they take the pointer over the hover layer.
  const spans = svgEl("g", { class: "anomaly-spans" });
  for (const a of anomalies) {
    const ts = lines.find((l) => l.metric === a.metric)?.series.ts || [];
    const from = Math.max(a.start_ts, start);
    const to = Math.min(a.end_ts ?? Math.max(a.last_ts, ts[ts.length - 1] ?? a.last_ts), end);
    if (to < start || from > end) continue;
    const x0 = x(from);
    const width = Math.max(MIN_SPAN_PX, x(to) - x0);
    const text = anomalyText(a);
    const rect = svgEl("rect", {
      class: `anomaly-span sev-${a.severity}`,
      x: x0,
      y: MARGIN.top,
      width,
      height: plotH,
      tabindex: 0,
      role: "img",
      "aria-label": text,
      "data-testid": "anomaly-marker",
      "data-anomaly-id": a.id,
      "data-severity": a.severity,
    });
    const show = (event) => {
      const box = rect.getBoundingClientRect();
      const px = event && "clientX" in event ? event.clientX : box.left + box.width / 2;
      const py = event && "clientY" in event ? event.clientY : box.top;
      tooltip.show(text, px, py);
    };
    rect.addEventListener("mousemove", show);
    rect.addEventListener("focus", () => show(null));
    rect.addEventListener("mouseleave", () => tooltip.hide());
    rect.addEventListener("blur", () => tooltip.hide());
    spans.append(rect);
  }
  svg.append(spans);
}

/** Index of the point of `xs` (ascending) nearest to `px`, or -1 when there is none. */
function nearest(xs, px) {
  if (!xs.length) return -1;
  let a = 0;
  let b = xs.length - 1;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (xs[m] < px) a = m;
    else b = m;
  }
  return Math.abs(xs[a] - px) <= Math.abs(xs[b] - px) ? a : b;
}

/** One tooltip line: a series' value and expected band at point i. */
function pointText(line, i, named) {
  const { metric, series } = line;
  const lo = series.lower?.[i];
  const hi = series.upper?.[i];
  const band = finite(lo) && finite(hi)
    ? ` · expected ${formatMetric(metric, series.expected[i])} ` +
      `(${formatMetric(metric, lo)} – ${formatMetric(metric, hi)})`
    : "";
  return `${named ? `${metric}: ` : ""}${formatMetric(metric, series.values[i])}${band}`;
}

/** A crosshair with each series' value and expected band at the point under the pointer. */
function addHover(svg, { lines, plotTop, plotH, tooltip, w }) {
  const layer = svgEl("rect", {
    class: "hover-layer",
    x: MARGIN.left,
    y: plotTop,
    width: w - MARGIN.left - MARGIN.right,
    height: plotH,
  });
  const cross = svgEl("line", { class: "crosshair", y1: plotTop, y2: plotTop + plotH });
  cross.style.display = "none";
  layer.addEventListener("mousemove", (event) => {
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * w;
    const hits = lines
      .map((line) => ({ line, i: nearest(line.xs, px) }))
      .filter(({ i }) => i >= 0);
    if (!hits.length) return;
    const closest = hits.reduce((a, b) =>
      Math.abs(a.line.xs[a.i] - px) <= Math.abs(b.line.xs[b.i] - px) ? a : b,
    );
    const cx = closest.line.xs[closest.i];
    cross.setAttribute("x1", cx);
    cross.setAttribute("x2", cx);
    cross.style.display = "";
    const named = lines.length > 1;
    const when = formatDateTime(closest.line.series.ts[closest.i]);
    const text = named
      ? [when, ...hits.map(({ line, i }) => pointText(line, i, true))].join("\n")
      : `${when}: ${pointText(closest.line, closest.i, false)}`;
    tooltip.show(text, event.clientX, event.clientY);
  });
  layer.addEventListener("mouseleave", () => {
    cross.style.display = "none";
    tooltip.hide();
  });
  svg.append(layer, cross);
}
