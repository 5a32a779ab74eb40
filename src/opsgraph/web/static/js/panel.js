// The side panel for one selected resource: facts, tags, neighbours, live sparklines of the five
// health signals over the last ~2 h (simulated time) and the resource's recent anomalies.

import { api } from "./api.js";
import {
  CHART_METRICS,
  el,
  formatDateTime,
  formatMetric,
  formatTime,
  isoTime,
  metricLabel,
} from "./format.js";
import { kindInfo, legendSwatch } from "./shapes.js";
import { drawSparkline } from "./sparkline.js";

const WINDOW_S = 2 * 3600;
const MAX_ANOMALIES = 10;

export class NodePanel {
  /**
   * root: the panel element (see index.html); simNow(): latest simulated time or null;
   * onSelect(id): a neighbour was picked; onClose(): the close button or Escape;
   * onExplain(anomalyId): an anomaly's Explain button was pressed.
   */
  constructor(root, { simNow, onSelect, onClose, onExplain = () => {} }) {
    this.root = root;
    this.simNow = simNow;
    this.onSelect = onSelect;
    this.onClose = onClose;
    this.onExplain = onExplain;
    this.node = null;
    this.palette = null;
    this.series = {};
    this.anomalies = [];
    this.token = 0;
    this.drawRequested = false;
    this.q = (sel) => root.querySelector(sel);
    this.q("[data-action=close]").addEventListener("click", () => this.onClose());
    this.q(".node-anomalies").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-explain]");
      if (button) this.onExplain(Number(button.dataset.explain));
    });
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        this.onClose();
      }
    });
    this.buildCharts();
    new ResizeObserver(() => this.requestDraw()).observe(this.q(".charts"));
  }

  get openId() {
    return this.node ? this.node.id : null;
  }

  buildCharts() {
    this.charts = {};
    const box = this.q(".charts");
    for (const metric of CHART_METRICS) {
      const value = el("span", { className: "chart-value", "data-testid": "chart-value" }, "–");
      const range = el("span", { className: "chart-range" });
      const canvas = el("canvas", {
        role: "img",
        "aria-label": `${metricLabel(metric)}, last 2 hours`,
        "data-testid": "sparkline",
      });
      const figure = el(
        "figure",
        { className: "chart", "data-testid": "node-chart", "data-metric": metric },
        el("figcaption", {}, el("span", { className: "chart-name" }, metricLabel(metric)), value),
        canvas,
        range,
      );
      box.append(figure);
      this.charts[metric] = { figure, canvas, value, range };
    }
  }

  setPalette(palette) {
    this.palette = palette;
    if (this.node) this.renderHeader();
    this.requestDraw();
  }

  /** Show a resource. node: the full node record from /graph; neighbours: {calls, calledBy, members, groups}. */
  open(node, neighbours) {
    const same = this.node && this.node.id === node.id;
    this.node = node;
    this.neighbours = neighbours;
    this.root.hidden = false;
    this.root.dataset.resourceId = node.id;
    this.renderHeader();
    this.renderFacts();
    if (same) return;
    this.series = {};
    this.anomalies = [];
    this.renderAnomalies();
    this.root.classList.add("loading");
    this.requestDraw();
    this.load(node.id);
  }

  close() {
    this.node = null;
    this.token += 1;
    this.root.hidden = true;
    delete this.root.dataset.resourceId;
  }

  focus() {
    this.q("#node-title").focus();
  }

  async load(id) {
    const token = ++this.token;
    const end = this.simNow();
    const params = { metrics: CHART_METRICS };
    // No `end`: the feed may already be ahead of our clock, so take whatever is there.
    if (end !== null) params.start = end - WINDOW_S;
    const [metrics, anomalies] = await Promise.allSettled([
      api.metrics(id, params),
      api.anomalies({ resource_id: id, limit: MAX_ANOMALIES }),
    ]);
    if (token !== this.token) return; // another node was selected meanwhile
    this.root.classList.remove("loading");
    if (metrics.status === "fulfilled") {
      const series = metrics.value?.series || {};
      for (const metric of CHART_METRICS) {
        const s = series[metric] || { ts: [], values: [] };
        // Live points may have arrived before the history: keep those newer than it.
        const live = this.series[metric] || { ts: [], values: [] };
        const lastTs = s.ts.length ? s.ts[s.ts.length - 1] : -Infinity;
        const ts = [...s.ts];
        const values = [...s.values];
        live.ts.forEach((t, i) => {
          if (t > lastTs) {
            ts.push(t);
            values.push(live.values[i]);
          }
        });
        this.series[metric] = { ts, values };
      }
      this.root.querySelector(".charts-error").hidden = true;
    } else {
      const box = this.root.querySelector(".charts-error");
      box.textContent = `Metrics unavailable: ${metrics.reason?.message || "error"}`;
      box.hidden = false;
    }
    if (anomalies.status === "fulfilled") {
      const fresh = anomalies.value?.items || [];
      const known = new Map(this.anomalies.map((a) => [a.id, a]));
      for (const a of fresh) if (!known.has(a.id)) known.set(a.id, a);
      this.anomalies = [...known.values()].sort(newestFirst).slice(0, MAX_ANOMALIES);
      this.renderAnomalies();
    }
    this.requestDraw();
  }

  /** One step of the live feed for this node: {cpu, memory, ...}. */
  appendMetrics(ts, values) {
    if (!this.node || ts === null || ts === undefined) return;
    for (const metric of CHART_METRICS) {
      const v = values[metric];
      if (v === undefined) continue;
      const s = this.series[metric] || (this.series[metric] = { ts: [], values: [] });
      if (s.ts.length && ts <= s.ts[s.ts.length - 1]) continue;
      s.ts.push(ts);
      s.values.push(v);
      let drop = 0;
      while (drop < s.ts.length && s.ts[drop] < ts - WINDOW_S) drop += 1;
      if (drop) {
        s.ts.splice(0, drop);
        s.values.splice(0, drop);
      }
    }
    if (values.score !== undefined) this.node.score = values.score;
    this.requestDraw();
  }

  /** New or changed anomaly anywhere: keep it if it is about this node. */
  upsertAnomaly(a) {
    if (!this.node || a.resource_id !== this.node.id) return;
    const i = this.anomalies.findIndex((b) => b.id === a.id);
    if (i >= 0) this.anomalies[i] = { ...this.anomalies[i], ...a };
    else this.anomalies.unshift(a);
    this.anomalies = this.anomalies.sort(newestFirst).slice(0, MAX_ANOMALIES);
    this.renderAnomalies();
    this.requestDraw();
  }

  updateState(node) {
    if (!this.node || node.id !== this.node.id) return;
    Object.assign(this.node, node);
    this.renderHeader();
  }

  renderHeader() {
    const n = this.node;
    if (!n) return;
    this.q("#node-title").textContent = n.name || n.id;
    this.q(".node-id").textContent = n.id;
    // The Metrics page shows this resource over a longer range, with the expected band.
    let metricsLink = this.q('[data-testid="node-metrics-link"]');
    if (!metricsLink) {
      metricsLink = el("a", { className: "node-metrics-link", dataset: { testid: "node-metrics-link" } });
      metricsLink.textContent = "Metrics and expected band ›";
      this.q(".panel-title").append(metricsLink);
    }
    metricsLink.href = `./metrics.html?resource=${encodeURIComponent(n.id)}&range=6h`;
    const swatch = this.q(".panel-swatch");
    if (this.palette) swatch.replaceChildren(legendSwatch(n.kind, this.palette, 26));
    const badge = this.q(".node-severity");
    const sev = n.anomalous ? n.severity : "ok";
    badge.className = `badge node-severity sev-${sev}`;
    badge.textContent = n.anomalous ? `${n.severity} anomaly` : "normal";
    badge.dataset.severity = n.severity || "low";
    badge.dataset.anomalous = String(Boolean(n.anomalous));
    const score = this.q(".node-score");
    score.textContent = typeof n.score === "number" ? `score ${n.score.toFixed(2)}` : "";
  }

  renderFacts() {
    const n = this.node;
    const facts = this.q(".node-facts");
    facts.replaceChildren();
    const add = (term, value) => {
      if (value === undefined || value === null || value === "") return;
      facts.append(el("dt", {}, term), el("dd", {}, value));
    };
    add("Kind", `${kindInfo(n.kind).label} (${n.kind})`);
    add("Region", n.region);
    add("Provider", n.provider);
    const tags = this.q(".tags");
    tags.replaceChildren();
    const entries = Object.entries(n.tags || {});
    for (const [key, value] of entries) tags.append(el("li", { className: "tag" }, `${key}=${value}`));
    this.q(".tags-empty").hidden = entries.length > 0;

    const links = this.q(".neighbours");
    links.replaceChildren();
    const groups = [
      ["Calls", this.neighbours?.calls],
      ["Called by", this.neighbours?.calledBy],
      ["Members", this.neighbours?.members],
      ["Member of", this.neighbours?.groups],
    ];
    for (const [label, list] of groups) {
      if (!list || !list.length) continue;
      const items = list.slice(0, 12).map((m) =>
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", className: `link-btn sev-text sev-${m.anomalous ? m.severity : "ok"}`, "data-node": m.id },
            m.name || m.id,
          ),
        ),
      );
      if (list.length > 12) items.push(el("li", { className: "muted" }, `+${list.length - 12} more`));
      links.append(el("dt", {}, label), el("dd", {}, el("ul", { className: "inline-list" }, ...items)));
    }
    links.querySelectorAll("button[data-node]").forEach((b) =>
      b.addEventListener("click", () => this.onSelect(b.dataset.node)),
    );
  }

  renderAnomalies() {
    const list = this.q(".node-anomalies");
    list.replaceChildren();
    for (const a of this.anomalies) {
      list.append(
        el(
          "li",
          { className: `node-anomaly status-${a.status}`, "data-anomaly-id": a.id },
          el("span", { className: `badge sev-${a.severity}` }, a.severity),
          el("span", { className: "na-metric" }, metricLabel(a.metric)),
          el("span", { className: "na-value" }, `${formatMetric(a.metric, a.value)} vs ${formatMetric(a.metric, a.expected)}`),
          el("time", { datetime: isoTime(a.start_ts), title: formatDateTime(a.start_ts) }, formatTime(a.start_ts)),
          a.status === "resolved" ? el("span", { className: "muted" }, "resolved") : null,
          el(
            "button",
            {
              type: "button",
              className: "link-btn na-explain",
              "data-explain": a.id,
              "data-testid": "explain-btn",
              "aria-label": `Explain the ${metricLabel(a.metric)} anomaly`,
            },
            "Explain",
          ),
        ),
      );
    }
    this.q(".node-anomalies-empty").hidden = this.anomalies.length > 0;
  }

  requestDraw() {
    if (this.drawRequested) return;
    this.drawRequested = true;
    requestAnimationFrame(() => {
      this.drawRequested = false;
      this.drawCharts();
    });
  }

  drawCharts() {
    if (!this.node || !this.palette) return;
    let end = this.simNow();
    for (const s of Object.values(this.series)) {
      if (s.ts.length) end = Math.max(end ?? -Infinity, s.ts[s.ts.length - 1]);
    }
    if (end === null || end === undefined || !Number.isFinite(end)) return;
    const start = end - WINDOW_S;
    for (const metric of CHART_METRICS) {
      const chart = this.charts[metric];
      const s = this.series[metric] || { ts: [], values: [] };
      const windows = this.anomalies
        .filter((a) => a.metric === metric)
        .map((a) => ({ start: a.start_ts, end: a.end_ts ?? a.last_ts ?? end, severity: a.severity }));
      drawSparkline(chart.canvas, s, { start, end, palette: this.palette, windows });
      const last = s.values.length ? s.values[s.values.length - 1] : null;
      chart.value.textContent = formatMetric(metric, last);
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < s.values.length; i += 1) {
        if (s.ts[i] < start || !Number.isFinite(s.values[i])) continue;
        lo = Math.min(lo, s.values[i]);
        hi = Math.max(hi, s.values[i]);
      }
      chart.range.textContent = Number.isFinite(lo)
        ? `min ${formatMetric(metric, lo)} · max ${formatMetric(metric, hi)}`
        : "no data yet";
      chart.figure.dataset.points = String(s.values.length);
      chart.canvas.setAttribute(
        "aria-label",
        `${metricLabel(metric)} over the last 2 hours: now ${formatMetric(metric, last)}, ${chart.range.textContent}`,
      );
    }
  }
}

function newestFirst(a, b) {
  return (b.start_ts ?? 0) - (a.start_ts ?? 0) || String(b.id).localeCompare(String(a.id));
}
