// The navigation bar every page shares: links to the pages (the current one marked), the
// signed-in user with the role, and logging out. A page puts <nav data-nav> in its header.

import { applyRoles, logout } from "./session.js";

export const PAGES = [
  { href: "./", id: "dashboard", label: "Dashboard" },
  { href: "./alerts.html", id: "alerts", label: "Alerts" },
  { href: "./incidents.html", id: "incidents", label: "Incidents" },
  { href: "./metrics.html", id: "metrics", label: "Metrics" },
  { href: "./automation.html", id: "automation", label: "Automation" },
  { href: "./settings.html", id: "settings", label: "Settings" },
];

export async function initNav(page) {
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
