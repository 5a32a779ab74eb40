// The Automation page: remediation actions paged on the server with a status filter (pending
// ones approved or rejected by operators) and the audit trail; both follow automation:log live.

import { api, LiveConnection } from "./api.js";
import { el, formatDateTime, isoTime } from "./format.js";
import { initNav } from "./nav.js";
import { isOperator, Pager, say, showConnection, throttle } from "./pages.js";
import { renderResult } from "./results.js";
import { applyRoles } from "./session.js";
import { initTheme } from "./theme.js";

const STATUSES = [
  "all",
  "dry_run",
  "refused",
  "pending",
  "rejected",
  "expired",
  "cancelled",
  "running",
  "verifying",
  "succeeded",
  "failed",
  "escalated",
];
// What each status means to a reader, shown as the pill's tooltip.
const STATUS_HINTS = {
  dry_run: "planned only (dry-run): nothing was executed",
  refused: "a guardrail refused it (see the reason)",
  pending: "waits for an operator's approval",
  rejected: "an operator rejected it",
  expired: "nobody approved it in time",
  cancelled: "approved after what it was for was gone: not executed (see the reason)",
  running: "executing",
  verifying: "executed; watching whether the anomaly clears",
  succeeded: "executed and verified",
  failed: "verification failed; rolled back where reversible",
  escalated: "failed after every attempt, or no answer in time: a person must look",
};
const PAGE_SIZE = 25;
const AUDIT_PAGE_SIZE = 25;

const $ = (sel) => document.querySelector(sel);

/** The parts of an action's result a reader needs at a glance: who decided, and any error. */
function outcome(result) {
  if (!result || typeof result !== "object") return "";
  const parts = [];
  if (result.decided_by) parts.push(`decided by ${result.decided_by}${result.note ? `: ${result.note}` : ""}`);
  if (result.error) parts.push(`error: ${result.error}`);
  return parts.join(" · ");
}

function actionPill(status) {
  return el(
    "span",
    { className: `status-pill action-${status}`, "data-testid": "action-status", title: STATUS_HINTS[status] },
    status.replace("_", "-"),
  );
}

function timeCell(ts, label) {
  if (ts === null || ts === undefined) return el("span", { className: "muted" }, "–");
  return el("time", { datetime: isoTime(ts), title: label }, formatDateTime(ts));
}

class AutomationPage {
  constructor() {
    const p = new URLSearchParams(location.search);
    this.status = STATUSES.includes(p.get("status")) ? p.get("status") : "all";
    this.offset = 0;
    this.auditOffset = 0;
    this.listToken = 0;
    this.auditToken = 0;
    this.operator = false;
    this.notes = new Map(); // note drafts by action id, kept across live re-renders
    this.deferred = false;
    this.tbody = $('[data-testid="action-rows"]');
    this.auditBody = $('[data-testid="audit-rows"]');
    this.filter = $("#action-status");
    this.message = $('[data-testid="automation-message"]');
    this.auditMessage = $('[data-testid="audit-message"]');
    this.pager = new Pager($(".actions-pager"), (offset) => {
      this.offset = offset;
      this.loadList();
    });
    this.auditPager = new Pager($(".audit-pager"), (offset) => {
      this.auditOffset = offset;
      this.loadAudit();
    });
    this.refresh = throttle(() => {
      this.loadList();
      this.loadAudit();
    }, 1500);
  }

  async start() {
    initTheme($('[data-testid="theme-toggle"]'), () => undefined);
    await initNav("automation");
    this.operator = await isOperator();
    await applyRoles().catch(() => undefined);
    this.bind();
    this.filter.value = this.status;
    await Promise.all([this.loadList(), this.loadAudit()]);
    this.live = new LiveConnection({
      onMessage: (m) => {
        if (m.type === "automation:log") this.refresh();
      },
      onState: (s) => {
        showConnection($('[data-testid="conn-state"]'), s);
        document.body.dataset.connection = s;
      },
      onResync: () => this.refresh(),
      poll: () => Promise.all([this.loadList(), this.loadAudit()]),
    });
    this.live.start();
    document.body.dataset.ready = "true";
  }

  bind() {
    this.filter.addEventListener("change", () => {
      this.status = this.filter.value;
      this.offset = 0;
      const url = new URL(location.href);
      if (this.status === "all") url.searchParams.delete("status");
      else url.searchParams.set("status", this.status);
      history.replaceState(null, "", url);
      this.loadList();
    });
    $('[data-testid="automation-toolbar"]').addEventListener("submit", (e) => e.preventDefault());
    this.tbody.addEventListener("input", (e) => {
      const input = e.target.closest("input[data-note-for]");
      if (input) this.notes.set(Number(input.dataset.noteFor), input.value);
    });
    this.tbody.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-decide]");
      if (button) this.decide(Number(button.dataset.actionId), button.dataset.decide, button);
    });
    // A live re-render while someone types a note would steal the focus: wait until they leave.
    this.tbody.addEventListener("focusout", () => {
      if (this.deferred) {
        this.deferred = false;
        setTimeout(() => this.loadList(), 0);
      }
    });
  }

  typing() {
    const active = document.activeElement;
    return active instanceof HTMLInputElement && this.tbody.contains(active);
  }

  async loadList() {
    if (this.typing()) {
      this.deferred = true;
      return;
    }
    const token = ++this.listToken;
    let page;
    let pending;
    try {
      [page, pending] = await Promise.all([
        api.call("GET", "/automation/history", {
          params: {
            status: this.status === "all" ? undefined : this.status,
            limit: PAGE_SIZE,
            offset: this.offset,
          },
        }),
        api.call("GET", "/automation/pending", { params: { limit: 1 } }),
      ]);
    } catch (err) {
      if (token === this.listToken) say(this.message, `Could not load actions: ${err.message}`, "error");
      return;
    }
    if (token !== this.listToken) return;
    if (this.typing()) {
      this.deferred = true;
      return;
    }
    if (!page.items.length && page.total > 0 && this.offset > 0) {
      this.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
      this.loadList();
      return;
    }
    if (this.message.classList.contains("error")) say(this.message, "");
    const count = $('[data-testid="pending-count"]');
    count.textContent = pending.total ? `${pending.total} waiting for approval` : "nothing waiting for approval";
    count.dataset.total = String(pending.total);
    this.tbody.replaceChildren(...page.items.map((a) => this.row(a)));
    $('[data-testid="actions-empty"]').hidden = page.items.length > 0;
    this.pager.show(page);
  }

  row(a) {
    const incident = a.incident_id
      ? el("a", { href: `./incidents.html?id=${a.incident_id}`, "data-testid": "action-incident" }, `#${a.incident_id}`)
      : el("span", { className: "muted" }, "–");
    const reason = el("td", { className: "reason", "data-testid": "action-reason" }, a.reason || "");
    const detail = outcome(a.result);
    if (detail) reason.append(el("div", { className: "muted" }, detail));
    const rendered = renderResult(a.result);
    if (rendered) {
      reason.append(el("details", { className: "result-more" }, el("summary", {}, "result"), rendered));
    }
    if (a.actor && a.actor !== "opsgraph" && !a.actor.startsWith("policy:")) {
      reason.append(el("div", { className: "muted" }, `by ${a.actor}`));
    }
    const when = el("td", { className: "time" });
    if (a.status === "pending") {
      when.append(el("span", { className: "expires" }, "expires "), timeCell(a.expires_ts, "approval expires"));
      when.dataset.testid = "action-expires";
    } else {
      when.append(timeCell(a.updated_ts, "last change"));
    }
    const cells = [
      el("td", { className: "num" }, String(a.id)),
      el("td", {}, actionPill(a.status)),
      el("td", { "data-testid": "action-policy" }, a.policy || el("span", { className: "muted" }, "manual")),
      el("td", { "data-testid": "action-name" }, el("code", {}, a.action), el("span", { className: "muted mode" }, ` ${a.mode}`)),
      el("td", { className: "target", "data-testid": "action-target" }, a.target || "–"),
      el("td", {}, incident),
      reason,
      el("td", { className: "num", "data-testid": "action-attempts" }, String(a.attempts)),
      el("td", { className: "time" }, timeCell(a.created_ts, "created")),
      when,
    ];
    const tr = el("tr", { "data-testid": "action-row", dataset: { actionId: String(a.id), status: a.status } }, ...cells);
    if (a.status !== "pending") return tr;
    // The decision controls sit in a row of their own under the pending action.
    const noteId = `note-${a.id}`;
    const controls = el(
      "div",
      { className: "decide", "data-needs-role": "operator", "data-testid": "action-controls", hidden: !this.operator },
      el("label", { for: noteId }, "Note ", el("span", { className: "muted" }, "(optional)")),
      el("input", {
        id: noteId,
        type: "text",
        maxlength: 2000,
        "data-note-for": a.id,
        "data-testid": "action-note",
        value: this.notes.get(a.id) ?? "",
      }),
      el(
        "button",
        { type: "button", className: "btn primary small", "data-decide": "approve", "data-action-id": a.id, "data-testid": "action-approve" },
        "Approve",
      ),
      el(
        "button",
        { type: "button", className: "btn small", "data-decide": "reject", "data-action-id": a.id, "data-testid": "action-reject" },
        "Reject",
      ),
    );
    const sub = el(
      "tr",
      { className: "decide-row", "data-testid": "action-decide-row", dataset: { actionId: String(a.id) } },
      el("td", {}),
      el("td", { colspan: 9 }, controls),
    );
    const frag = document.createDocumentFragment();
    frag.append(tr, sub);
    return frag;
  }

  async decide(id, verb, button) {
    const note = this.notes.get(id) ?? "";
    button.disabled = true;
    say(this.message, `${verb === "approve" ? "Approving" : "Rejecting"} action #${id}…`, "pending");
    try {
      const action = await api.call("POST", `/automation/${id}/${verb}`, { body: { note } });
      this.notes.delete(id);
      say(this.message, `Action #${id} ${verb === "approve" ? "approved" : "rejected"}: ${action.status}.`, "ok");
    } catch (err) {
      button.disabled = false;
      say(this.message, `Could not ${verb} action #${id}: ${err.message}`, "error");
    }
    // Leave the focus somewhere sensible before the row is rebuilt.
    if (this.typing()) document.activeElement.blur();
    await Promise.all([this.loadList(), this.loadAudit()]);
  }

  async loadAudit() {
    const token = ++this.auditToken;
    let page;
    try {
      page = await api.call("GET", "/automation/logs", {
        params: { limit: AUDIT_PAGE_SIZE, offset: this.auditOffset },
      });
    } catch (err) {
      if (token === this.auditToken) say(this.auditMessage, `Could not load the audit trail: ${err.message}`, "error");
      return;
    }
    if (token !== this.auditToken) return;
    if (this.auditMessage.classList.contains("error")) say(this.auditMessage, "");
    this.auditBody.replaceChildren(
      ...page.items.map((e) =>
        el(
          "tr",
          { "data-testid": "audit-row" },
          el("td", { className: "time" }, timeCell(e.ts, "recorded")),
          el("td", {}, e.actor),
          el("td", {}, el("code", {}, e.action.replace(/^automation\./, ""))),
          el("td", { className: "target" }, e.target || "–"),
          el("td", { className: "reason" }, e.reason || ""),
          el("td", { className: "muted result" }, renderResult(e.result)),
        ),
      ),
    );
    $('[data-testid="audit-empty"]').hidden = page.items.length > 0;
    this.auditPager.show(page);
  }
}

new AutomationPage().start();
