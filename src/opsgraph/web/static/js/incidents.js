// The Incidents page: incidents paged on the server with a status filter, and one incident's
// timeline, member anomalies and operator controls (?id=N); both follow incident:update live.

import { renderNotifications } from "./incident-notifications.js";
import { api, LiveConnection } from "./api.js";
import { el, formatDateTime, formatTime, isoTime, metricLabel } from "./format.js";
import { initNav } from "./nav.js";
import {
  formatDuration,
  isOperator,
  Pager,
  say,
  severityBadge,
  showConnection,
  statusPill,
  throttle,
} from "./pages.js";
import { initTheme } from "./theme.js";

const STATUSES = ["all", "open", "acknowledged", "resolved"];
const PAGE_SIZE = 25;
// A run of this many "grouped" lines or more folds into one expandable line.
const FOLD_GROUPED = 4;
const KIND_LABELS = {
  opened: "Opened",
  grouped: "Anomaly joined",
  ranked: "Root ranked",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
  reopened: "Reopened",
  note: "Note",
  action: "Action",
};

const $ = (sel) => document.querySelector(sel);

function selectedId() {
  const id = Number(new URLSearchParams(location.search).get("id"));
  return Number.isInteger(id) && id > 0 ? id : null;
}

class IncidentsPage {
  constructor() {
    const p = new URLSearchParams(location.search);
    this.status = STATUSES.includes(p.get("status")) ? p.get("status") : "all";
    this.offset = 0;
    this.simNow = null;
    this.current = null; // the incident shown in the detail view
    this.listToken = 0;
    this.detailToken = 0;
    this.tbody = $('[data-testid="incident-rows"]');
    this.detail = $('[data-testid="incident-detail"]');
    this.filter = $("#incident-status");
    this.message = $('[data-testid="incidents-message"]');
    this.detailMessage = $('[data-testid="incident-message"]');
    this.pager = new Pager($(".pager"), (offset) => {
      this.offset = offset;
      this.loadList();
    });
    this.refreshList = throttle(() => this.loadList(), 1500);
    this.refreshDetail = throttle(() => this.loadDetail(), 1500);
  }

  async start() {
    initTheme($('[data-testid="theme-toggle"]'), () => undefined);
    await initNav("incidents");
    this.operator = await isOperator();
    this.bind();
    this.filter.value = this.status;
    await Promise.all([this.loadList(), this.loadDetail()]);
    this.live = new LiveConnection({
      onMessage: (m) => this.onMessage(m),
      onState: (s) => {
        showConnection($('[data-testid="conn-state"]'), s);
        document.body.dataset.connection = s;
      },
      onResync: () => {
        this.refreshList();
        this.refreshDetail();
      },
      poll: () => Promise.all([this.loadList(), this.loadDetail()]),
    });
    this.live.start();
    document.body.dataset.ready = "true";
  }

  bind() {
    this.filter.addEventListener("change", () => {
      this.status = this.filter.value;
      this.offset = 0;
      this.pushUrl(selectedId());
      this.loadList();
    });
    $('[data-testid="incidents-toolbar"]').addEventListener("submit", (e) => e.preventDefault());
    // The whole row opens its incident (the title stays a link for the keyboard and for
    // opening in a new tab); a text selection in the row is left alone.
    this.tbody.addEventListener("click", (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey) return;
      const link = e.target.closest("a[data-incident-id]");
      const row = e.target.closest("tr[data-incident-id]");
      if (!link && (!row || String(window.getSelection() || ""))) return;
      e.preventDefault();
      this.open(Number((link || row).dataset.incidentId));
    });
    this.detail.querySelector('[data-action="close"]').addEventListener("click", () => this.open(null));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.detail.hidden) this.open(null);
    });
    window.addEventListener("popstate", () => {
      this.markSelected();
      this.loadDetail();
    });
    for (const button of this.detail.querySelectorAll("[data-status]")) {
      button.addEventListener("click", () => this.change({ status: button.dataset.status }));
    }
    $('[data-testid="note-form"]').addEventListener("submit", (e) => {
      e.preventDefault();
      this.change({});
    });
  }

  pushUrl(id) {
    const p = new URLSearchParams();
    if (id) p.set("id", String(id));
    if (this.status !== "all") p.set("status", this.status);
    const text = p.toString();
    history.pushState(null, "", text ? `?${text}` : location.pathname);
  }

  open(id) {
    const closing = id === null && selectedId() !== null;
    this.pushUrl(id);
    this.markSelected();
    this.loadDetail().then(() => {
      if (id !== null) $("#incident-title").focus();
      else if (closing) $("#incidents-heading").focus();
    });
  }

  // -- the list ------------------------------------------------------------------------------

  async loadList() {
    const token = ++this.listToken;
    let page;
    let health;
    try {
      [page, health] = await Promise.all([
        api.call("GET", "/incidents", {
          params: {
            status: this.status === "all" ? undefined : this.status,
            limit: PAGE_SIZE,
            offset: this.offset,
          },
        }),
        api.health().catch(() => null),
      ]);
    } catch (err) {
      if (token === this.listToken) say(this.message, `Could not load incidents: ${err.message}`, "error");
      return;
    }
    if (token !== this.listToken) return;
    if (!page.items.length && page.total > 0 && this.offset > 0) {
      this.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
      this.loadList();
      return;
    }
    if (health?.latest_ts) this.simNow = health.latest_ts;
    if (this.message.classList.contains("error")) say(this.message, "");
    this.tbody.replaceChildren(...page.items.map((i) => this.row(i)));
    $('[data-testid="incidents-empty"]').hidden = page.items.length > 0;
    this.pager.show(page);
    this.markSelected();
  }

  duration(incident) {
    const end = incident.resolved_ts ?? this.simNow ?? incident.updated_ts ?? incident.opened_ts;
    return formatDuration(end - incident.opened_ts);
  }

  row(i) {
    return el(
      "tr",
      { "data-testid": "incident-row", "data-incident-id": i.id, "data-status": i.status },
      el(
        "td",
        { className: "title" },
        el(
          "a",
          { href: `?id=${i.id}`, "data-incident-id": i.id, "data-testid": "incident-link" },
          el("span", { className: "muted" }, `#${i.id} `),
          i.title,
        ),
      ),
      el("td", {}, severityBadge(i.severity)),
      el("td", {}, statusPill(i.status)),
      el("td", { className: "resource" }, i.root_resource_id || "–"),
      el("td", { className: "num col-resources" }, String(i.resource_ids.length)),
      el("td", { className: "time" }, el("time", { datetime: isoTime(i.opened_ts) }, formatDateTime(i.opened_ts))),
      el("td", { className: "num" }, this.duration(i)),
    );
  }

  markSelected() {
    const id = selectedId();
    for (const tr of this.tbody.querySelectorAll("tr")) {
      const on = Number(tr.dataset.incidentId) === id;
      tr.classList.toggle("selected", on);
      const link = tr.querySelector("a");
      if (on) link?.setAttribute("aria-current", "true");
      else link?.removeAttribute("aria-current");
    }
  }

  // -- the detail ----------------------------------------------------------------------------

  async loadDetail() {
    const id = selectedId();
    const token = ++this.detailToken;
    document.body.classList.toggle("with-detail", id !== null);
    if (id === null) {
      this.current = null;
      this.detail.hidden = true;
      return;
    }
    this.detail.hidden = false;
    this.detail.classList.add("loading");
    this.detail.setAttribute("aria-busy", "true");
    let incident;
    try {
      incident = await api.call("GET", `/incidents/${id}`);
    } catch (err) {
      if (token !== this.detailToken) return;
      this.detail.classList.remove("loading");
      this.detail.removeAttribute("aria-busy");
      this.current = null;
      // Nothing to act on: only the title and why (no stale facts, no controls).
      this.detail.classList.add("missing");
      this.detail.dataset.incidentId = "";
      $("#incident-title").textContent = err.status === 404 ? `Incident #${id} not found` : `Incident #${id}`;
      for (const sel of [".detail-severity", ".detail-status", '[data-testid="incident-meta"]']) {
        this.detail.querySelector(sel).replaceChildren();
      }
      say(
        this.detailMessage,
        err.status === 404 ? `There is no incident #${id}: it may have been mistyped, or the store was reset.` : err.message,
        "error",
      );
      return;
    }
    if (token !== this.detailToken) return;
    this.detail.classList.remove("loading", "missing");
    this.detail.removeAttribute("aria-busy");
    this.current = incident;
    this.renderDetail(incident);
  }

  renderDetail(incident) {
    this.detail.dataset.incidentId = String(incident.id);
    this.detail.dataset.status = incident.status;
    $("#incident-title").textContent = `#${incident.id} ${incident.title}`;
    this.detail.querySelector(".detail-severity").replaceChildren(severityBadge(incident.severity));
    this.detail.querySelector(".detail-status").replaceChildren(statusPill(incident.status));
    const meta = [`opened ${formatDateTime(incident.opened_ts)}`, `for ${this.duration(incident)}`];
    if (incident.root_resource_id) {
      const ranked = incident.root_confidence != null;
      meta.push(
        ranked
          ? `root ${incident.root_resource_id} (confidence ${incident.root_confidence.toFixed(2)})`
          : `root ${incident.root_resource_id} (first to start, not ranked)`,
      );
    }
    meta.push(`${incident.resource_ids.length} resources`);
    if (incident.acknowledged_by) meta.push(`acknowledged by ${incident.acknowledged_by}`);
    $('[data-testid="incident-meta"]').textContent = meta.join(" · ");
    // The summary is usually the opening line of the timeline: say it once.
    const opening = (incident.timeline || []).find((e) => e.kind === "opened");
    const summary = incident.summary && incident.summary !== opening?.message ? incident.summary : "";
    $('[data-testid="incident-summary"]').textContent = summary;
    this.renderHypotheses(incident.hypotheses || []);
    for (const button of this.detail.querySelectorAll("[data-status]")) {
      const target = button.dataset.status;
      button.hidden =
        (target === "acknowledged" && incident.status !== "open") ||
        (target === "resolved" && incident.status === "resolved") ||
        (target === "open" && incident.status === "open");
    }
    renderNotifications($('[data-testid="incident-notifications"]'), incident.notifications);
    this.renderTimeline(incident.timeline || []);
    this.renderMembers(incident.anomalies || []);
  }

  /** The ranker's best hypotheses: node, confidence and its strongest evidence. */
  renderHypotheses(hypotheses) {
    const list = $('[data-testid="incident-hypotheses"]');
    $('[data-testid="incident-root"]').hidden = hypotheses.length === 0;
    list.replaceChildren(
      ...hypotheses.map((h) =>
        el(
          "li",
          { "data-testid": "hypothesis", "data-node": h.node },
          el("strong", {}, h.node),
          el("span", { className: "muted" }, ` ${Math.round(h.confidence * 100)} % · `),
          el("span", {}, (h.evidence || []).map((e) => e.text).join("; ") || "no evidence past the onset"),
        ),
      ),
    );
  }

  renderTimeline(events) {
    const list = $('[data-testid="incident-timeline"]');
    const items = [];
    for (let i = 0; i < events.length; ) {
      let j = i;
      while (j < events.length && events[j].kind === "grouped") j += 1;
      if (j - i >= FOLD_GROUPED) {
        items.push(this.groupedRun(events.slice(i, j)));
        i = j;
      } else {
        items.push(this.timelineItem(events[i]));
        i += 1;
      }
    }
    list.replaceChildren(...items);
  }

  timelineItem(e) {
    return el(
      "li",
      { className: `tl-item tl-${e.kind}`, "data-testid": "timeline-item", "data-kind": e.kind },
      el("span", { className: "tl-dot", "aria-hidden": "true" }),
      el(
        "div",
        { className: "tl-head" },
        el("strong", {}, KIND_LABELS[e.kind] || e.kind),
        el("span", { className: "muted" }, ` by ${e.actor} · `),
        el("time", { datetime: isoTime(e.ts), title: formatDateTime(e.ts) }, formatTime(e.ts)),
      ),
      // The opening reason may scroll (a long list of members): the keyboard can scroll it.
      e.message
        ? el(
            "p",
            { className: "tl-message", "data-testid": "timeline-message", tabindex: e.kind === "opened" ? "0" : null },
            e.message,
          )
        : null,
    );
  }

  /** Many anomalies joining at once: one line that opens to each one's reason. */
  groupedRun(events) {
    const first = events[0];
    const last = events[events.length - 1];
    const reasons = el(
      "ul",
      { className: "tl-reasons" },
      ...events.map((e) => el("li", { "data-testid": "timeline-message" }, e.message)),
    );
    return el(
      "li",
      { className: "tl-item tl-grouped", "data-testid": "timeline-item", "data-kind": "grouped", "data-count": events.length },
      el("span", { className: "tl-dot", "aria-hidden": "true" }),
      el(
        "details",
        {},
        el(
          "summary",
          {},
          el("strong", {}, `${events.length} anomalies joined`),
          el("span", { className: "muted" }, ` by ${first.actor} · `),
          el("time", { datetime: isoTime(first.ts) }, formatTime(first.ts)),
          last.ts - first.ts >= 1 ? el("span", { className: "muted" }, ` – ${formatTime(last.ts)}`) : null,
        ),
        reasons,
      ),
    );
  }

  renderMembers(anomalies) {
    this.detail.querySelector(".members-count").textContent = `(${anomalies.length})`;
    const rows = anomalies.map((a) =>
      el(
        "tr",
        { "data-testid": "member-row", "data-anomaly-id": a.id },
        el(
          "td",
          { className: "resource" },
          el("a", { href: `./alerts.html?status=all&q=${encodeURIComponent(a.resource_id)}` }, a.resource_id),
        ),
        el("td", {}, metricLabel(a.metric)),
        el(
          "td",
          {},
          a.role
            ? el("span", { className: `status-pill role-${a.role}`, title: a.role_reason || "", "data-testid": "member-role" }, a.role)
            : "–",
        ),
        el("td", {}, severityBadge(a.severity)),
        el("td", {}, statusPill(a.status)),
        el("td", { className: "time" }, el("time", { datetime: isoTime(a.start_ts) }, formatTime(a.start_ts))),
      ),
    );
    this.detail.querySelector(".members-table tbody").replaceChildren(...rows);
  }

  /** PATCH the shown incident with `{status?}` plus the note typed, then show the result. */
  async change({ status }) {
    const incident = this.current;
    if (!incident || !this.operator) return;
    const noteField = $("#incident-note");
    const note = noteField.value.trim();
    if (!status && !note) {
      noteField.setAttribute("aria-invalid", "true");
      say(this.detailMessage, "Write a note first.", "error");
      noteField.focus();
      return;
    }
    noteField.removeAttribute("aria-invalid");
    const body = status ? { status, note } : { note };
    const buttons = this.detail.querySelectorAll(".incident-controls button");
    buttons.forEach((b) => (b.disabled = true));
    say(this.detailMessage, "Saving…", "pending");
    try {
      const updated = await api.call("PATCH", `/incidents/${incident.id}`, { body });
      noteField.value = "";
      say(this.detailMessage, status ? `Incident #${updated.id} is now ${updated.status}.` : "Note added.");
    } catch (err) {
      say(this.detailMessage, err.message, "error");
      return;
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
    await Promise.all([this.loadDetail(), this.loadList()]);
  }

  onMessage({ type, data }) {
    if (type !== "incident:update" || !data) return;
    this.refreshList();
    if (this.current && data.id === this.current.id) this.refreshDetail();
  }
}

new IncidentsPage().start();
