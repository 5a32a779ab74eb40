// An action's or an audit record's result, rendered for people rather than as raw JSON: a
// message first when there is one, then each field as "label value" (times on the console's
// clock, yes / no, lists joined, nested objects one level deep), the rare rest behind "more".

import { el, formatDateTime } from "./format.js";

/** Fields shown before "more". */
const SHOWN = 4;

function label(key) {
  const words = key.replace(/_ts$/, "").replace(/_s$/, " (s)").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function scalar(key, value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if ((key === "ts" || key.endsWith("_ts")) && value > 1e8) return formatDateTime(value);
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  }
  if (Array.isArray(value)) {
    if (!value.length) return "none";
    const items = value.map((v) => (v && typeof v === "object" ? JSON.stringify(v) : String(v)));
    const text = items.slice(0, 5).join(", ");
    return items.length > 5 ? `${text} and ${items.length - 5} more` : text;
  }
  return String(value);
}

/** [label, text] pairs of an object, nested objects flattened one level. */
function fields(value) {
  const out = [];
  for (const [key, v] of Object.entries(value)) {
    if (key === "message") continue;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [sub, w] of Object.entries(v)) out.push([`${label(key)}: ${label(sub).toLowerCase()}`, scalar(sub, w)]);
    } else {
      out.push([label(key), scalar(key, v)]);
    }
  }
  return out;
}

function list(pairs) {
  return el(
    "dl",
    { className: "result-fields" },
    ...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]),
  );
}

/** An element showing `value` (an object; anything else as text), or null when empty. */
export function renderResult(value) {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value)) return el("span", {}, scalar("", value));
  const pairs = fields(value);
  if (!pairs.length && !value.message) return null;
  const box = el("div", { className: "result", "data-testid": "result" });
  if (value.message) box.append(el("p", { className: "result-message" }, String(value.message)));
  if (pairs.length) box.append(list(pairs.slice(0, SHOWN)));
  if (pairs.length > SHOWN) {
    box.append(
      el(
        "details",
        { className: "result-more" },
        el("summary", {}, `${pairs.length - SHOWN} more`),
        list(pairs.slice(SHOWN)),
      ),
    );
  }
  return box;
}
