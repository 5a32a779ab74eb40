// Pieces shared by the Alerts and Incidents pages: the connection indicator, the pager, the
// operator check, badges, durations and a throttle for refetches driven by live messages.

import { el } from "./format.js";
import { can } from "./session.js";

const CONN_LABELS = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  polling: "polling",
};

/** Show the LiveConnection state in the header's `.conn` element. */
export function showConnection(node, state) {
  if (!node) return;
  node.dataset.state = state;
  const label = node.querySelector(".conn-label");
  if (label) label.textContent = CONN_LABELS[state] || state;
}

/** True when the signed-in user may act (operator or admin); false when it cannot be told. */
export async function isOperator() {
  try {
    return await can("operator");
  } catch {
    return false;
  }
}

/** A severity badge. */
export function severityBadge(severity) {
  return el("span", { className: `badge sev-${severity}`, "data-testid": "severity" }, severity);
}

/** A status pill: open / acknowledged / resolved. */
export function statusPill(status) {
  return el("span", { className: `status-pill status-${status}`, "data-testid": "status" }, status);
}

/** "1 h 05 min", "42 s": a duration in seconds, coarse enough to read at a glance. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * Run `fn` at most once per `ms`: calls in between are folded into one trailing call, so a
 * burst of live messages costs one refetch, not hundreds.
 */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0 && timer === null) {
      last = Date.now();
      fn();
      return;
    }
    if (timer !== null) return;
    timer = setTimeout(
      () => {
        timer = null;
        last = Date.now();
        fn();
      },
      Math.max(wait, 0),
    );
  };
}

/** The prev / range / next bar of a server-paged list. */
export class Pager {
  constructor(root, onChange) {
    this.prev = root.querySelector('[data-testid="page-prev"]');
    this.next = root.querySelector('[data-testid="page-next"]');
    this.range = root.querySelector('[data-testid="page-range"]');
    this.offset = 0;
    this.limit = 25;
    this.total = 0;
    this.prev.addEventListener("click", () => onChange(Math.max(0, this.offset - this.limit)));
    this.next.addEventListener("click", () => onChange(this.offset + this.limit));
  }

  /** Show a page the server returned: {items, total, limit, offset}. */
  show(page) {
    this.offset = page.offset;
    this.limit = page.limit;
    this.total = page.total;
    const first = page.items.length ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    this.range.textContent = `${first}–${last} of ${page.total}`;
    this.range.dataset.first = String(first);
    this.range.dataset.last = String(last);
    this.range.dataset.total = String(page.total);
    this.prev.disabled = page.offset <= 0;
    this.next.disabled = last >= page.total;
  }
}

/** Put a message in a `.form-message` element ("ok", "error" or "pending"); "" hides it. */
export function say(node, text, kind = "ok") {
  node.hidden = !text;
  node.textContent = text;
  node.classList.remove("ok", "error", "pending");
  if (text) node.classList.add(kind);
}
