// The Alerts page. It opens on what needs action: the open and acknowledged incidents
// (alerts-incidents.js). One click away, every anomaly, paged on the server by cursor (no row
// repeats or hides while alerts arrive), by severity tab, status and a search of resource id or
// metric, each saying why it is one, with operator actions and the explanation; new arrivals
// are announced. The URL keeps the view, the filters and the page.

import { IncidentsLead } from "./alerts-incidents.js";
import { api, LiveConnection } from "./api.js";
import { ExplainDialog } from "./explain-dialog.js";
import { el, formatDateTime, formatMetric, isoTime, metricLabel } from "./format.js";
import { initNav } from "./nav.js";
import { isOperator, say, severityBadge, showConnection, statusPill, throttle } from "./pages.js";
import { initTheme } from "./theme.js";

const SEVERITIES = ["critical", "high", "medium", "low"];
const STATUSES = ["open", "acknowledged", "resolved", "all"];
const SIZES = [10, 25, 50, 100];
const VIEWS = ["incidents", "anomalies"];
const SEARCH_DELAY_MS = 300;

const $ = (sel) => document.querySelector(sel);

/** View, filters and page, kept in the URL so a view can be shared and survives a reload.
 * Without `view`, anomaly filters (a link from an incident's page) open the anomalies. */
function readState() {
  const p = new URLSearchParams(location.search);
  const size = Number(p.get("size"));
  const filtered = ["severity", "status", "q", "cursor", "size"].some((k) => p.has(k));
  return {
    view: VIEWS.includes(p.get("view")) ? p.get("view") : filtered ? "anomalies" : "incidents",
    severity: SEVERITIES.includes(p.get("severity")) ? p.get("severity") : "",
    status: STATUSES.includes(p.get("status")) ? p.get("status") : "open",
    q: (p.get("q") || "").slice(0, 200),
    size: SIZES.includes(size) ? size : 25,
    cursor: (p.get("cursor") || "").slice(0, 200),
  };
}

function writeState(state) {
  const p = new URLSearchParams();
  if (state.view !== "incidents") p.set("view", state.view);
  if (state.severity) p.set("severity", state.severity);
  if (state.status !== "open") p.set("status", state.status);
  if (state.q) p.set("q", state.q);
  if (state.size !== 25) p.set("size", String(state.size));
  if (state.cursor) p.set("cursor", state.cursor);
  if (state.view === "incidents" && [...p.keys()].length) p.set("view", "incidents");
  const text = p.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

/** The newest / newer / range / older bar of a list paged by cursor. */
class CursorPager {
  constructor(root, onMove) {
    this.newest = root.querySelector('[data-testid="page-newest"]');
    this.prev = root.querySelector('[data-testid="page-prev"]');
    this.next = root.querySelector('[data-testid="page-next"]');
    this.range = root.querySelector('[data-testid="page-range"]');
    this.page = null;
    this.newest.addEventListener("click", () => onMove(""));
    this.prev.addEventListener("click", () => this.page?.prev_cursor && onMove(this.page.prev_cursor));
    this.next.addEventListener("click", () => this.page?.next_cursor && onMove(this.page.next_cursor));
  }

  /** Show a page the server returned: {items, total, offset, next_cursor, prev_cursor}. */
  show(page) {
    this.page = page;
    const first = page.items.length ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    this.range.textContent = `${first}–${last} of ${page.total}`;
    this.range.dataset.first = String(first);
    this.range.dataset.last = String(last);
    this.range.dataset.total = String(page.total);
    this.prev.disabled = !page.prev_cursor;
    this.newest.disabled = !page.prev_cursor;
    this.next.disabled = !page.next_cursor;
  }
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
    this.pager = new CursorPager($('[data-testid="anomalies-view"] .pager'), (cursor) => this.go({ cursor }));
    this.views = {
      incidents: $('[data-testid="incidents-view"]'),
      anomalies: $('[data-testid="anomalies-view"]'),
    };
    this.switches = [...document.querySelectorAll('[data-testid="view-switch"] a[data-view]')];
    this.lead = new IncidentsLead(this.views.incidents, {
      onCount: (n) => {
        $('[data-testid="count-incidents"]').textContent = String(n);
      },
    });
    this.refreshLead = throttle(() => this.lead.load(), 2000);
    this.refreshCount = throttle(() => this.lead.count(), 2000);
    this.loaded = false; // the anomalies were fetched at least once
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
    const incidents = this.state.view === "incidents";
    await Promise.all([incidents ? this.lead.load() : this.lead.count(), incidents ? null : this.load(), this.loadStats()]);
    this.live = new LiveConnection({
      onMessage: (m) => this.onMessage(m),
      onState: (s) => {
        showConnection($('[data-testid="conn-state"]'), s);
        document.body.dataset.connection = s;
      },
      onResync: () => {
        this.loadStats();
        this.refreshLead();
        this.showNotice(true);
      },
      poll: () => {
        this.loadStats();
        if (this.state.view === "incidents") this.refreshLead();
      },
    });
    this.live.start();
    document.body.dataset.ready = "true";
  }

  bind() {
    for (const link of document.querySelectorAll("a[data-view]")) {
      link.addEventListener("click", (e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return; // a new tab: the URL
        e.preventDefault();
        this.show(link.dataset.view);
      });
    }
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.go({ severity: tab.dataset.severity, cursor: "" }));
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
    this.status.addEventListener("change", () => this.go({ status: this.status.value, cursor: "" }));
    this.size.addEventListener("change", () => this.go({ size: Number(this.size.value), cursor: "" }));
    let timer = null;
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      // The rows shown no longer answer the search typed: say so until the new page comes.
      document.body.dataset.loading = "true";
      timer = setTimeout(() => this.go({ q: this.search.value.trim(), cursor: "" }), SEARCH_DELAY_MS);
    });
    $('[data-testid="alerts-toolbar"]').addEventListener("submit", (e) => {
      e.preventDefault();
      clearTimeout(timer);
      this.go({ q: this.search.value.trim(), cursor: "" });
    });
    $('[data-testid="new-refresh"]').addEventListener("click", () => this.go({ cursor: "" }));
    this.tbody.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (button) this.act(button);
    });
  }

  /** Switch between the incidents and the anomalies; the first visit of a view loads it. */
  show(view) {
    if (view === this.state.view) return;
    this.state = { ...this.state, view };
    writeState(this.state);
    this.syncControls();
    if (view === "anomalies" && !this.loaded) this.load();
    if (view === "incidents") this.lead.load();
  }

  syncControls() {
    for (const [name, section] of Object.entries(this.views)) section.hidden = name !== this.state.view;
    for (const link of this.switches) {
      if (link.dataset.view === this.state.view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    document.body.dataset.view = this.state.view;
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
    this.state = { ...this.state, ...change, view: "anomalies" };
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
      cursor: s.cursor || undefined,
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
    // Past either end (alerts resolved away, an old link): show the newest page instead.
    if (!page.items.length && page.total > 0 && this.state.cursor) {
      this.go({ cursor: "" });
      return;
    }
    this.loaded = true;
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
    const reason = a.why || "";
    const tr = el(
      "tr",
      { "data-testid": "alert-row", "data-anomaly-id": a.id, "data-status": a.status, "data-resource-id": a.resource_id },
      el(
        "td",
        { className: "time", title: `last seen ${formatDateTime(a.last_ts)}` },
        el("time", { datetime: isoTime(a.start_ts) }, formatDateTime(a.start_ts)),
      ),
      el("td", {}, severityBadge(a.severity)),
      el("td", { className: "resource", "data-testid": "alert-resource" }, a.resource_id),
      el("td", {}, metricLabel(a.metric)),
      value,
      el("td", { className: "num" }, (a.max_score ?? a.score).toFixed(2)),
      el("td", {}, statusPill(a.status)),
      el("td", {}, incident),
      el(
        "td",
        { className: "reason", "data-testid": "alert-why", title: reason || null },
        reason || el("span", { className: "muted" }, "–"),
      ),
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
    if (type === "incident:update") {
      if (this.state.view === "incidents") this.refreshLead();
      else this.refreshCount();
    }
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
    $('[data-testid="count-anomalies"]').textContent = String(this.stats.total ?? "–");
  }
}

new AlertsPage().start();
