// The Metrics page's view state in the URL (?resource=&metrics=&range=&start=&end=&overlay=1),
// the datetime-local inputs (local time), and what the page knows of series: their order in a
// catalogue (the common five first), the default selection, units and colours.

import { CHART_METRICS } from "./format.js";

export const RANGES = { "1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600 };
/** Series charted at once (each is a request's worth of points). */
export const MAX_SERIES = 12;
/** Colours (CSS --series-N) before they repeat, dashed, in one chart. */
export const PALETTE_SIZE = 6;

/** "YYYY-MM-DDTHH:MM" in local time, as datetime-local inputs read and write it. */
export function toLocalInput(ts) {
  const d = new Date(ts * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(text) {
  if (!text) return null;
  const ms = new Date(text).getTime();
  return Number.isFinite(ms) ? ms / 1000 : null;
}

/** The browser's time zone, which the From / To inputs are in ("Europe/Paris"). */
export function localZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
}

const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_:.]*$/;

/** The view in the URL; `metrics` is null when the URL leaves it to the default. */
export function readUrl(search) {
  const p = new URLSearchParams(search);
  const view = {
    resource: p.get("resource") || null,
    metrics: null,
    range: p.get("range") || "1h",
    start: Number(p.get("start")) || null,
    end: Number(p.get("end")) || null,
    overlay: p.get("overlay") === "1",
  };
  const names = (p.get("metrics") || "").split(",").filter((m) => METRIC_NAME.test(m));
  if (names.length) view.metrics = [...new Set(names)].slice(0, MAX_SERIES);
  if (!(view.range in RANGES || view.range === "custom")) view.range = "1h";
  if (view.range === "custom" && !(view.start && view.end && view.start < view.end)) {
    view.range = "1h";
  }
  return view;
}

/** The query string of a view; `metrics` once the user has chosen series (null: the default). */
export function urlQuery({ resource, metrics, range, start, end, overlay }) {
  const p = new URLSearchParams();
  if (resource) p.set("resource", resource);
  if (metrics) p.set("metrics", metrics.join(","));
  p.set("range", range);
  if (range === "custom") {
    p.set("start", String(Math.round(start)));
    p.set("end", String(Math.round(end)));
  }
  if (overlay) p.set("overlay", "1");
  return p.toString();
}

/** A catalogue's series with the common five first (in their usual order), then by name. */
export function orderCatalogue(series) {
  const rank = (m) => {
    const i = CHART_METRICS.indexOf(m);
    return i === -1 ? CHART_METRICS.length : i;
  };
  return [...series].sort((a, b) => rank(a.metric) - rank(b.metric) || (a.metric < b.metric ? -1 : 1));
}

/** What a resource shows when the URL names no metrics: its common five that have points,
 * else its first series with points. */
export function defaultSelection(catalogue) {
  const stored = catalogue.filter((s) => s.points > 0).map((s) => s.metric);
  const common = stored.filter((m) => CHART_METRICS.includes(m));
  return (common.length ? common : stored).slice(0, Math.max(common.length, 5));
}

/** The unit a series' values are in, as far as its name tells: series of one unit share a
 * y axis in an overlay, others are each scaled to their own range. */
export function metricUnit(metric) {
  if (["cpu", "memory", "disk"].includes(metric)) return "%";
  if (metric === "error_rate" || /_ratio$/.test(metric)) return "ratio";
  if (metric === "latency_ms" || /_ms$/.test(metric)) return "ms";
  if (metric === "request_count") return "requests";
  if (/_seconds(_total|_sum)?$/.test(metric)) return "s";
  if (/_bytes(_total|_sum)?$/.test(metric)) return "bytes";
  if (/_percent$/.test(metric)) return "%";
  return "number";
}

/** Index of a series' colour and whether it is dashed (after the palette has run out). */
export function seriesStyle(index) {
  return { colour: (index % PALETTE_SIZE) + 1, dashed: index >= PALETTE_SIZE };
}
