// The Metrics page's series finder: a combobox searching every stored series (GET /series)
// by metric name, resource id, name, kind or tag key=value, with a listbox of results.
// Keyboard: arrows move, Enter charts the active (or first) result, Escape closes.

import { api } from "./api.js";
import { el } from "./format.js";

const DEBOUNCE_MS = 180;
const LIMIT = 20;

/**
 * Wire the finder: `input` (role=combobox), `list` (role=listbox), `status` (a live region);
 * `onPick({resource_id, metric, kind, name})` charts the picked series.
 */
export function initFinder({ input, list, status, onPick }) {
  let items = [];
  let active = -1;
  let timer = null;
  let asked = 0; // generation of the latest search: an older answer must not overwrite it

  const open = (on) => {
    list.hidden = !on;
    input.setAttribute("aria-expanded", String(on));
    if (!on) setActive(-1);
  };

  function setActive(i) {
    active = i;
    const options = list.querySelectorAll('[role="option"]');
    options.forEach((node, n) => node.setAttribute("aria-selected", String(n === i)));
    if (i >= 0 && options[i]) {
      input.setAttribute("aria-activedescendant", options[i].id);
      options[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(found, more) {
    items = found;
    list.replaceChildren(
      ...found.map((s, i) =>
        el(
          "li",
          {
            id: `series-result-${i}`,
            role: "option",
            "aria-selected": "false",
            className: "sf-option",
            dataset: { testid: "series-result", resource: s.resource_id, metric: s.metric },
          },
          el("span", { className: "sf-metric", text: s.metric }),
          el("span", {
            className: "sf-where muted",
            text: `${s.resource_id}${s.name && s.name !== s.resource_id ? ` · ${s.name}` : ""} · ${s.kind} · ${s.points} points`,
          }),
        ),
      ),
    );
    const count = `${found.length}${more ? "+" : ""} series found`;
    status.textContent = found.length ? `${count}; use the arrow keys and Enter.` : "No series match.";
    open(found.length > 0);
  }

  async function search() {
    const q = input.value.trim();
    const generation = ++asked;
    if (!q) {
      items = [];
      list.replaceChildren();
      status.textContent = "";
      open(false);
      return;
    }
    try {
      const body = await api.call("GET", "/series", { params: { q, limit: LIMIT } });
      if (generation === asked) show(body.items, body.more);
    } catch (err) {
      if (generation !== asked) return;
      status.textContent = `Search failed: ${err.message}`;
      open(false);
    }
  }

  function pick(i) {
    const item = items[i];
    if (!item) return;
    open(false);
    status.textContent = `Charting ${item.metric} of ${item.resource_id}.`;
    onPick(item);
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    const n = items.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) {
        if (n) open(true);
        else return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive(active === -1 && step < 0 ? n - 1 : (active + step + n) % n);
    } else if (event.key === "Enter") {
      // Never submits the surrounding form: Enter here charts a result.
      event.preventDefault();
      clearTimeout(timer);
      if (!list.hidden && n) pick(active >= 0 ? active : 0);
      else search();
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      event.stopPropagation();
      open(false);
    }
  });
  input.addEventListener("blur", () => setTimeout(() => open(false), 150));
  input.addEventListener("focus", () => {
    if (items.length && input.value.trim()) open(true);
  });
  // mousedown, not click: the input keeps focus, and the pick happens before its blur.
  list.addEventListener("mousedown", (event) => {
    const option = event.target.closest('[role="option"]');
    if (!option) return;
    event.preventDefault();
    pick([...list.children].indexOf(option));
  });
}
