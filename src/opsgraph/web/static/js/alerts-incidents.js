// The Alerts page's first view: the open and acknowledged incidents, newest first. Each row
// shows severity, title, the ranked root and its confidence, when it opened and who was told;
// a disclosure lists its anomalies (resource, metric, severity, score, why). A row opens
// incidents.html?id=N.

import { api } from "./api.js";
import { el, formatDateTime, isoTime, metricLabel } from "./format.js";
import { say, severityBadge, statusPill } from "./pages.js";

const PAGE = 25;
const MEMBERS = 100;
const STATUSES = ["open", "acknowledged"];

/** Who was told, from GET /incidents/{id}/notifications. */
export function notifiedText(n) {
  if (!n.configured) return "no receiver configured";
  const sent = new Map(); // receiver -> best outcome
  const rank = { sent: 3, failed: 2, suppressed: 1 };
  for (const item of n.items) {
    const before = sent.get(item.receiver);
    if (!before || (rank[item.outcome] || 0) > (rank[before] || 0)) sent.set(item.receiver, item.outcome);
  }
  if (!sent.size) return "nobody yet";
  return [...sent].map(([who, outcome]) => (outcome === "sent" ? who : `${who} (${outcome})`)).join(", ");
}

function rootCell(i) {
  if (!i.root_resource_id) return el("span", { className: "muted" }, "–");
  const ranked = i.root_confidence !== null && i.root_confidence !== undefined;
  return el(
    "span",
    { className: "root", "data-testid": "lead-root" },
    el("span", { className: "resource" }, i.root_resource_id),
    el(
      "span",
      { className: "muted", "data-testid": "lead-confidence" },
      ranked ? ` ${Math.round(i.root_confidence * 100)} %` : " first to start",
    ),
  );
}

export class IncidentsLead {
  constructor(root, { onCount }) {
    this.tbody = root.querySelector('[data-testid="lead-rows"]');
    this.empty = root.querySelector('[data-testid="lead-empty"]');
    this.message = root.querySelector('[data-testid="lead-message"]');
    this.range = root.querySelector('[data-testid="lead-range"]');
    this.more = root.querySelector('[data-testid="lead-more"]');
    this.onCount = onCount;
    this.shown = PAGE;
    this.token = 0;
    this.open = new Set(); // incident ids whose anomalies are shown
    // The last answers, shown at once when live news redraws the rows (no flicker), then renewed.
    this.notified = new Map(); // id -> text
    this.members = new Map(); // id -> page of anomalies
    this.more.addEventListener("click", () => {
      this.shown += PAGE;
      this.load();
    });
    this.tbody.addEventListener("click", (e) => this.click(e));
  }

  click(e) {
    const toggle = e.target.closest('button[data-action="members"]');
    if (toggle) {
      this.toggle(toggle);
      return;
    }
    if (e.target.closest("a, button, .members-row")) return;
    const tr = e.target.closest("tr[data-incident-id]");
    if (tr) location.href = `./incidents.html?id=${tr.dataset.incidentId}`;
  }

  /** Only the number of open and acknowledged incidents (the switch's count). */
  async count() {
    try {
      const pages = await Promise.all(
        STATUSES.map((status) => api.call("GET", "/incidents", { params: { status, limit: 1 } })),
      );
      this.onCount(pages.reduce((n, p) => n + p.total, 0));
    } catch {
      // the count stays as it was; the incidents view shows any real trouble
    }
  }

  /** Open and acknowledged incidents (the newest `shown` of each), newest opened first. */
  async load() {
    const token = ++this.token;
    let pages;
    try {
      pages = await Promise.all(
        STATUSES.map((status) => api.call("GET", "/incidents", { params: { status, limit: this.shown } })),
      );
    } catch (err) {
      if (token === this.token) say(this.message, `Could not load incidents: ${err.message}`, "error");
      return;
    }
    if (token !== this.token) return;
    if (this.message.classList.contains("error")) say(this.message, "");
    const total = pages.reduce((n, p) => n + p.total, 0);
    const items = pages
      .flatMap((p) => p.items)
      .sort((a, b) => b.opened_ts - a.opened_ts || b.id - a.id)
      .slice(0, this.shown);
    const ids = new Set(items.map((i) => i.id));
    for (const cache of [this.notified, this.members, this.open]) {
      for (const id of [...cache.keys()]) if (!ids.has(id)) cache.delete(id);
    }
    this.tbody.replaceChildren(...items.flatMap((i) => this.rows(i)));
    this.empty.hidden = items.length > 0;
    this.range.textContent = `${items.length} of ${total} open or acknowledged`;
    this.range.dataset.shown = String(items.length);
    this.range.dataset.total = String(total);
    this.more.hidden = items.length >= total;
    this.onCount(total);
    await Promise.all(items.map((i) => this.loadNotified(i.id, token)));
    if (token === this.token) this.tbody.dataset.loaded = "true";
  }

  rows(i) {
    const membersId = `members-${i.id}`;
    const expanded = this.open.has(i.id);
    const n = i.resource_ids.length;
    const toggle = el(
      "button",
      {
        type: "button",
        className: "disclosure",
        "data-action": "members",
        "data-testid": "lead-toggle",
        "aria-expanded": String(expanded),
        "aria-controls": membersId,
        "aria-label": `Anomalies of incident #${i.id}`,
      },
      `${n} resource${n === 1 ? "" : "s"}`,
    );
    const tr = el(
      "tr",
      { "data-testid": "lead-row", "data-incident-id": i.id, "data-status": i.status, className: `sev-${i.severity}` },
      el("td", {}, severityBadge(i.severity)),
      el(
        "td",
        { className: "title" },
        el("a", { href: `./incidents.html?id=${i.id}`, "data-testid": "lead-link" }, `#${i.id} ${i.title}`),
        " ",
        toggle,
      ),
      el("td", {}, rootCell(i)),
      el("td", { className: "time" }, el("time", { datetime: isoTime(i.opened_ts) }, formatDateTime(i.opened_ts))),
      el("td", {}, statusPill(i.status)),
      el("td", { className: "notified muted", "data-testid": "notified" }, this.notified.get(i.id) ?? "…"),
    );
    const cell = el("td", { colSpan: 6 }, el("ul", { className: "members", "data-testid": "lead-members" }));
    const members = el("tr", { className: "members-row", id: membersId, "data-incident-id": i.id }, cell);
    members.hidden = !expanded;
    if (expanded) this.loadMembers(i.id, cell.firstChild);
    return [tr, members];
  }

  async loadNotified(id, token) {
    let text;
    try {
      text = notifiedText(await api.call("GET", `/incidents/${id}/notifications`));
    } catch {
      text = "–";
    }
    this.notified.set(id, text);
    if (token !== this.token) return;
    const cell = this.tbody.querySelector(`tr[data-testid="lead-row"][data-incident-id="${id}"] .notified`);
    if (cell) {
      cell.textContent = text;
      cell.title = text;
    }
  }

  toggle(button) {
    const id = Number(button.closest("tr").dataset.incidentId);
    const row = document.getElementById(button.getAttribute("aria-controls"));
    const on = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(on));
    row.hidden = !on;
    if (on) {
      this.open.add(id);
      this.loadMembers(id, row.querySelector("ul"));
    } else {
      this.open.delete(id);
    }
  }

  async loadMembers(id, list) {
    const known = this.members.get(id);
    if (known) this.renderMembers(list, known);
    else list.replaceChildren(el("li", { className: "muted" }, "Loading…"));
    let page;
    try {
      page = await api.anomalies({ incident_id: id, limit: MEMBERS });
    } catch (err) {
      list.replaceChildren(el("li", { className: "error" }, `Could not load its anomalies: ${err.message}`));
      return;
    }
    this.members.set(id, page);
    this.renderMembers(list, page);
  }

  renderMembers(list, page) {
    const items = page.items.map((a) =>
      el(
        "li",
        { "data-testid": "lead-member", "data-anomaly-id": a.id },
        el("span", { className: "resource" }, a.resource_id),
        el("span", {}, metricLabel(a.metric)),
        severityBadge(a.severity),
        el("span", { className: "num", title: "peak score" }, (a.max_score ?? a.score).toFixed(2)),
        el("span", { className: "why muted", "data-testid": "member-why", title: a.why || "" }, a.why || "–"),
      ),
    );
    if (page.total > page.items.length) {
      items.push(el("li", { className: "muted" }, `and ${page.total - page.items.length} more on the incident's page`));
    }
    list.replaceChildren(...(items.length ? items : [el("li", { className: "muted" }, "No anomalies.")]));
    list.dataset.loaded = "true";
  }
}
