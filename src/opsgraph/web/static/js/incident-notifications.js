// Who was told of an incident: each notification with its receiver and delivery status, or a
// banner when no receiver is configured (then nobody is told of anything).

import { el, formatDateTime } from "./format.js";

const OUTCOME = {
  sent: "sent",
  failed: "failed",
  suppressed: "suppressed",
};

/** Fill `box` from the incident's `notifications` ({configured, receivers, items}). */
export function renderNotifications(box, notifications) {
  const n = notifications || { configured: false, receivers: [], items: [] };
  if (!n.configured) {
    box.replaceChildren(
      el(
        "p",
        { className: "banner warn", "data-testid": "no-receiver", role: "note" },
        "No receiver is configured: nobody is notified of this incident or any other. Add a route under ",
        el("code", {}, "notify.routes"),
        " (see docs/notifications.md).",
      ),
    );
    return;
  }
  if (!n.items.length) {
    box.replaceChildren(
      el(
        "p",
        { className: "muted", "data-testid": "notifications-none" },
        `Not notified yet. Receivers: ${n.receivers.join(", ")}.`,
      ),
    );
    return;
  }
  box.replaceChildren(
    el(
      "ul",
      { className: "notification-list" },
      ...n.items.map((item) =>
        el(
          "li",
          { "data-testid": "notification", "data-outcome": item.outcome },
          el("time", { dateTime: new Date(item.ts * 1000).toISOString() }, formatDateTime(item.ts)),
          " ",
          el("span", { className: `status-pill outcome-${item.outcome}` }, OUTCOME[item.outcome] || item.outcome),
          " ",
          el("strong", {}, item.receiver || "–"),
          item.attempts ? el("span", { className: "muted" }, ` · ${item.attempts} attempt${item.attempts > 1 ? "s" : ""}`) : null,
          item.alert_status ? el("span", { className: "muted" }, ` · ${item.alert_status}`) : null,
          item.reason ? el("div", { className: "muted" }, item.reason) : null,
        ),
      ),
    ),
  );
}
