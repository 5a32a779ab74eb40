// The Settings page: the effective configuration from GET /settings, read-only, by section.
// The server redacts every secret; this page only says whether one is set.

import { api } from "./api.js";
import { el } from "./format.js";
import { initNav } from "./nav.js";
import { initTheme } from "./theme.js";

const REDACTED = "<redacted>";
const SECTIONS = [
  { id: "sources", title: "Sources", intro: "Where samples, logs and topology come from." },
  {
    id: "detectors",
    title: "Detectors",
    intro: "Streaming detection, the graph and multivariate models, and log scoring.",
  },
  { id: "alerts", title: "Alerts", intro: "Deduplication and grouping into incidents." },
  { id: "policies", title: "Policies", intro: "Automated remediation." },
  { id: "notify", title: "Notifications", intro: "Receivers and the routes to them." },
  { id: "auth", title: "Authentication", intro: "Accounts, sessions and sign-up." },
  { id: "general", title: "General", intro: "Data folder, store, API and event fan-out." },
  { id: "plugins", title: "Plug-ins", intro: "Registered through entry points." },
];
const PLUGIN_GROUPS = {
  detectors: "Streaming detectors (opsgraph.detectors)",
  batch_detectors: "Batch detectors (opsgraph.batch_detectors)",
  graph_detectors: "Graph detectors (opsgraph.graph_detectors)",
  notifiers: "Notifiers (opsgraph.notifiers)",
  executors: "Executors (opsgraph.executors)",
};

const $ = (sel) => document.querySelector(sel);

const label = (key) => key.replaceAll("_", " ");
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** One setting's value as text or a small element. */
function scalar(value) {
  if (value === REDACTED) {
    return el("span", { className: "secret-pill", dataset: { testid: "secret" }, text: "set · hidden" });
  }
  if (value === null || value === undefined) return el("span", { className: "muted", text: "not set" });
  if (typeof value === "boolean") {
    return el("span", { className: `flag ${value ? "on" : "off"}`, text: value ? "yes" : "no" });
  }
  if (typeof value === "number") return el("span", { className: "num", text: String(value) });
  return el("code", { text: String(value) });
}

/** A nested value: objects become definition lists, lists of objects numbered cards. */
function render(value, depth = 0) {
  if (Array.isArray(value)) {
    if (!value.length) return el("span", { className: "muted", text: "none" });
    if (value.every((v) => !isObject(v) && !Array.isArray(v))) {
      return el("ul", { className: "chips" }, ...value.map((v) => el("li", {}, scalar(v))));
    }
    return el("ol", { className: "cards" }, ...value.map((v) => el("li", {}, render(v, depth + 1))));
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (!keys.length) return el("span", { className: "muted", text: "none" });
    const dl = el("dl", { className: `kv depth-${Math.min(depth, 3)}` });
    for (const key of keys) {
      const v = value[key];
      const nested = (isObject(v) && Object.keys(v).length) || (Array.isArray(v) && v.some(isObject));
      dl.append(
        el("div", { className: nested ? "kv-row nested" : "kv-row", dataset: { key } },
          el("dt", { text: label(key) }),
          el("dd", {}, render(v, depth + 1)),
        ),
      );
    }
    return dl;
  }
  return scalar(value);
}

function subsection(title, value) {
  return el("section", { className: "subsection", dataset: { testid: "settings-subsection" } },
    el("h4", { text: title }),
    render(value, 1),
  );
}

function table(caption, columns, rows, testid) {
  return el("table", { className: "settings-table", dataset: { testid } },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, ...columns.map(([, head]) => el("th", { scope: "col", text: head })))),
    el("tbody", {}, ...rows.map((row) =>
      el("tr", {}, ...columns.map(([key]) => el("td", {}, cell(row, key)))),
    )),
  );
}

function cell(row, key) {
  if (key === "destination") {
    if (row.url) return scalar(row.url);
    if (row.host) return el("span", {}, scalar(`${row.host}${row.port ? `:${row.port}` : ""}`), " → ", scalar((row.to || []).join(", ")));
    return scalar(null);
  }
  if (key === "secrets") {
    const set = ["bearer_token", "password"].filter((k) => row[k] === REDACTED);
    const headers = Object.keys(row.headers || {});
    // The server keeps only the origin of a webhook URL: its path is often the token itself.
    const hidden = row.url ? ["URL path"] : [];
    const parts = [...hidden, ...set.map(label), ...headers.map((h) => `header ${h}`)];
    return parts.length ? el("span", {}, scalar(REDACTED), ` ${parts.join(", ")}`) : scalar(null);
  }
  const v = row[key];
  if (Array.isArray(v)) return v.length ? el("ul", { className: "chips" }, ...v.map((x) => el("li", {}, scalar(x)))) : el("span", { className: "muted", text: "any" });
  return scalar(v);
}

function notifyBody(notify) {
  const { receivers, routes, ...rest } = notify;
  const parts = [];
  parts.push(receivers.length
    ? table("Receivers", [["name", "Name"], ["type", "Type"], ["destination", "Destination"], ["secrets", "Credentials"]], receivers, "receivers")
    : el("p", { className: "muted", dataset: { testid: "receivers-empty" }, text: "No receivers: nothing is sent." }));
  parts.push(routes.length
    ? table("Routes, tried in order", [["receiver", "Receiver"], ["min_severity", "From severity"], ["matchers", "Matchers"], ["owners", "Owners"], ["types", "Message types"], ["continue", "Continue"]], routes, "routes")
    : el("p", { className: "muted", dataset: { testid: "routes-empty" }, text: "No routes configured." }));
  parts.push(subsection("Delivery", rest));
  return parts;
}

function policiesBody(policies) {
  const parts = [
    el("p", { className: "policy-status", dataset: { testid: "policies-status" } },
      el("strong", { text: policies.status })),
  ];
  if (policies.error) parts.push(el("p", { className: "form-message error", role: "alert", text: policies.error }));
  if (policies.items.length) parts.push(subsection("Policies", policies.items));
  if (policies.automation && Object.keys(policies.automation).length) parts.push(subsection("Automation", policies.automation));
  return parts;
}

function pluginsBody(plugins) {
  return Object.entries(plugins).map(([group, items]) =>
    el("section", { className: "subsection", dataset: { testid: "plugin-group", group } },
      el("h4", { text: PLUGIN_GROUPS[group] || group }),
      items.length
        ? el("ul", { className: "plugins" }, ...items.map((p) =>
            el("li", { dataset: { testid: "plugin" } }, el("strong", { text: p.name }), " ", el("code", { className: "muted", text: p.target }))))
        : el("p", { className: "muted", text: "none registered" }),
    ),
  );
}

/** A section's body: its sub-objects as subsections, its plain values as one list. */
function genericBody(value) {
  const plain = {};
  const parts = [];
  for (const [key, v] of Object.entries(value)) {
    if (isObject(v) || (Array.isArray(v) && v.some(isObject))) parts.push(subsection(label(key), v));
    else plain[key] = v;
  }
  if (Object.keys(plain).length) parts.unshift(render(plain, 1));
  return parts;
}

function sectionBody(id, value) {
  if (id === "notify") return notifyBody(value);
  if (id === "policies") return policiesBody(value);
  if (id === "plugins") return pluginsBody(value);
  return genericBody(value);
}

function show(settings) {
  const container = $('[data-testid="settings-sections"]');
  const toc = $('[data-testid="settings-toc"]');
  container.replaceChildren();
  toc.replaceChildren();
  for (const { id, title, intro } of SECTIONS) {
    if (!(id in settings)) continue;
    const headingId = `section-${id}`;
    container.append(
      el("section", { className: "settings-section", id, "aria-labelledby": headingId, dataset: { testid: "settings-section", section: id } },
        el("h3", { id: headingId, text: title }),
        el("p", { className: "muted section-intro", text: intro }),
        ...sectionBody(id, settings[id]),
      ),
    );
    toc.append(el("li", {}, el("a", { href: `#${id}`, text: title })));
  }
}

async function main() {
  initNav("settings");
  initTheme($('[data-testid="theme-toggle"]'), () => undefined);
  const status = $('[data-testid="settings-status"]');
  try {
    show(await api.call("GET", "/settings"));
    status.textContent = "";
    status.hidden = true;
    document.body.dataset.ready = "true";
  } catch (err) {
    status.textContent = `The settings could not be loaded: ${err.message}`;
    status.classList.add("form-message", "error");
  }
}

main();
