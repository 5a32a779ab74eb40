// The live alert list: newest anomaly on top, a severity badge, the resource, the metric, value
// against expected and the (simulated) time. Clicking an alert selects its resource.

import { el, formatDateTime, formatMetric, formatTime, isoTime, metricLabel, relativeTime } from "./format.js";
import { SEVERITY_RANK } from "./shapes.js";

const MAX_ITEMS = 200;
const FRESH_MS = 4000;

export class AlertList {
  /**
   * list: the <ol>; empty: the "no alerts" note; filter: a <select> of minimum severities;
   * nodeName(id): display name of a resource; simNow(): latest simulated time;
   * onSelect(resourceId): an alert was activated.
   */
  constructor(list, { empty, filter, nodeName, simNow, onSelect }) {
    this.list = list;
    this.empty = empty;
    this.filter = filter;
    this.nodeName = nodeName;
    this.simNow = simNow;
    this.onSelect = onSelect;
    this.items = new Map(); // id -> {anomaly, li}
    this.minRank = 0;
    filter?.addEventListener("change", () => {
      this.minRank = SEVERITY_RANK[filter.value] ?? 0;
      for (const { anomaly, li } of this.items.values()) li.hidden = !this.visible(anomaly);
      this.updateEmpty();
    });
    list.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-resource-id]");
      if (button) this.onSelect(button.dataset.resourceId);
    });
    // Relative times ("3 min ago") age with the simulated clock.
    setInterval(() => this.refreshTimes(), 1000);
  }

  get size() {
    return this.items.size;
  }

  visible(a) {
    return (SEVERITY_RANK[a.severity] ?? 0) >= this.minRank;
  }

  /** Add or update one anomaly; `fresh` marks it as just arrived (a brief highlight). */
  upsert(a, { fresh = false } = {}) {
    const known = this.items.get(a.id);
    if (known) {
      const merged = { ...known.anomaly, ...a };
      const li = this.render(merged);
      known.li.replaceWith(li);
      this.items.set(a.id, { anomaly: merged, li });
      this.updateEmpty();
      return false;
    }
    const li = this.render(a);
    if (fresh) {
      li.classList.add("fresh");
      setTimeout(() => li.classList.remove("fresh"), FRESH_MS);
    }
    // Find the first item older than this one; usually the very first.
    let before = null;
    for (const { anomaly, li: other } of this.items.values()) {
      if (newestFirst(a, anomaly) < 0 && (!before || newestFirst(anomaly, before.anomaly) < 0)) {
        before = { anomaly, li: other };
      }
    }
    this.list.insertBefore(li, before ? before.li : null);
    this.items.set(a.id, { anomaly: a, li });
    this.trim();
    this.updateEmpty();
    return true;
  }

  /** Merge a page of anomalies (load, polling, resync): add the unknown ones, refresh the rest. */
  merge(anomalies, { highlight = true } = {}) {
    let added = 0;
    for (const a of [...anomalies].sort(newestFirst).reverse()) {
      const known = this.items.get(a.id);
      if (known && sameState(known.anomaly, a)) continue;
      if (this.upsert(a, { fresh: highlight && !known })) added += 1;
    }
    this.updateEmpty();
    return added;
  }

  /** A resource was renamed (graph reload): re-render its alerts. */
  refreshNames() {
    for (const [id, entry] of this.items) {
      const li = this.render(entry.anomaly);
      entry.li.replaceWith(li);
      this.items.set(id, { ...entry, li });
    }
  }

  trim() {
    if (this.items.size <= MAX_ITEMS) return;
    const sorted = [...this.items.values()].sort((a, b) => newestFirst(a.anomaly, b.anomaly));
    for (const { anomaly, li } of sorted.slice(MAX_ITEMS)) {
      li.remove();
      this.items.delete(anomaly.id);
    }
  }

  updateEmpty() {
    const shown = [...this.items.values()].some(({ li }) => !li.hidden);
    this.empty.hidden = shown;
    this.empty.textContent = this.items.size ? "No alerts at this severity." : "No anomalies yet.";
  }

  refreshTimes() {
    const now = this.simNow();
    for (const { anomaly, li } of this.items.values()) {
      const rel = li.querySelector(".alert-rel");
      if (rel) rel.textContent = relativeTime(anomaly.start_ts, now);
    }
  }

  render(a) {
    const name = this.nodeName(a.resource_id);
    const resolved = a.status === "resolved";
    const value = `${formatMetric(a.metric, a.value)} vs ${formatMetric(a.metric, a.expected)} expected`;
    const button = el(
      "button",
      {
        type: "button",
        className: "alert-btn",
        "data-resource-id": a.resource_id,
        "aria-label": `${a.severity} anomaly on ${name}: ${metricLabel(a.metric)} ${value}, at ${formatTime(a.start_ts)}${resolved ? ", resolved" : ""}. Show resource.`,
      },
      el("span", { className: `badge sev-${a.severity}`, "data-testid": "alert-severity" }, a.severity),
      el("span", { className: "alert-resource", title: a.resource_id }, name),
      el(
        "span",
        { className: "alert-detail" },
        el("span", { className: "alert-metric" }, metricLabel(a.metric)),
        ` ${value}`,
      ),
      el(
        "span",
        { className: "alert-when" },
        el("time", { datetime: isoTime(a.start_ts), title: formatDateTime(a.start_ts) }, formatTime(a.start_ts)),
        el("span", { className: "alert-rel" }, relativeTime(a.start_ts, this.simNow())),
        resolved ? el("span", { className: "alert-status" }, "resolved") : null,
      ),
    );
    const li = el(
      "li",
      {
        className: `alert sev-${a.severity}${resolved ? " resolved" : ""}`,
        "data-testid": "alert-item",
        "data-anomaly-id": a.id,
        "data-resource-id": a.resource_id,
        "data-severity": a.severity,
        "data-status": a.status,
      },
      button,
    );
    li.hidden = !this.visible(a);
    return li;
  }
}

function newestFirst(a, b) {
  return (b.start_ts ?? 0) - (a.start_ts ?? 0) || String(b.id).localeCompare(String(a.id), undefined, { numeric: true });
}

function sameState(a, b) {
  return a.status === b.status && a.severity === b.severity && a.last_ts === b.last_ts && a.end_ts === b.end_ts;
}
