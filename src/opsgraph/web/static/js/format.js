// Number, unit and time formatting shared by the panels.

export const CHART_METRICS = ["cpu", "memory", "latency_ms", "error_rate", "request_count"];

export const METRIC_LABELS = {
  cpu: "CPU",
  memory: "Memory",
  latency_ms: "Latency",
  error_rate: "Error rate",
  request_count: "Requests",
  net_in: "Network in",
  net_out: "Network out",
  disk: "Disk",
};

export function metricLabel(name) {
  return METRIC_LABELS[name] || name;
}

export function compactNumber(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return "0";
  return v.toPrecision(2);
}

/**
 * A metric value with its unit. Utilisation and error rates may come as fractions (0..1) or
 * percentages (0..100); values at most 1 are read as fractions.
 */
export function formatMetric(name, v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return "–";
  const x = Number(v);
  switch (name) {
    case "cpu":
    case "memory":
    case "disk":
      return `${(Math.abs(x) <= 1 ? x * 100 : x).toFixed(1)}%`;
    case "error_rate": {
      const pct = Math.abs(x) <= 1 ? x * 100 : x;
      return `${pct < 10 ? pct.toFixed(2) : pct.toFixed(1)}%`;
    }
    case "latency_ms":
      return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`;
    case "request_count":
      return `${compactNumber(x)} req`;
    default:
      return compactNumber(x);
  }
}

// One clock, one format: every time is the pipeline's clock (the wall clock, or the simulated
// estate's when a demo runs faster than real time), shown on a 24-hour clock in the browser's
// time zone, which `timeZoneLabel()` names beside it.
const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

/** The browser's time zone, as its IANA name ("Europe/Paris") or "UTC". */
export function timeZoneLabel() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The browser's time zone in short ("CET", "GMT+1", "UTC"), for labels beside times. */
export function shortTimeZone() {
  try {
    const parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(new Date());
    return parts.find((p) => p.type === "timeZoneName")?.value || "UTC";
  } catch {
    return "UTC";
  }
}

/** Epoch seconds as a time of day (24-hour clock, the browser's time zone). */
export function formatTime(ts) {
  if (ts === null || ts === undefined) return "–";
  return timeFormat.format(new Date(ts * 1000));
}

/** Epoch seconds as a date and time (24-hour clock, the browser's time zone). */
export function formatDateTime(ts) {
  if (ts === null || ts === undefined) return "–";
  return dateTimeFormat.format(new Date(ts * 1000));
}

export function isoTime(ts) {
  if (ts === null || ts === undefined) return "";
  return new Date(ts * 1000).toISOString();
}

/** "3 min ago" relative to `now` (both epoch seconds). */
export function relativeTime(ts, now) {
  if (ts === null || ts === undefined || now === null || now === undefined) return "";
  const d = Math.max(0, now - ts);
  if (d < 60) return "just now";
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  if (d < 86400) return `${(d / 3600).toFixed(1)} h ago`;
  return `${(d / 86400).toFixed(1)} d ago`;
}

/** Create an element with attributes and children, in one line. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
