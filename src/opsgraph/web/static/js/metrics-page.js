// The Metrics page: any stored series of one resource over a range of the pipeline's time, one chart
// each or overlaid in one, with the detector's expected band and anomaly episodes. A finder
// searches series across resources; the URL (?resource=&metrics=&range=&overlay=) keeps the
// view (metrics-state.js).

import { api, LiveConnection } from "./api.js";
import { anomalyText } from "./metrics-chart.js";
import { bandText, chartFigure, drawFigure } from "./metrics-figures.js";
import { initFinder } from "./metrics-finder.js";
import { renderPicker } from "./metrics-picker.js";
import {
  defaultSelection,
  fromLocalInput,
  localZone,
  MAX_SERIES,
  orderCatalogue,
  RANGES,
  readUrl,
  toLocalInput,
  urlQuery,
} from "./metrics-state.js";
import { el, formatDateTime, isoTime } from "./format.js";
import { initNav } from "./nav.js";
import { initTheme } from "./theme.js";

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
const picker = $('[data-testid="series-picker"]');
const overlayToggle = $('[data-testid="overlay-toggle"]');
const tooltipNode = $('[data-testid="chart-tooltip"]');

const state = {
  resource: null, // id shown
  metrics: null, // series chosen, in chart order; null: the resource's default
  range: "1h",
  start: null, // custom range bounds (epoch seconds)
  end: null,
  overlay: false,
  window: null, // [start, end] drawn
  catalogue: [], // the resource's stored series, common five first
  catalogueFor: null,
  series: {},
  band: null, // the band's detector and parameters, as the API reports them
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

/** The metrics charted: those chosen (or the default) that the resource has stored. */
function selection() {
  const stored = new Set(state.catalogue.map((s) => s.metric));
  return (state.metrics ?? defaultSelection(state.catalogue)).filter((m) => stored.has(m));
}

function writeUrl() {
  history.replaceState(null, "", `${location.pathname}?${urlQuery(state)}`);
}

function isLive() {
  return state.range !== "custom";
}

function syncControls() {
  resourceInput.value = state.resource || "";
  rangeSelect.value = state.range;
  overlayToggle.checked = state.overlay;
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

/** Fetch everything the view needs for the current state, then draw; `catalogue` refetches
 * the resource's list of series too (it is fetched anyway for a new resource). */
async function load({ catalogue = false } = {}) {
  if (!state.resource) return;
  const generation = ++state.loading;
  grid.setAttribute("aria-busy", "true");
  try {
    if (catalogue || state.catalogueFor !== state.resource) {
      const path = `/resources/${encodeURIComponent(state.resource)}/series`;
      const found = await api.call("GET", path);
      if (generation !== state.loading) return;
      state.catalogue = orderCatalogue(found.series);
      state.catalogueFor = state.resource;
    }
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
    const metrics = selection();
    const [data, anomalies] = await Promise.all([
      metrics.length
        ? api.metrics(state.resource, { metrics, start, end, band: true, limit: POINT_LIMIT })
        : { series: {}, band: null },
      api.anomalies({ resource_id: state.resource, start, end, limit: 1000 }),
    ]);
    if (generation !== state.loading) return;
    state.window = [start, end];
    state.series = data.series;
    state.band = data.band;
    state.anomalies = anomalies.items;
    // A load that ends after the user typed something wrong must not hide that message.
    if (state.messageFrom === "load") say("");
    const missing = (state.metrics || []).filter((m) => !metrics.includes(m));
    if (missing.length) say(`metrics: ${state.resource} has no series ${missing.join(", ")}.`, "load");
    showPicker();
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

let pickerShown = "";
/** Redraw the picker when its catalogue or selection changed (or `force`: undo a refused
 * check), so live refreshes leave it, and the focus in it, alone. */
function showPicker(force = false) {
  const shown = JSON.stringify([state.catalogueFor, state.catalogue, selection()]);
  if (shown === pickerShown && !force) return;
  pickerShown = shown;
  picker.hidden = false;
  $(".sp-count").textContent = `(${state.catalogue.length} stored)`;
  renderPicker($('[data-testid="series-list"]'), {
    catalogue: state.catalogue,
    selected: selection(),
    onChange: (checked) => {
      if (checked.length > MAX_SERIES) {
        say(`metrics: chart at most ${MAX_SERIES} series at once.`);
        showPicker(true);
        return;
      }
      chooseMetrics(checked);
    },
  });
}

/** Chart these metrics: a choice, so the URL names them (until then it leaves the default). */
function chooseMetrics(metrics) {
  state.metrics = metrics;
  if (state.messageFrom === "input") say("");
  writeUrl();
  showPicker();
  load();
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
  $('[data-testid="band-label"]').textContent = bandText(state.band);
  // The free range shows the window of a preset until the user edits it.
  const editing = [startInput, endInput].includes(document.activeElement);
  if (isLive() && rangeSelect.value !== "custom" && !editing) {
    startInput.value = toLocalInput(start);
    endInput.value = toLocalInput(end);
  }
  const metrics = selection();
  const empty = $('[data-testid="metrics-empty"]');
  empty.hidden = metrics.length > 0;
  empty.textContent = state.catalogue.length
    ? "Pick one or more series above to chart them."
    : `${state.resource} has no stored series yet.`;
  // Redrawing replaces the spans: keep keyboard focus on the same anomaly across live updates.
  const focused = document.activeElement?.dataset?.anomalyId;
  const focusedKey = document.activeElement?.closest?.("[data-key]")?.dataset.key;
  const charts = state.overlay && metrics.length > 1
    ? [{ key: "overlay", metrics }]
    : metrics.map((m) => ({ key: m, metrics: [m] }));
  const keep = charts.map((c) => chartFigure(grid, c.key));
  for (const figure of [...grid.children]) if (!keep.includes(figure)) figure.remove();
  keep.forEach((figure, i) => {
    if (grid.children[i] !== figure) grid.insertBefore(figure, grid.children[i] || null);
  });
  charts.forEach((c, i) =>
    drawFigure(keep[i], {
      metrics: c.metrics,
      charted: metrics,
      series: state.series,
      anomalies: state.anomalies,
      window: [start, end],
      tooltip,
    }),
  );
  if (focused && focusedKey) {
    grid
      .querySelector(`[data-key="${focusedKey}"] [data-anomaly-id="${focused}"]`)
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

/** A metrics:update for our resource while the range ends at "now": slide and append the
 * charted series it carries (the simulator's signals); the refetch brings the others. */
function appendLive(data) {
  const point = data?.nodes?.[state.resource];
  if (!point || !state.window || typeof data.ts !== "number") return;
  const span = state.window[1] - state.window[0];
  if (data.ts <= state.window[1]) return;
  state.window = [data.ts - span, data.ts];
  for (const metric of selection()) {
    const v = point[metric];
    if (typeof v !== "number") continue;
    const s = (state.series[metric] ??= { ts: [], values: [], expected: [], lower: [], upper: [] });
    s.ts.push(data.ts);
    s.values.push(v);
    // The band of a new point comes with the next refetch (the server computes it).
    for (const key of ["expected", "lower", "upper"]) (s[key] ??= []).push(null);
  }
  for (const s of Object.values(state.series)) {
    let drop = 0;
    while (drop < s.ts.length && s.ts[drop] < state.window[0]) drop += 1;
    if (drop) for (const key of ["ts", "values", "expected", "lower", "upper"]) s[key]?.splice(0, drop);
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

/** Make `resource` the one shown (reloading the list once when it is new to the page). */
async function choose(resource) {
  if (!state.resources.has(resource)) await loadResources().catch(() => {});
  if (!state.resources.has(resource)) {
    resourceInput.setAttribute("aria-invalid", "true");
    say(`resource: no resource named "${resource}"; pick one from the list.`);
    return false;
  }
  resourceInput.removeAttribute("aria-invalid");
  if (resource !== state.resource) state.metrics = null;
  state.resource = resource;
  return true;
}

async function apply() {
  const resource = resourceInput.value.trim();
  if (!resource) {
    resourceInput.setAttribute("aria-invalid", "true");
    say("resource: pick a resource.");
    return;
  }
  if (!(await choose(resource))) return;
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
  for (const input of [startInput, endInput]) input.removeAttribute("aria-invalid");
  say("");
  writeUrl();
  load({ catalogue: true });
}

/** A series picked in the finder: its resource, charted with it (added to the charts when the
 * resource is already shown). */
async function pickSeries({ resource_id: resource, metric }) {
  const same = resource === state.resource;
  resourceInput.value = resource;
  if (!(await choose(resource))) return;
  if (same) {
    const charted = selection();
    if (!charted.includes(metric)) charted.push(metric);
    state.metrics = charted.slice(-MAX_SERIES);
  } else {
    state.metrics = [metric];
  }
  say("");
  writeUrl();
  load({ catalogue: true });
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
    if (rangeSelect.value === "custom") {
      const [start, end] = state.window || [(state.clock ?? Date.now() / 1000) - 3600, state.clock];
      startInput.value = toLocalInput(start);
      endInput.value = toLocalInput(end ?? Date.now() / 1000);
      startInput.focus();
    } else if (resourceInput.value.trim()) {
      apply();
    }
  });
  // Editing From or To makes the range a free one, applied with Show (or Enter).
  for (const input of [startInput, endInput]) {
    input.addEventListener("input", () => {
      rangeSelect.value = "custom";
    });
  }
  overlayToggle.addEventListener("change", () => {
    state.overlay = overlayToggle.checked;
    writeUrl();
    scheduleRender();
  });
  initFinder({
    input: $("#series-find"),
    list: $("#series-results"),
    status: $('[data-testid="series-find-status"]'),
    onPick: pickSeries,
  });
  new ResizeObserver(() => scheduleRender()).observe(grid);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") tooltip.hide();
  });
}

async function main() {
  initNav("metrics");
  initTheme($('[data-testid="theme-toggle"]'), () => scheduleRender());
  for (const node of document.querySelectorAll("[data-zone]")) node.textContent = `(${localZone()})`;
  Object.assign(state, readUrl(location.search));
  syncControls();
  wire();
  try {
    await loadResources();
  } catch (err) {
    say(`Resources could not be loaded: ${err.message}`, "load");
    return;
  }
  if (state.resource) {
    const metrics = state.metrics;
    if (await choose(state.resource)) {
      state.metrics = metrics;
      await load();
    } else {
      state.resource = null;
    }
  }
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
