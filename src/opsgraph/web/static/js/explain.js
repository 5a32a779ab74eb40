// The explanation of one anomaly: its likely root causes with confidence and evidence, the
// cascade path (also drawn on the graph), the importance of the resource's own signals and the
// one-line summary, from GET /anomalies/{id}/explain.

import { explainWithProgress } from "./explain-progress.js";
import { el, metricLabel } from "./format.js";

export class ExplainView {
  /**
   * root: the explanation <section>; nodeName(id): display name; onSelect(id): a node of the
   * explanation was picked; onPath(ids): the cascade path to draw ([] to clear).
   */
  constructor(root, { nodeName, onSelect, onPath }) {
    this.root = root;
    this.nodeName = nodeName;
    this.onSelect = onSelect;
    this.onPath = onPath;
    this.token = 0;
    this.anomalyId = null;
    this.q = (sel) => root.querySelector(sel);
    root.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-node]");
      if (button) this.onSelect(button.dataset.node);
    });
  }

  clear() {
    this.token += 1;
    this.anomalyId = null;
    this.root.hidden = true;
    delete this.root.dataset.anomalyId;
    this.onPath([]);
  }

  async show(anomalyId) {
    const token = ++this.token;
    this.anomalyId = anomalyId;
    this.root.hidden = false;
    this.root.dataset.anomalyId = anomalyId;
    this.root.classList.add("loading");
    for (const sel of [
      ".explain-summary",
      ".explain-hypotheses",
      ".explain-path",
      ".explain-importance",
      ".explain-gnn",
    ]) {
      this.q(sel).replaceChildren();
    }
    this.pending?.abort();
    const pending = new AbortController();
    this.pending = pending;
    let body;
    try {
      body = await explainWithProgress(anomalyId, this.q(".explain-status"), { signal: pending.signal });
    } catch (err) {
      if (token !== this.token || err?.name === "AbortError") return;
      this.root.classList.remove("loading");
      this.q(".explain-status").textContent = `No explanation: ${err.message || "error"}`;
      this.onPath([]);
      return;
    }
    if (token !== this.token) return;
    this.root.classList.remove("loading");
    this.render(body);
    this.root.scrollIntoView({ block: "nearest" });
  }

  nodeButton(id) {
    return el(
      "button",
      { type: "button", className: "link-btn", "data-node": id, title: id },
      this.nodeName(id),
    );
  }

  render(body) {
    this.q(".explain-status").textContent = body.method ? `Method: ${body.method}` : "";
    this.q(".explain-summary").textContent = body.summary || "";
    const hypotheses = this.q(".explain-hypotheses");
    for (const h of body.hypotheses || []) {
      const pct = Math.round((h.confidence ?? 0) * 100);
      hypotheses.append(
        el(
          "li",
          { className: "hypothesis", "data-testid": "hypothesis", "data-node": h.node },
          el(
            "div",
            { className: "hyp-head" },
            this.nodeButton(h.node),
            el("span", { className: "hyp-conf" }, `${pct}%`),
          ),
          bar(pct, {
            role: "meter",
            "aria-valuemin": "0",
            "aria-valuemax": "100",
            "aria-valuenow": String(pct),
            "aria-label": `confidence that ${this.nodeName(h.node)} is the root cause`,
          }),
          el(
            "ul",
            { className: "evidence" },
            ...(h.evidence || []).map((e) => el("li", {}, e.text)),
          ),
        ),
      );
    }
    const path = this.q(".explain-path");
    (body.cascade_path || []).forEach((id, i) => {
      if (i) path.append(el("span", { className: "arrow", "aria-hidden": "true" }, " → "));
      path.append(this.nodeButton(id));
    });
    if (!body.cascade_path?.length) path.textContent = "—";
    const importance = this.q(".explain-importance");
    const entries = Object.entries(body.feature_importance || {}).sort((a, b) => b[1] - a[1]);
    for (const [metric, share] of entries) {
      const pct = Math.round(share * 100);
      importance.append(
        el(
          "li",
          { className: "importance", "data-testid": "importance-bar", "data-metric": metric },
          el("span", { className: "imp-name" }, metricLabel(metric)),
          bar(pct, { role: "img", "aria-label": `${metricLabel(metric)}: ${pct}% of the evidence` }),
          el("span", { className: "imp-value" }, `${pct}%`),
        ),
      );
    }
    this.renderGnn(body.gnn);
    this.onPath(body.cascade_path || []);
  }

  /** What the graph model says of the resource, and the neighbours it leaned on. */
  renderGnn(gnn) {
    const line = this.q(".explain-gnn");
    if (!gnn) {
      line.textContent = "Importance: each signal's share of the deviation (no graph model served yet).";
      return;
    }
    const model = gnn.model ? `${gnn.model.name} v${gnn.model.version}` : "graph model";
    const near = (gnn.important_nodes || []).filter((n) => n.node !== gnn.node_id).slice(0, 3);
    line.append(`Importance from ${model} (${gnn.method}), score ${gnn.score.toFixed(2)}`);
    if (near.length) {
      line.append("; neighbours it leaned on: ");
      near.forEach((n, i) => {
        if (i) line.append(", ");
        line.append(this.nodeButton(n.node));
      });
    }
    if (gnn.fallback_reason) line.append(`. ${gnn.fallback_reason}`);
  }
}

/** A horizontal bar filled to `pct` percent. */
function bar(pct, attrs) {
  const fill = el("span", { className: "bar-fill" });
  fill.style.width = `${Math.max(pct, 1)}%`;
  return el("span", { className: "bar", ...attrs }, fill);
}
