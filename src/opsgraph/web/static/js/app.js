// Dashboard entry point: loads the graph and alerts, follows the live feed, and wires the graph
// view, alert list, node panel and fault form together. Exposes `window.opsgraph` for tests.

import { AlertList } from "./alerts.js";
import { LiveConnection, api } from "./api.js";
import { FaultForm } from "./faults.js";
import { ExplainView } from "./explain.js";
import { el, formatDateTime, formatTime, timeZoneLabel } from "./format.js";
import { GraphView } from "./graph.js";
import { NodePanel } from "./panel.js";
import { KINDS, SEVERITIES, kindInfo, legendSwatch } from "./shapes.js";
import { initNav } from "./nav.js";
import { initTheme } from "./theme.js";

const $ = (selector) => document.querySelector(selector);

const state = {
  nodes: new Map(), // id -> node record from /graph, kept current by the live feed
  edges: [],
  simTs: null,
  graphReady: false,
  connection: "connecting",
  selected: null,
  version: null,
  counts: { low: 0, medium: 0, high: 0, critical: 0 },
  palette: null,
};

const simNow = () => state.simTs;
const nodeName = (id) => state.nodes.get(id)?.name || id;

// ---- components -----------------------------------------------------------------------------

const graph = new GraphView($("[data-testid=graph-canvas]"), {
  tooltip: $(".graph-tooltip"),
  pulseLayer: $(".pulse-layer"),
  onSelect: (id, opts) => selectNode(id, opts),
  onReady: () => {
    state.readyAt = performance.now();
    state.graphReady = true;
    document.body.dataset.graphReady = "true";
  },
});

const panel = new NodePanel($("[data-testid=node-panel]"), {
  simNow,
  onSelect: (id) => selectNode(id, { center: true }),
  onClose: () => {
    selectNode(null);
    graph.canvas.focus();
  },
  onExplain: (anomalyId) => explanation.show(anomalyId),
});

const explanation = new ExplainView($("[data-testid=explain]"), {
  nodeName,
  onSelect: (id) => selectNode(id, { center: true, keepExplanation: true }),
  onPath: (ids) => graph.setPath(ids),
});

const alerts = new AlertList($("[data-testid=alert-list]"), {
  empty: $(".alerts-empty"),
  filter: $("#alert-filter"),
  nodeName,
  simNow,
  onSelect: (id) => selectNode(id, { center: true, focusPanel: true }),
});

const faults = new FaultForm($("[data-testid=fault-form]"), $(".active-faults ul"), {
  nodeName,
  simNow,
  onSelect: (id) => selectNode(id, { center: true }),
  onInjected: () => scheduleCounts(),
});

initNav("dashboard");
initTheme($("[data-testid=theme-toggle]"), (palette) => {
  state.palette = palette;
  graph.setPalette(palette);
  panel.setPalette(palette);
  renderLegend();
});

// ---- selection --------------------------------------------------------------------------------

function neighbours(id) {
  const pick = (ids) =>
    ids.filter((n) => state.nodes.has(n)).map((n) => {
      const node = state.nodes.get(n);
      return { id: n, name: node.name, severity: node.severity, anomalous: node.anomalous };
    });
  const out = { calls: [], calledBy: [], members: [], groups: [] };
  for (const e of state.edges) {
    if (e.kind === "member") {
      if (e.source === id) out.members.push(e.target);
      if (e.target === id) out.groups.push(e.source);
    } else {
      if (e.source === id) out.calls.push(e.target);
      if (e.target === id) out.calledBy.push(e.source);
    }
  }
  return { calls: pick(out.calls), calledBy: pick(out.calledBy), members: pick(out.members), groups: pick(out.groups) };
}

function selectNode(id, { center = false, focusPanel = false, keepExplanation = false } = {}) {
  const node = id ? state.nodes.get(id) : null;
  if (!keepExplanation && (!node || id !== state.selected)) explanation.clear();
  state.selected = node ? id : null;
  if (node) {
    panel.open(node, neighbours(id));
    graph.setInsets({ right: panel.root.offsetWidth + 20 });
    graph.select(id, { center });
    faults.suggestNode(id);
    if (focusPanel) panel.focus();
    history.replaceState(null, "", `#resource=${encodeURIComponent(id)}`);
  } else {
    graph.setInsets({ right: 0 });
    graph.select(null);
    panel.close();
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }
}

// ---- data -------------------------------------------------------------------------------------

function advanceClock(ts) {
  if (typeof ts !== "number" || !Number.isFinite(ts)) return;
  if (state.simTs !== null && ts <= state.simTs) return;
  state.simTs = ts;
  const clock = $("[data-testid=sim-clock]");
  clock.querySelector("time").textContent = formatTime(ts);
  clock.querySelector("time").setAttribute("datetime", new Date(ts * 1000).toISOString());
  clock.title = `Pipeline time (the newest sample): ${formatDateTime(ts)}, ${timeZoneLabel()}`;
  // Faults end in simulated time: drop finished ones from the list about once a second.
  const now = performance.now();
  if (now - (state.faultsRenderedAt || 0) > 1000) {
    state.faultsRenderedAt = now;
    faults.render();
  }
}

function applyGraph(g) {
  const previousIds = [...state.nodes.keys()].join("\u0001");
  state.nodes = new Map((g.nodes || []).map((n) => [n.id, { ...n }]));
  state.edges = g.edges || [];
  advanceClock(g.ts);
  graph.setData(
    [...state.nodes.values()].map(({ id, kind, name, region, tags, severity, anomalous, score }) => ({
      id,
      kind,
      name,
      region,
      tags,
      severity,
      anomalous,
      score,
    })),
    state.edges,
  );
  if ([...state.nodes.keys()].join("\u0001") !== previousIds) {
    renderFilterOptions();
    applyFilter();
    renderNodeOptions();
    renderLegend();
    alerts.refreshNames();
  }
  if (state.selected) {
    if (state.nodes.has(state.selected)) panel.updateState(state.nodes.get(state.selected));
    else selectNode(null);
  }
  $("[data-testid=graph-status]").hidden = state.nodes.size > 0;
  if (!state.nodes.size) $("[data-testid=graph-status]").textContent = "The estate has no resources yet.";
  renderSummary();
}

function applyNodeStates(updates) {
  for (const u of updates) {
    const node = state.nodes.get(u.id);
    if (!node) continue;
    Object.assign(node, u);
    if (u.id === state.selected) panel.updateState(node);
  }
  graph.updateNodes(updates);
  renderSummary();
}

function applyMetrics({ ts, nodes }) {
  advanceClock(ts);
  for (const [id, values] of Object.entries(nodes || {})) {
    const node = state.nodes.get(id);
    if (!node) continue;
    const { score, ...metrics } = values;
    node.metrics = { ...node.metrics, ...metrics };
    if (typeof score === "number") node.score = score;
    if (id === state.selected) panel.appendMetrics(ts, values);
  }
}

function applyAnomaly(a, { fresh }) {
  if (!a || a.id === undefined) return;
  const isNew = alerts.upsert(a, { fresh });
  panel.upsertAnomaly(a);
  if (isNew && a.status !== "resolved" && a.severity in state.counts) {
    state.counts[a.severity] += 1;
    renderCounts();
  }
  scheduleCounts();
}

async function loadGraph() {
  const status = $("[data-testid=graph-status]");
  for (;;) {
    try {
      applyGraph(await api.graph());
      return;
    } catch (err) {
      status.hidden = false;
      status.textContent = `Could not load the graph (${err.message}). Retrying…`;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

let graphReloadTimer = null;
function scheduleGraphReload() {
  // Topology changes come in bursts (a registration per batch): reload once they settle.
  clearTimeout(graphReloadTimer);
  graphReloadTimer = setTimeout(() => loadGraph(), 500);
}

async function loadAnomalies() {
  const page = await api.anomalies({ limit: 50 });
  const items = page?.items || [];
  alerts.merge(items, { highlight: state.alertsLoaded === true });
  for (const a of items) panel.upsertAnomaly(a);
  state.alertsLoaded = true;
}

async function refreshCounts() {
  const stats = await api.call("GET", "/anomalies/stats");
  for (const s of SEVERITIES) state.counts[s] = stats.open_by_severity?.[s] ?? 0;
  const [open, acked] = await Promise.all(
    ["open", "acknowledged"].map((status) => api.call("GET", "/incidents", { params: { status, limit: 1 } })),
  );
  state.incidents = (open.total ?? 0) + (acked.total ?? 0);
  // "Today" on the estate's clock: the simulated day when the simulator runs.
  const now = state.simTs ?? Date.now() / 1000;
  const midnight = Math.floor(now / 86400) * 86400;
  const actions = await api.call("GET", "/events", {
    params: { kind: "action.applied", start: midnight, limit: 1 },
  });
  state.actionsToday = actions.total ?? 0;
  renderCounts();
}

// ---- the graph filter -------------------------------------------------------------------------

const filterForm = $("[data-testid=graph-filter]");

function renderFilterOptions() {
  const fill = (select, values) => {
    const current = select.value;
    select.replaceChildren(el("option", { value: "" }, "all"));
    for (const v of [...values].sort()) select.append(el("option", { value: v }, v));
    if (values.has(current)) select.value = current;
  };
  const nodes = [...state.nodes.values()];
  fill(filterForm.kind, new Set(nodes.map((n) => n.kind)));
  fill(filterForm.region, new Set(nodes.map((n) => n.region).filter(Boolean)));
}

function applyFilter() {
  const kind = filterForm.kind.value;
  const region = filterForm.region.value;
  const [tagKey, tagValue] = filterForm.tag.value.trim().split("=").map((p) => p?.trim());
  const active = Boolean(kind || region || tagKey);
  const keep = active
    ? (n) =>
        (!kind || n.kind === kind) &&
        (!region || n.region === region) &&
        (!tagKey || (tagKey in (n.tags || {}) && (!tagValue || n.tags[tagKey] === tagValue)))
    : null;
  const shown = graph.setFilter(keep);
  $("[data-testid=filter-count]").textContent = active ? `${shown} of ${state.nodes.size} shown` : "";
}

filterForm.addEventListener("input", () => applyFilter());
filterForm.addEventListener("submit", (e) => e.preventDefault());

let countsTimer = null;
function scheduleCounts(delay = 1500) {
  // Throttled, not debounced: a steady stream of anomalies must not postpone it forever.
  if (countsTimer !== null) return;
  countsTimer = setTimeout(() => {
    countsTimer = null;
    refreshCounts().catch(() => {});
  }, delay);
}

async function resync() {
  await Promise.allSettled([loadGraph(), loadAnomalies(), refreshCounts(), faults.refresh()]);
}

// ---- rendering --------------------------------------------------------------------------------

function renderCounts() {
  $("[data-testid=count-resources]").textContent = String(state.nodes.size);
  if (state.incidents !== undefined) $("[data-testid=count-incidents]").textContent = String(state.incidents);
  if (state.actionsToday !== undefined) $("[data-testid=count-actions]").textContent = String(state.actionsToday);
  for (const s of SEVERITIES) {
    const cell = $(`[data-testid=count-${s}]`);
    cell.textContent = String(state.counts[s]);
    cell.closest(".counter").classList.toggle("zero", state.counts[s] === 0);
  }
}

let summaryTimer = null;
function renderSummary() {
  renderCounts();
  if (summaryTimer) return;
  // The canvas's text alternative: cheap to build, but no need to redo it every message.
  summaryTimer = setTimeout(() => {
    summaryTimer = null;
    const anomalous = [...state.nodes.values()].filter((n) => n.anomalous);
    const names = anomalous.slice(0, 5).map((n) => `${n.name || n.id} (${n.severity})`);
    graph.canvas.setAttribute(
      "aria-label",
      `Resource graph: ${state.nodes.size} resources, ${anomalous.length} anomalous` +
        (names.length ? `: ${names.join(", ")}${anomalous.length > 5 ? ", …" : ""}.` : ".") +
        " Use the Find box or press n to go to the next anomalous resource.",
    );
  }, 500);
}

function renderConnection(conn) {
  state.connection = conn;
  const box = $("[data-testid=conn-state]");
  box.dataset.state = conn;
  const labels = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", polling: "polling" };
  box.querySelector(".conn-label").textContent = labels[conn] || conn;
  box.title =
    conn === "polling"
      ? "The live connection is down; refreshing over HTTP every few seconds."
      : conn === "live"
        ? "Receiving live updates."
        : "Trying to reach the server.";
}

function renderNodeOptions() {
  const list = $("#node-options");
  const nodes = [...state.nodes.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  list.replaceChildren(
    ...nodes.map((n) => el("option", { value: n.id, label: n.name && n.name !== n.id ? `${n.name} · ${n.kind}` : n.kind })),
  );
}

function renderLegend() {
  if (!state.palette) return;
  const present = new Set([...state.nodes.values()].map((n) => (n.kind in KINDS ? n.kind : "generic")));
  const kinds = Object.keys(KINDS).filter((k) => present.size === 0 || present.has(k));
  const list = $(".legend-kinds");
  list.replaceChildren(
    ...kinds.map((k) => el("li", { "data-kind": k }, legendSwatch(k, state.palette, 16), kindInfo(k).label)),
  );
}

// ---- wiring -----------------------------------------------------------------------------------

function onMessage({ type, data }) {
  switch (type) {
    case "hello":
      state.version = data?.version ?? null;
      if (state.version) $(".brand").title = `opsgraph ${state.version}`;
      break;
    case "graph:update":
      applyNodeStates(data?.nodes || []);
      if (data?.topology) scheduleGraphReload();
      break;
    case "fault:new":
      faults.add(data);
      break;
    case "metrics:update":
      applyMetrics(data || {});
      break;
    default:
      // anomaly:new and any later anomaly:* message carry an anomaly record.
      if (type.startsWith("anomaly:")) applyAnomaly(data, { fresh: type === "anomaly:new" });
  }
}

const live = new LiveConnection({
  onMessage,
  onState: renderConnection,
  onResync: () => resync(),
  poll: async () => {
    const [g, page] = await Promise.all([api.graph(), api.anomalies({ limit: 50 })]);
    applyGraph(g);
    alerts.merge(page?.items || []);
    for (const a of page?.items || []) panel.upsertAnomaly(a);
    refreshCounts().catch(() => {});
  },
});

function bindControls() {
  const find = $("[data-testid=find-form]");
  const input = find.elements.namedItem("q");
  const go = () => {
    const q = input.value.trim();
    if (!q) return;
    const lower = q.toLowerCase();
    const match =
      state.nodes.get(q) ||
      [...state.nodes.values()].find((n) => (n.name || "").toLowerCase() === lower) ||
      [...state.nodes.values()].find((n) => `${n.id} ${n.name || ""}`.toLowerCase().includes(lower));
    input.setAttribute("aria-invalid", String(!match));
    if (match) selectNode(match.id, { center: true, focusPanel: true });
  };
  find.addEventListener("submit", (e) => {
    e.preventDefault();
    go();
  });
  input.addEventListener("change", () => {
    if (state.nodes.has(input.value.trim())) go();
  });
  input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  document.querySelectorAll("[data-zoom]").forEach((b) =>
    b.addEventListener("click", () => {
      const z = b.dataset.zoom;
      if (z === "fit") graph.fitView(true);
      else graph.zoomBy(z === "in" ? 1.3 : 1 / 1.3);
    }),
  );
  // The open legend covers the bottom-left corner: fit the graph above it.
  const legend = $("[data-testid=legend]");
  const syncLegend = () => graph.setInsets({ bottom: legend.open ? legend.offsetHeight + 12 : 0 });
  legend.addEventListener("toggle", syncLegend);
  new ResizeObserver(syncLegend).observe(legend);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state.selected && !e.defaultPrevented) selectNode(null);
  });
}

function exposeTestHooks() {
  const hooks = Object.freeze({
    get graphReady() {
      return state.graphReady && state.nodes.size > 0;
    },
    get nodeCount() {
      return state.nodes.size;
    },
    get edgeCount() {
      return state.edges.length;
    },
    /** True once the layout has cooled and no camera animation runs (positions are stable). */
    get settled() {
      return state.graphReady && !graph.layout.running && !graph.tween;
    },
    get connection() {
      return state.connection;
    },
    get selectedId() {
      return state.selected;
    },
    get alertCount() {
      return alerts.size;
    },
    /** Resource ids of the cascade path drawn on the graph (root first). */
    get cascadePath() {
      return graph.pathIds || [];
    },
    /** Milliseconds from navigation start to the first full draw of the graph. */
    get readyAt() {
      return state.readyAt ?? null;
    },
    /** Median milliseconds of one full redraw of the graph, over `n` redraws. */
    measureDraw(n = 20) {
      const times = [];
      for (let i = 0; i < n; i += 1) {
        const t = performance.now();
        graph.draw();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { median: times[Math.floor(n / 2)], max: times[n - 1] };
    },
    nodeState(id) {
      const n = state.nodes.get(id);
      return n ? { severity: n.severity, anomalous: Boolean(n.anomalous), score: n.score ?? null } : null;
    },
    /** The boxes [x0, y0, x1, y1] of the node labels of the last draw (canvas pixels). */
    labelBoxes() {
      return graph.labelBoxes || [];
    },
    /** Page coordinates of a node's centre (for clicking it in a test), or null. */
    nodePosition(id) {
      return graph.screenPosition(id);
    },
  });
  Object.defineProperty(window, "opsgraph", { value: hooks, enumerable: true });
}

async function main() {
  exposeTestHooks();
  bindControls();
  renderConnection("connecting");
  live.start();
  await Promise.allSettled([
    loadGraph(),
    loadAnomalies(),
    refreshCounts(),
    faults.refresh(),
  ]);
  const wanted = decodeURIComponent((location.hash.match(/^#resource=(.+)$/) || [])[1] || "");
  if (wanted && state.nodes.has(wanted)) selectNode(wanted, { center: true });
  // Anomalies resolve without a message: re-read the counts and the newest page now and then.
  setInterval(() => {
    refreshCounts().catch(() => {});
    loadAnomalies().catch(() => {});
  }, 10000);
  setInterval(() => faults.refresh(), 10000);
}

main();
