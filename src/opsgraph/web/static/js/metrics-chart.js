// One metric chart of the Metrics page as SVG: the values, the detector's expected value and
// band, points outside the band, and anomaly episodes as shaded spans with a tooltip.

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

function yDomain(series) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const key of ["values", "lower", "upper"]) {
    for (const v of series[key] || []) {
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

/**
 * Draw `series` ({ts, values, expected?, lower?, upper?}) of `metric` into `svg`, over
 * [start, end] in epoch seconds; `anomalies` are the episodes of this metric. `tooltip` is
 * {show(text, x, y), hide()} in page coordinates.
 */
export function drawChart(svg, { metric, series, anomalies, start, end, width, tooltip }) {
  const w = Math.max(200, Math.round(width));
  const h = HEIGHT;
  const plotW = w - MARGIN.left - MARGIN.right;
  const plotH = h - MARGIN.top - MARGIN.bottom;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(h));
  svg.replaceChildren();

  const ts = series?.ts || [];
  const [lo, hi] = yDomain(series || {});
  const span = Math.max(1, end - start);
  const x = (t) => MARGIN.left + ((t - start) / span) * plotW;
  const y = (v) => MARGIN.top + (1 - (v - lo) / (hi - lo)) * plotH;
  const ys = (key) => (series?.[key] || []).map((v) => (finite(v) ? y(v) : null));
  const xs = ts.map(x);

  const grid = svgEl("g", { class: "grid", "aria-hidden": "true" });
  for (const v of niceTicks(lo, hi, 4)) {
    const gy = y(v);
    grid.append(svgEl("line", { x1: MARGIN.left, x2: w - MARGIN.right, y1: gy, y2: gy }));
    const label = svgEl("text", { x: MARGIN.left - 6, y: gy + 4, "text-anchor": "end" });
    label.textContent = formatMetric(metric, v);
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

  const clipId = `clip-${metric}`;
  const defs = svgEl("defs");
  const clip = svgEl("clipPath", { id: clipId });
  clip.append(svgEl("rect", { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH }));
  defs.append(clip);
  svg.append(defs);
  const plot = svgEl("g", { "clip-path": `url(#${clipId})` });
  svg.append(plot);

  const upper = ys("upper");
  const lower = ys("lower");
  plot.append(svgEl("path", { class: "band", d: bandPath(xs, upper, lower) }));
  plot.append(svgEl("path", { class: "expected", d: linePath(xs, ys("expected")) }));
  const valueYs = ys("values");
  plot.append(svgEl("path", { class: "line", d: linePath(xs, valueYs), "data-testid": "value-line" }));
  const values = series?.values || [];
  const outliers = svgEl("g", { class: "outliers", "aria-hidden": "true" });
  for (let i = 0; i < xs.length; i += 1) {
    const u = series?.upper?.[i];
    const l = series?.lower?.[i];
    if (finite(values[i]) && finite(u) && finite(l) && (values[i] > u || values[i] < l)) {
      outliers.append(svgEl("circle", { cx: xs[i], cy: valueYs[i], r: 2.5 }));
    }
  }
  plot.append(outliers);

  addHover(svg, { metric, series, xs, plotTop: MARGIN.top, plotH, tooltip, w });

  // Spans last, so they take the pointer over the hover layer.
  const spans = svgEl("g", { class: "anomaly-spans" });
  for (const a of anomalies) {
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

/** A crosshair with the value and expected band at the nearest point under the pointer. */
function addHover(svg, { metric, series, xs, plotTop, plotH, tooltip, w }) {
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
    if (!xs.length) return;
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * w;
    let best = 0;
    for (let i = 1; i < xs.length; i += 1) {
      if (Math.abs(xs[i] - px) < Math.abs(xs[best] - px)) best = i;
    }
    cross.setAttribute("x1", xs[best]);
    cross.setAttribute("x2", xs[best]);
    cross.style.display = "";
    const v = series.values[best];
    const lo = series.lower?.[best];
    const hi = series.upper?.[best];
    const band = finite(lo) && finite(hi)
      ? ` · expected ${formatMetric(metric, series.expected[best])} ` +
        `(${formatMetric(metric, lo)} – ${formatMetric(metric, hi)})`
      : "";
    tooltip.show(`${formatDateTime(series.ts[best])}: ${formatMetric(metric, v)}${band}`,
      event.clientX, event.clientY);
  });
  layer.addEventListener("mouseleave", () => {
    cross.style.display = "none";
    tooltip.hide();
  });
  svg.append(layer, cross);
}
