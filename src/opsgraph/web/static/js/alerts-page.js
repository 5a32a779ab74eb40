// The Alerts page: every anomaly paged on the server, by severity tab, status and a search of
// resource id or metric, with operator actions and the explanation; new arrivals are announced.

import { api, LiveConnection } from "./api.js";
import { ExplainDialog } from "./explain-dialog.js";
import { el, formatDateTime, formatMetric, isoTime, metricLabel } from "./format.js";
import { initNav } from "./nav.js";
import {
  isOperator,
  Pager,
  say,
  severityBadge,
  showConnection,
  statusPill,
  throttle,
} from "./pages.js";
import { initTheme } from "./theme.js";

const SEVERITIES = ["critical", "high", "medium", "low"];
const STATUSES = ["open", "acknowledged", "resolved", "all"];
const SIZES = [10, 25, 50, 100];
const SEARCH_DELAY_MS = 300;

const $ = (sel) => document.querySelector(sel);

/** Filters and page, kept in the URL so a view can be shared and survives a reload. */
function readState() {
  const p = new URLSearchParams(location.search);
  const size = Number(p.get("size"));
  const offset = Number(p.get("offset"));
  return {
    severity: SEVERITIES.includes(p.get("severity")) ? p.get("severity") : "",
    status: STATUSES.includes(p.get("status")) ? p.get("status") : "open",
    q: (p.get("q") || "").slice(0, 200),
    size: SIZES.includes(size) ? size : 25,
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

function writeState(state) {
  const p = new URLSearchParams();
  if (state.severity) p.set("severity", state.severity);
  if (state.status !== "open") p.set("status", state.status);
  if (state.q) p.set("q", state.q);
  if (state.size !== 25) p.set("size", String(state.size));
  if (state.offset) p.set("offset", String(state.offset));
  const text = p.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

/** Why the anomaly is quiet or waiting: muted by a silence, a duplicate, not yet grouped. */
function reasonOf(a) {
  if (a.reason) return a.reason;
  if (a.duplicate_of) return `duplicate of anomaly #${a.duplicate_of}`;
  if (a.silence_id) return `silenced by silence #${a.silence_id}`;
  return "";
}

class AlertsPage {
  constructor() {
    this.state = readState();
    this.operator = false;
    this.rows = new Map(); // id -> {anomaly, tr}
    this.fresh = 0; // arrivals matching the filters since the page was loaded
    this.loadToken = 0;
    this.tbody = $('[data-testid="alerts-rows"]');
    this.empty = $('[data-testid="alerts-empty"]');
    this.message = $('[data-testid="alerts-message"]');
    this.notice = $('[data-testid="new-notice"]');
    this.tabs = [...document.querySelectorAll('[role="tab"]')];
    this.status = $("#alert-status");
    this.search = $("#alert-search");
    this.size = $("#page-size");
    this.pager = new Pager($(".pager"), (offset) => this.go({ offset }));
    this.explain = new ExplainDialog($('[data-testid="explain-panel"]'));
    this.refreshStats = throttle(() => this.loadStats(), 2000);
    this.stats = null;
  }

  async start() {
    initTheme($('[data-testid="theme-toggle"]'), () => undefined);
    await initNav("alerts");
    this.operator = await isOperator();
    this.bind();
    this.syncControls();
    await Promise.all([this.load(), this.loadStats()]);
    this.live = new LiveConnection({
      onMessage: (m) => this.onMessage(m),
      onState: (s) => {
        showConnection($('[data-testid="conn-state"]'), s);
        document.body.dataset.connection = s;
      },
      onResync: () => {
        this.loadStats();
        this.showNotice(true);
      },
      poll: () => this.loadStats(),
    });
    this.live.start();
    document.body.dataset.ready = "true";
  }

  bind() {
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.go({ severity: tab.dataset.severity, offset: 0 }));
      tab.addEventListener("keydown", (e) => {
        const i = this.tabs.indexOf(tab);
        const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
        let next = null;
        if (step) next = this.tabs[(i + step + this.tabs.length) % this.tabs.length];
        if (e.key === "Home") next = this.tabs[0];
        if (e.key === "End") next = this.tabs[this.tabs.length - 1];
        if (!next) return;
        e.preventDefault();
        next.focus();
        next.click();
      });
    }
    this.status.addEventListener("change", () => this.go({ status: this.status.value, offset: 0 }));
    this.size.addEventListener("change", () => this.go({ size: Number(this.size.value), offset: 0 }));
    let timer = null;
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      // The rows shown no longer answer the search typed: say so until the new page comes.
      document.body.dataset.loading = "true";
      timer = setTimeout(() => this.go({ q: this.search.value.trim(), offset: 0 }), SEARCH_DELAY_MS);
    });
    $('[data-testid="alerts-toolbar"]').addEventListener("submit", (e) => {
      e.preventDefault();
      clearTimeout(timer);
      this.go({ q: this.search.value.trim(), offset: 0 });
    });
    $('[data-testid="new-refresh"]').addEventListener("click", () => this.go({ offset: 0 }));
    this.tbody.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (button) this.act(button);
    });
  }

  syncControls() {
    for (const tab of this.tabs) {
      const on = tab.dataset.severity === this.state.severity;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    this.status.value = this.state.status;
    this.size.value = String(this.state.size);
    if (document.activeElement !== this.search) this.search.value = this.state.q;
  }

  go(change) {
    this.state = { ...this.state, ...change };
    writeState(this.state);
    this.syncControls();
    this.renderCounts();
    this.load();
  }

  params() {
    const s = this.state;
    return {
      severity: s.severity || undefined,
      status: s.status === "all" ? undefined : s.status,
      q: s.q || undefined,
      limit: s.size,
      offset: s.offset,
    };
  }

  async load() {
    const token = ++this.loadToken;
    document.body.dataset.loading = "true";
    let page;
    try {
      page = await api.anomalies(this.params());
    } catch (err) {
      if (token !== this.loadToken) return;
      delete document.body.dataset.loading;
      say(this.message, `Could not load alerts: ${err.message}`, "error");
      return;
    }
    if (token !== this.loadToken) return;
    // Past the end (filters narrowed, alerts resolved away): show the last page instead.
    if (!page.items.length && page.total > 0 && this.state.offset > 0) {
      const last = Math.floor((page.total - 1) / this.state.size) * this.state.size;
      this.go({ offset: last });
      return;
    }
    delete document.body.dataset.loading;
    if (this.message.classList.contains("error")) say(this.message, "");
    this.fresh = 0;
    this.showNotice(false);
    this.render(page);
  }

  render(page) {
    this.rows.clear();
    this.tbody.replaceChildren(...page.items.map((a) => this.row(a)));
    this.empty.hidden = page.items.length > 0;
    this.pager.show(page);
    document.body.dataset.query = JSON.stringify(this.params());
  }

  row(a) {
    const value = el(
      "td",
      { className: "num value" },
      el("strong", {}, formatMetric(a.metric, a.value)),
      el("span", { className: "muted" }, ` vs ${formatMetric(a.metric, a.expected)}`),
    );
    const incident = a.incident_id
      ? el("a", { href: `./incidents.html?id=${a.incident_id}`, "data-testid": "incident-link" }, `#${a.incident_id}`)
      : el("span", { className: "muted" }, "–");
    const reason = reasonOf(a);
    const tr = el(
      "tr",
      { "data-testid": "alert-row", "data-anomaly-id": a.id, "data-status": a.status, "data-resource-id": a.resource_id },
      el("td", { className: "time" }, el("time", { datetime: isoTime(a.last_ts) }, formatDateTime(a.last_ts))),
      el("td", {}, severityBadge(a.severity)),
      el("td", { className: "resource", "data-testid": "alert-resource" }, a.resource_id),
      el("td", {}, metricLabel(a.metric)),
      value,
      el("td", { className: "num" }, (a.max_score ?? a.score).toFixed(2)),
      el("td", {}, statusPill(a.status)),
      el("td", {}, incident),
      el("td", { className: "reason", title: reason || null }, reason || el("span", { className: "muted" }, "–")),
      el("td", { className: "actions" }, this.actions(a)),
    );
    this.rows.set(a.id, { anomaly: a, tr });
    return tr;
  }

  actions(a) {
    const box = el("div", { className: "row-actions" });
    const who = `${a.resource_id} ${metricLabel(a.metric)}`;
    const button = (action, label, title, needsOperator = true) => {
      const b = el(
        "button",
        { type: "button", className: "btn small", "data-action": action, "data-testid": `action-${action}`, "aria-label": `${title} ${who}`, title },
        label,
      );
      if (needsOperator) {
        b.dataset.needsRole = "operator";
        b.hidden = !this.operator;
      }
      return b;
    };
    box.append(button("explain", "Explain", "Explain", false));
    if (a.status === "open") box.append(button("acknowledge", "Ack", "Acknowledge"));
    if (a.status !== "resolved") box.append(button("resolve", "Resolve", "Resolve"));
    if (a.status !== "open") box.append(button("reopen", "Reopen", "Reopen"));
    box.append(button("false-positive", "False +", "Mark false positive"));
    return box;
  }

  async act(button) {
    const tr = button.closest("tr");
    const id = Number(tr.dataset.anomalyId);
    const known = this.rows.get(id);
    if (!known) return;
    const action = button.dataset.action;
    if (action === "explain") {
      this.explain.show(known.anomaly, button);
      return;
    }
    button.disabled = true;
    try {
      if (action === "false-positive") {
        const out = await api.call("POST", `/anomalies/${id}/feedback`, { body: { verdict: "false_positive" } });
        tr.dataset.feedback = "false_positive";
        const threshold = out?.series_threshold;
        const note = typeof threshold === "number" ? `; its series' threshold is now ${threshold.toFixed(2)}` : "";
        say(this.message, `Anomaly #${id} marked false positive${note}.`);
      } else {
        const updated = await api.call("PATCH", `/anomalies/${id}/${action}`, { body: {} });
        this.replaceRow(updated);
        say(this.message, `Anomaly #${id} is now ${updated.status}.`);
      }
      this.refreshStats();
    } catch (err) {
      say(this.message, `Anomaly #${id}: ${err.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  /** Redraw one row in place (the page does not move under the user). */
  replaceRow(a) {
    const known = this.rows.get(a.id);
    if (!known) return;
    const focused = document.activeElement?.closest?.("tr") === known.tr ? document.activeElement.dataset.action : null;
    const tr = this.row({ ...known.anomaly, ...a });
    known.tr.replaceWith(tr);
    if (focused) (tr.querySelector(`[data-action="${focused}"]`) || tr.querySelector("button"))?.focus();
  }

  matches(a) {
    const s = this.state;
    if (s.severity && a.severity !== s.severity) return false;
    if (s.status !== "all" && a.status !== s.status) return false;
    if (s.q) {
      const q = s.q.toLowerCase();
      if (!a.resource_id.toLowerCase().includes(q) && !a.metric.toLowerCase().includes(q)) return false;
    }
    return true;
  }

  onMessage({ type, data }) {
    if (!data || typeof data !== "object") return;
    if (type === "anomaly:new") {
      if (this.matches(data)) {
        this.fresh += 1;
        this.showNotice(true);
      }
      this.refreshStats();
    } else if (type === "anomaly:update" || type === "anomaly:resolved") {
      if (this.rows.has(data.id)) this.replaceRow(data);
      this.refreshStats();
    }
  }

  showNotice(on) {
    this.notice.hidden = !on;
    const n = this.fresh;
    this.notice.querySelector(".new-count").textContent =
      n > 0 ? `${n} new alert${n === 1 ? "" : "s"} since this page loaded —` : "Alerts changed while offline —";
    this.notice.dataset.count = String(n);
  }

  async loadStats() {
    try {
      this.stats = await api.call("GET", "/anomalies/stats");
    } catch {
      return; // the counts stay as they were; the table shows any real trouble
    }
    this.renderCounts();
  }

  renderCounts() {
    if (!this.stats) return;
    const s = this.state.status;
    const counts = s === "all" ? this.stats.by_severity : this.stats.by_status_severity?.[s] || {};
    let total = 0;
    for (const sev of SEVERITIES) {
      const n = counts[sev] ?? 0;
      total += n;
      $(`[data-testid="count-${sev}"]`).textContent = String(n);
    }
    $('[data-testid="count-all"]').textContent = String(total);
  }
}

new AlertsPage().start();
