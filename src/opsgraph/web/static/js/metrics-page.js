// The Metrics page: five signals of one resource over a range of simulated time, with the
// detector's expected band and anomaly episodes; the URL (?resource=&range=) keeps the view.

import { api, LiveConnection } from "./api.js";
import { anomalyText, drawChart } from "./metrics-chart.js";
import { CHART_METRICS, el, formatDateTime, formatMetric, isoTime, metricLabel } from "./format.js";
import { initNav } from "./nav.js";
import { initTheme } from "./theme.js";

const RANGES = { "1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600 };
const POINT_LIMIT = 5000;
// A refetch brings the band of points that arrived live; no more often than this.
const REFRESH_MS = 3000;
const CONN_LABELS = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  polling: "polling",
};

const $ = (sel) => document.querySelector(sel);
const form = $('[data-testid="metrics-form"]');
const resourceInput = $("#resource-input");
const rangeSelect = $("#range-select");
const startInput = $("#range-start");
const endInput = $("#range-end");
const message = $('[data-testid="metrics-message"]');
const grid = $('[data-testid="chart-grid"]');
const tooltipNode = $('[data-testid="chart-tooltip"]');

const state = {
  resource: null, // id shown
  range: "1h",
  start: null, // custom range bounds (epoch seconds)
  end: null,
  window: null, // [start, end] drawn
  series: {},
  anomalies: [],
  resources: new Map(),
  clock: null,
  messageFrom: null, // "load" or "input": who wrote the message shown
  loading: 0, // generation of the latest load, so a slow answer cannot overwrite a newer one
};

const tooltip = {
  show(text, px, py) {
    tooltipNode.textContent = text;
    tooltipNode.hidden = false;
    const box = tooltipNode.getBoundingClientRect();
    const left = Math.min(window.innerWidth - box.width - 8, px + 12);
    const top = py - box.height - 10 < 0 ? py + 16 : py - box.height - 10;
    tooltipNode.style.left = `${Math.max(8, left)}px`;
    tooltipNode.style.top = `${top}px`;
  },
  hide() {
    tooltipNode.hidden = true;
  },
};

/** Show (or clear, with "") a message; `from` tells a failed load from refused input. */
function say(text, from = "input") {
  state.messageFrom = text ? from : null;
  message.textContent = text;
  message.className = "form-message mc-message error";
  message.hidden = !text;
}

/** "YYYY-MM-DDTHH:MM" in local time, as datetime-local inputs read and write it. */
function toLocalInput(ts) {
  const d = new Date(ts * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(text) {
  if (!text) return null;
  const ms = new Date(text).getTime();
  return Number.isFinite(ms) ? ms / 1000 : null;
}

function readUrl() {
  const p = new URLSearchParams(location.search);
  state.resource = p.get("resource") || null;
  const range = p.get("range") || "1h";
  state.range = range in RANGES || range === "custom" ? range : "1h";
  state.start = Number(p.get("start")) || null;
  state.end = Number(p.get("end")) || null;
  if (state.range === "custom" && !(state.start && state.end && state.start < state.end)) {
    state.range = "1h";
  }
}

function writeUrl() {
  const p = new URLSearchParams();
  if (state.resource) p.set("resource", state.resource);
  p.set("range", state.range);
  if (state.range === "custom") {
    p.set("start", String(Math.round(state.start)));
    p.set("end", String(Math.round(state.end)));
  }
  history.replaceState(null, "", `${location.pathname}?${p}`);
}

function isLive() {
  return state.range !== "custom";
}

function showCustom(on) {
  for (const node of document.querySelectorAll(".mc-custom")) node.hidden = !on;
}

function syncControls() {
  resourceInput.value = state.resource || "";
  rangeSelect.value = state.range;
  showCustom(state.range === "custom");
  if (state.range === "custom") {
    startInput.value = toLocalInput(state.start);
    endInput.value = toLocalInput(state.end);
  }
}

function setClock(ts) {
  if (ts == null) return;
  state.clock = Math.max(state.clock ?? ts, ts);
  const time = $('[data-testid="sim-clock"] time');
  time.textContent = formatDateTime(state.clock);
  time.dateTime = isoTime(state.clock);
}

async function loadResources() {
  const list = await api.call("GET", "/resources");
  const options = document.getElementById("resource-options");
  options.replaceChildren(
    ...list.map((r) => el("option", { value: r.id, label: `${r.name || r.id} · ${r.kind}` })),
  );
  state.resources = new Map(list.map((r) => [r.id, r]));
}

/** Fetch everything the view needs for the current state, then draw. */
async function load() {
  if (!state.resource) return;
  const generation = ++state.loading;
  grid.setAttribute("aria-busy", "true");
  try {
    let start;
    let end;
    if (isLive()) {
      const health = await api.health();
      end = health.latest_ts ?? Date.now() / 1000;
      setClock(health.latest_ts);
      start = end - RANGES[state.range];
    } else {
      ({ start, end } = state);
    }
    const [metrics, anomalies] = await Promise.all([
      api.metrics(state.resource, {
        metrics: CHART_METRICS,
        start,
        end,
        band: true,
        limit: POINT_LIMIT,
      }),
      api.anomalies({ resource_id: state.resource, start, end, limit: 1000 }),
    ]);
    if (generation !== state.loading) return;
    state.window = [start, end];
    state.series = metrics.series;
    state.anomalies = anomalies.items;
    // A load that ends after the user typed something wrong must not hide that message.
    if (state.messageFrom === "load") say("");
    render();
  } catch (err) {
    if (generation !== state.loading) return;
    say(err.status === 404 ? `No resource named ${state.resource}.` : err.message, "load");
  } finally {
    if (generation === state.loading) grid.removeAttribute("aria-busy");
  }
}

let refreshTimer = null;
function refreshSoon() {
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    load();
  }, REFRESH_MS);
}

function chartFigure(metric) {
  let figure = grid.querySelector(`[data-metric="${metric}"]`);
  if (figure) return figure;
  const id = `chart-${metric}`;
  figure = el(
    "figure",
    { className: "metric-chart", dataset: { metric, testid: "metric-chart" } },
    el(
      "figcaption",
      { id: `${id}-caption` },
      el("span", { className: "mc-name", text: metricLabel(metric) }),
      el("span", { className: "mc-latest", dataset: { testid: "chart-latest" } }),
    ),
  );
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", `${id}-caption ${id}-summary`);
  const summary = el("p", { id: `${id}-summary`, className: "visually-hidden" });
  figure.append(svg, summary);
  grid.append(figure);
  return figure;
}

function render() {
  const [start, end] = state.window;
  const resource = state.resources.get(state.resource);
  $('[data-testid="metrics-title"]').textContent = resource
    ? `${resource.name || resource.id} · ${resource.kind}`
    : state.resource;
  document.title = `opsgraph · metrics · ${state.resource}`;
  $('[data-testid="metrics-range"]').textContent =
    `${formatDateTime(start)} – ${formatDateTime(end)}${isLive() ? " · live" : ""}`;
  $('[data-testid="metrics-empty"]').hidden = true;
  // Redrawing replaces the spans: keep keyboard focus on the same anomaly across live updates.
  const focused = document.activeElement?.dataset?.anomalyId;
  const focusedMetric = document.activeElement?.closest?.("[data-metric]")?.dataset.metric;
  for (const metric of CHART_METRICS) {
    const figure = chartFigure(metric);
    const series = state.series[metric] || { ts: [], values: [] };
    const anomalies = state.anomalies.filter((a) => a.metric === metric);
    const width = figure.clientWidth || 480;
    drawChart(figure.querySelector("svg"), { metric, series, anomalies, start, end, width, tooltip });
    const points = series.ts.length;
    const banded = (series.upper || []).filter((v) => v !== null).length;
    figure.dataset.points = String(points);
    figure.dataset.band = String(banded);
    figure.dataset.anomalies = String(anomalies.length);
    const latest = series.values[points - 1];
    figure.querySelector(".mc-latest").textContent = points ? formatMetric(metric, latest) : "no data";
    figure.querySelector(".visually-hidden").textContent =
      `${points} points, latest ${formatMetric(metric, latest)}; ` +
      `${anomalies.length} anomal${anomalies.length === 1 ? "y" : "ies"} in range.`;
  }
  if (focused && focusedMetric) {
    grid
      .querySelector(`[data-metric="${focusedMetric}"] [data-anomaly-id="${focused}"]`)
      ?.focus({ preventScroll: true });
  }
  renderAnomalies();
}

function renderAnomalies() {
  const list = $('[data-testid="metrics-anomalies"]');
  const items = [...state.anomalies].sort((a, b) => b.start_ts - a.start_ts);
  list.replaceChildren(
    ...items.map((a) =>
      el(
        "li",
        { className: `ma-item sev-${a.severity}`, dataset: { testid: "metrics-anomaly", anomalyId: a.id } },
        el("span", { className: `badge sev-${a.severity}`, text: a.severity }),
        el("span", { className: "ma-text", text: anomalyText(a) }),
      ),
    ),
  );
  $(".ma-empty").hidden = items.length > 0;
}

/** A metrics:update for our resource while the range ends at "now": slide and append. */
function appendLive(data) {
  const point = data?.nodes?.[state.resource];
  if (!point || !state.window || typeof data.ts !== "number") return;
  const span = state.window[1] - state.window[0];
  if (data.ts <= state.window[1]) return;
  state.window = [data.ts - span, data.ts];
  for (const metric of CHART_METRICS) {
    const v = point[metric];
    if (typeof v !== "number") continue;
    const s = (state.series[metric] ??= { ts: [], values: [], expected: [], lower: [], upper: [] });
    s.ts.push(data.ts);
    s.values.push(v);
    // The band of a new point comes with the next refetch (the server computes it).
    for (const key of ["expected", "lower", "upper"]) (s[key] ??= []).push(null);
    let drop = 0;
    while (drop < s.ts.length && s.ts[drop] < state.window[0]) drop += 1;
    if (drop) for (const key of ["ts", "values", "expected", "lower", "upper"]) s[key].splice(0, drop);
  }
  scheduleRender();
  refreshSoon();
}

let frame = null;
function scheduleRender() {
  if (frame !== null) return;
  frame = requestAnimationFrame(() => {
    frame = null;
    if (state.window) render();
  });
}

function onMessage({ type, data }) {
  if (type === "metrics:update") {
    setClock(data?.ts);
    if (isLive()) appendLive(data);
  } else if (type.startsWith("anomaly:") && data?.resource_id === state.resource) {
    refreshSoon();
  }
}

function choose(resource) {
  if (!state.resources.has(resource)) {
    resourceInput.setAttribute("aria-invalid", "true");
    say(`resource: no resource named "${resource}"; pick one from the list.`);
    return false;
  }
  resourceInput.removeAttribute("aria-invalid");
  state.resource = resource;
  return true;
}

function apply() {
  const resource = resourceInput.value.trim();
  if (!resource) {
    resourceInput.setAttribute("aria-invalid", "true");
    say("resource: pick a resource.");
    return;
  }
  if (!choose(resource)) return;
  state.range = rangeSelect.value;
  if (state.range === "custom") {
    const start = fromLocalInput(startInput.value);
    const end = fromLocalInput(endInput.value);
    startInput.setAttribute("aria-invalid", String(start === null));
    endInput.setAttribute("aria-invalid", String(end === null || (start !== null && end <= start)));
    if (start === null) return say("From: enter a date and time.");
    if (end === null) return say("To: enter a date and time.");
    if (end <= start) return say("To: must be after From.");
    state.start = start;
    state.end = end;
  }
  say("");
  writeUrl();
  load();
}

function wire() {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  // Picking from the list (or typing an exact id) shows it at once.
  resourceInput.addEventListener("change", () => {
    if (state.resources.has(resourceInput.value.trim())) apply();
  });
  rangeSelect.addEventListener("change", () => {
    const custom = rangeSelect.value === "custom";
    showCustom(custom);
    if (custom) {
      const [start, end] = state.window || [(state.clock ?? Date.now() / 1000) - 3600, state.clock];
      startInput.value = toLocalInput(start);
      endInput.value = toLocalInput(end ?? Date.now() / 1000);
      startInput.focus();
    } else if (resourceInput.value.trim()) {
      apply();
    }
  });
  new ResizeObserver(() => scheduleRender()).observe(grid);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") tooltip.hide();
  });
}

async function main() {
  initNav("metrics");
  initTheme($('[data-testid="theme-toggle"]'), () => scheduleRender());
  readUrl();
  syncControls();
  wire();
  try {
    await loadResources();
  } catch (err) {
    say(`Resources could not be loaded: ${err.message}`, "load");
    return;
  }
  if (state.resource && !choose(state.resource)) state.resource = null;
  if (state.resource) await load();
  const live = new LiveConnection({
    onMessage,
    onState: (s) => {
      const node = $('[data-testid="conn-state"]');
      node.dataset.state = s;
      node.querySelector(".conn-label").textContent = CONN_LABELS[s] || s;
    },
    onResync: () => load(),
    poll: () => load(),
  });
  live.start();
  window.opsgraphMetrics = { state, reload: load };
}

main();
