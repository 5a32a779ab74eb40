// The signed-in user, shared by every page: who it is and what its role allows. The role only
// hides buttons; the API enforces it on every request (a viewer's POST gets 403 regardless).

import { api } from "./api.js";

const RANK = { viewer: 0, operator: 1, admin: 2 };
let current = null;

/** {name, role, kind} of the caller (fetched once per page). */
export function me() {
  current ??= api.me().catch((err) => {
    current = null;
    throw err;
  });
  return current;
}

/** True when the signed-in user holds at least `role`. */
export async function can(role) {
  const who = await me();
  return (RANK[who.role] ?? -1) >= RANK[role];
}

/** Hide every element marked data-needs-role="operator|admin" that this user may not use. */
export async function applyRoles(root = document) {
  const who = await me();
  for (const node of root.querySelectorAll("[data-needs-role]")) {
    node.hidden = (RANK[who.role] ?? -1) < RANK[node.dataset.needsRole];
  }
  document.body.dataset.role = who.role;
  return who;
}

export async function logout() {
  await fetch("./auth/logout", { method: "POST" }).catch(() => undefined);
  window.location.assign("./login.html");
}
