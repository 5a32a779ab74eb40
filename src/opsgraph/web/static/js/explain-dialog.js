// The Alerts page's explanation drawer: summary, hypotheses with confidence and evidence, the
// cascade path and the importance of the resource's own signals as an SVG bar chart.

import { explainWithProgress } from "./explain-progress.js";
import { el, metricLabel } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const ROW_H = 22;
const LABEL_W = 96;
const BAR_W = 220;
const VALUE_W = 44;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

/** A horizontal bar filled to `pct` percent (CSS), for one hypothesis' confidence. */
function meter(pct, label) {
  const fill = el("span", { className: "bar-fill" });
  fill.style.width = `${Math.max(pct, 1)}%`;
  return el(
    "span",
    {
      className: "bar",
      role: "meter",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(pct),
      "aria-label": label,
    },
    fill,
  );
}

export class ExplainDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.token = 0;
    this.q = (sel) => dialog.querySelector(sel);
    this.q('[data-action="close"]').addEventListener("click", () => this.close());
    // A click on the backdrop (outside the drawer's box) closes it, as Esc does.
    dialog.addEventListener("click", (e) => {
      if (e.target !== dialog) return;
      const box = dialog.getBoundingClientRect();
      const inside =
        e.clientX >= box.left && e.clientX <= box.right && e.clientY >= box.top && e.clientY <= box.bottom;
      if (!inside) this.close();
    });
    dialog.addEventListener("close", () => {
      this.token += 1;
      this.returnFocus?.focus();
    });
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** Open the drawer for `anomaly` and load its explanation; `opener` gets focus back. */
  async show(anomaly, opener) {
    const token = ++this.token;
    this.returnFocus = opener;
    this.dialog.dataset.anomalyId = String(anomaly.id);
    this.q('[data-testid="explain-subject"]').textContent =
      `#${anomaly.id} · ${anomaly.resource_id} · ${metricLabel(anomaly.metric)}`;
    this.dialog.classList.add("loading");
    for (const sel of ["explain-summary", "explain-hypotheses", "explain-path"]) {
      this.q(`[data-testid="${sel}"]`).replaceChildren();
    }
    this.q(".importance-chart svg").replaceChildren();
    if (!this.dialog.open) this.dialog.showModal();
    this.q('[data-action="close"]').focus();
    this.pending?.abort();
    const pending = new AbortController();
    this.pending = pending;
    let body;
    try {
      body = await explainWithProgress(anomaly.id, this.q('[data-testid="explain-status"]'), {
        signal: pending.signal,
      });
    } catch (err) {
      if (token !== this.token || err?.name === "AbortError") return;
      this.dialog.classList.remove("loading");
      this.q('[data-testid="explain-status"]').textContent =
        `No explanation: ${err.message || "error"}`;
      return;
    }
    if (token !== this.token) return;
    this.dialog.classList.remove("loading");
    this.render(body);
  }

  render(body) {
    this.dialog.dataset.loaded = "true";
    this.q('[data-testid="explain-status"]').textContent = body.method ? `Method: ${body.method}` : "";
    this.q('[data-testid="explain-summary"]').textContent = body.summary || "";

    const hypotheses = this.q('[data-testid="explain-hypotheses"]');
    for (const h of body.hypotheses || []) {
      const pct = Math.round((h.confidence ?? 0) * 100);
      hypotheses.append(
        el(
          "li",
          { className: "hypothesis", "data-testid": "hypothesis", "data-node": h.node },
          el(
            "div",
            { className: "hyp-head" },
            el("span", { className: "hyp-node" }, h.node),
            el("span", { className: "hyp-conf" }, `${pct}%`),
          ),
          meter(pct, `confidence that ${h.node} is the root cause`),
          el("ul", { className: "evidence" }, ...(h.evidence || []).map((e) => el("li", {}, e.text))),
        ),
      );
    }
    if (!hypotheses.children.length) hypotheses.append(el("li", { className: "muted" }, "None ranked."));

    const path = this.q('[data-testid="explain-path"]');
    for (const id of body.cascade_path || []) path.append(el("li", { "data-node": id }, id));
    if (!path.children.length) path.append(el("li", { className: "muted" }, "—"));

    this.drawImportance(body.feature_importance || {});
  }

  /** One labelled horizontal bar per signal, largest first, scaled to the largest share. */
  drawImportance(importance) {
    const chart = this.q(".importance-chart svg");
    const entries = Object.entries(importance).sort((a, b) => b[1] - a[1]);
    const width = LABEL_W + BAR_W + VALUE_W;
    const height = Math.max(entries.length, 1) * ROW_H;
    chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
    chart.setAttribute("width", String(width));
    chart.setAttribute("height", String(height));
    if (!entries.length) {
      chart.append(svg("text", { x: 0, y: 15, class: "imp-empty" }, "No signal deviated."));
      return;
    }
    const top = Math.max(...entries.map(([, v]) => v), 1e-9);
    entries.forEach(([metric, share], i) => {
      const pct = Math.round(share * 100);
      const y = i * ROW_H;
      const g = svg("g", { "data-testid": "importance-bar", "data-metric": metric });
      g.append(
        svg("title", {}, `${metricLabel(metric)}: ${pct}% of the deviation`),
        svg("text", { x: 0, y: y + 15, class: "imp-label" }, metricLabel(metric)),
        svg("rect", { x: LABEL_W, y: y + 5, width: BAR_W, height: 12, rx: 3, class: "imp-track" }),
        svg("rect", {
          x: LABEL_W,
          y: y + 5,
          width: Math.max(2, (BAR_W * share) / top),
          height: 12,
          rx: 3,
          class: "imp-fill",
        }),
        svg("text", { x: LABEL_W + BAR_W + 6, y: y + 15, class: "imp-pct" }, `${pct}%`),
      );
      chart.append(g);
    });
  }
}
