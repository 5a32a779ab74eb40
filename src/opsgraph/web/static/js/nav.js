// The header every page shares: the brand, links to the pages (the current one marked), the
// signed-in user with the role and logging out, the live connection state, and the theme
// switch. A page writes <header class="topbar" data-topbar="live|static"> holding only what is
// its own; this module fills in the rest when it is imported, before the page's code runs.

import { shortTimeZone, timeZoneLabel } from "./format.js";
import { applyRoles, logout } from "./session.js";
import { labelTables } from "./tables.js";

const BRAND = `
  <div class="brand">
    <svg class="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="currentColor"></rect>
      <path d="M9 22 16 10l7 12" stroke="var(--logo-line)" stroke-width="2" fill="none"></path>
      <circle cx="16" cy="10" r="3.5" fill="var(--logo-node)"></circle>
      <circle cx="9" cy="22" r="3.5" fill="var(--logo-node)"></circle>
      <circle cx="23" cy="22" r="3.5" fill="#f97316"></circle>
    </svg>
    <h1>opsgraph</h1>
  </div>
  <nav data-nav></nav>`;

const CONNECTION = `
  <p class="conn" data-testid="conn-state" data-state="connecting" role="status">
    <span class="conn-dot" aria-hidden="true"></span>
    <span class="visually-hidden">Connection: </span><span class="conn-label">connecting…</span>
  </p>`;

const THEME_SWITCH = `
  <button type="button" class="icon-btn theme-toggle" data-testid="theme-toggle" aria-pressed="false" aria-label="Switch theme">
    <svg class="icon-moon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5Z" fill="currentColor"></path></svg>
    <svg class="icon-sun" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="4.5" fill="currentColor"></circle><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1 7 17M17 7l2.1-2.1" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path></svg>
  </button>`;

/** Brand, page links and (data-topbar="live") the connection state before the page's own
 * header content; the theme switch after it. */
function mountTopbar() {
  const header = document.querySelector("header[data-topbar]");
  if (!header) return;
  const live = header.dataset.topbar === "live";
  header.insertAdjacentHTML("afterbegin", BRAND + (live ? CONNECTION : ""));
  header.insertAdjacentHTML("beforeend", THEME_SWITCH);
}

mountTopbar();

export const PAGES = [
  { href: "./", id: "dashboard", label: "Dashboard" },
  { href: "./alerts.html", id: "alerts", label: "Alerts" },
  { href: "./incidents.html", id: "incidents", label: "Incidents" },
  { href: "./metrics.html", id: "metrics", label: "Metrics" },
  { href: "./automation.html", id: "automation", label: "Automation" },
  { href: "./settings.html", id: "settings", label: "Settings" },
];

/** Every `[data-testid=clock-zone]` names the time zone the page's times are shown in. */
function labelTimeZones() {
  for (const zone of document.querySelectorAll("[data-testid=clock-zone]")) {
    zone.textContent = shortTimeZone();
    zone.title = `Times are shown in your time zone, ${timeZoneLabel()}, on a 24-hour clock`;
  }
}

export async function initNav(page) {
  labelTables();
  labelTimeZones();
  const nav = document.querySelector("[data-nav]");
  if (!nav) return null;
  nav.setAttribute("aria-label", "Pages");
  const list = document.createElement("ul");
  list.className = "nav-pages";
  for (const p of PAGES) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = p.href;
    link.textContent = p.label;
    link.dataset.testid = `nav-${p.id}`;
    if (p.id === page) link.setAttribute("aria-current", "page");
    item.append(link);
    list.append(item);
  }
  const user = document.createElement("div");
  user.className = "nav-user";
  const who = document.createElement("span");
  who.dataset.testid = "nav-user";
  const out = document.createElement("button");
  out.type = "button";
  out.className = "btn";
  out.textContent = "Log out";
  out.dataset.testid = "logout";
  out.addEventListener("click", () => logout());
  user.append(who, out);
  nav.replaceChildren(list, user);
  try {
    const me = await applyRoles();
    who.textContent = `${me.name} · ${me.role}`;
    return me;
  } catch {
    who.textContent = "";
    return null;
  }
}
