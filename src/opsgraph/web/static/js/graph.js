// The resource graph view: runs the force layout, owns the camera (wheel zoom, drag pan, fit),
// node dragging, hover tooltips, selection and the frame loop; drawing is in render.js.

import { ForceLayout } from "./layout.js";
import { drawGraph } from "./render.js";
import { SEVERITY_RANK, kindInfo } from "./shapes.js";

const MIN_SCALE = 0.04;
const MAX_SCALE = 8;
const LINK_LENGTH = { calls: 80, member: 40 };
const TICK_BUDGET_MS = 12;
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

export class GraphView {
  /**
   * canvas: the <canvas>; tooltip: an element shown on hover (optional); pulseLayer: an
   * element over the canvas for the rings around critical nodes (optional);
   * onSelect(id | null): a node was clicked (or the background, with null).
   */
  constructor(canvas, { tooltip = null, pulseLayer = null, onSelect = () => {}, onReady = () => {} } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.pulseLayer = pulseLayer;
    this.dirty = true;
    this.tooltip = tooltip;
    this.onSelect = onSelect;
    this.onReady = onReady;
    this.layout = new ForceLayout();
    this.nodes = [];
    this.index = new Map();
    this.dimmed = new Uint8Array(0);
    this.filter = null;
    this.edges = [];
    this.signature = "";
    this.palette = null;
    this.view = { k: 1, x: 0, y: 0 }; // screen = world * k + (x, y), in CSS pixels
    this.width = 0;
    this.height = 0;
    this.dpr = 1;
    this.autoFit = true;
    this.hover = -1;
    this.selected = -1;
    this.path = []; // node indices of the cascade path being shown, root first
    this.insets = { right: 0, bottom: 0 };
    this.hoverAt = [0, 0];
    this.tooltipStale = false;
    this.drag = null;
    this.tween = null;
    this.frameRequested = false;
    this.ready = false;
    this.bind();
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  // ---- data -------------------------------------------------------------------------------

  /** Replace the graph. nodes: [{id, kind, name, severity, anomalous, score}], edges: [{source, target, kind}] */
  setData(nodes, edges) {
    const signature = `${nodes.map((n) => n.id).join("\u0001")}|${edges
      .map((e) => `${e.source}>${e.target}`)
      .join("\u0001")}`;
    if (signature === this.signature) {
      this.updateNodes(nodes);
      return;
    }
    const previous = new Map();
    const oldIndex = this.index;
    const index = new Map();
    nodes.forEach((node, i) => {
      index.set(node.id, i);
      const j = oldIndex.get(node.id);
      if (j !== undefined) previous.set(i, [this.layout.x[j], this.layout.y[j]]);
    });
    const selectedId = this.selected >= 0 ? this.nodes[this.selected]?.id : null;
    this.nodes = nodes.map((n) => ({ ...n }));
    this.index = index;
    this.edges = [];
    const links = [];
    for (const e of edges) {
      const s = index.get(e.source);
      const t = index.get(e.target);
      if (s === undefined || t === undefined || s === t) continue;
      this.edges.push({ s, t, kind: e.kind });
      links.push({ source: s, target: t, length: LINK_LENGTH[e.kind] || 60 });
    }
    this.layout.setGraph(nodes.length, links, previous);
    this.signature = signature;
    this.dimmed = new Uint8Array(nodes.length);
    this.applyFilter();
    this.selected = selectedId !== null && index.has(selectedId) ? index.get(selectedId) : -1;
    this.path = (this.pathIds || []).map((id) => index.get(id)).filter((i) => i !== undefined);
    this.hover = -1;
    this.requestRender();
  }

  /** Show only the nodes `keep(node)` accepts (the others stay faint); null shows all.
   * Returns how many nodes are shown. */
  setFilter(keep) {
    this.filter = keep;
    const shown = this.applyFilter();
    this.requestRender();
    return shown;
  }

  applyFilter() {
    if (this.dimmed.length !== this.nodes.length) this.dimmed = new Uint8Array(this.nodes.length);
    let shown = 0;
    this.nodes.forEach((n, i) => {
      const keep = !this.filter || this.filter(n);
      this.dimmed[i] = keep ? 0 : 1;
      shown += keep ? 1 : 0;
    });
    return shown;
  }

  /** Update severity / anomalous / score of known nodes: [{id, ...fields}]. */
  updateNodes(updates) {
    const hovered = this.hover >= 0 ? this.nodes[this.hover].id : null;
    for (const u of updates) {
      if (u.id === hovered && this.tooltip && !this.tooltip.hidden) this.tooltipStale = true;
      const i = this.index.get(u.id);
      if (i === undefined) continue;
      const node = this.nodes[i];
      for (const key of ["severity", "anomalous", "score", "name", "kind"]) {
        if (u[key] !== undefined) node[key] = u[key];
      }
    }
    if (this.tooltipStale) {
      this.tooltipStale = false;
      this.setHover(this.hover, this.hoverAt[0], this.hoverAt[1]);
    }
    this.requestRender();
  }

  nodeState(id) {
    const i = this.index.get(id);
    if (i === undefined) return null;
    const n = this.nodes[i];
    return { severity: n.severity, anomalous: Boolean(n.anomalous) };
  }

  setPalette(palette) {
    this.palette = palette;
    this.requestRender();
  }

  /** Draw a cascade path (resource ids, root first) over the graph; [] clears it. */
  setPath(ids) {
    this.pathIds = ids;
    this.path = ids.map((id) => this.index.get(id)).filter((i) => i !== undefined);
    this.canvas.dataset.path = ids.join(" ");
    this.requestRender();
  }

  // ---- selection and camera ---------------------------------------------------------------

  /**
   * Room (CSS px) taken by overlays: `right` by the node panel, `bottom` by the legend. Fitting
   * and centring use what is left.
   */
  setInsets({ right = this.insets.right, bottom = this.insets.bottom } = {}) {
    const next = {
      right: Math.max(0, Math.min(right, this.width - 120)),
      bottom: Math.max(0, Math.min(bottom, this.height - 120)),
    };
    if (next.right === this.insets.right && next.bottom === this.insets.bottom) return;
    this.insets = next;
    // Until the user takes the camera, keep the whole graph in the part left visible.
    if (this.autoFit) this.fitView(true);
  }

  select(id, { center = false } = {}) {
    const i = id === null || id === undefined ? -1 : (this.index.get(id) ?? -1);
    this.selected = i;
    if (i >= 0) {
      const free = this.width - this.insets.right;
      const sx = this.layout.x[i] * this.view.k + this.view.x;
      const sy = this.layout.y[i] * this.view.k + this.view.y;
      const hidden = sx < 30 || sx > free - 30 || sy < 30 || sy > this.height - this.insets.bottom - 30;
      if (center || (hidden && !this.autoFit)) {
        // Bring the node to the middle of the part of the canvas the panel leaves free.
        this.autoFit = false;
        const k = center ? Math.max(this.view.k, 1.2) : this.view.k;
        this.animateTo({
          k,
          x: free / 2 - this.layout.x[i] * k,
          y: (this.height - this.insets.bottom) / 2 - this.layout.y[i] * k,
        });
      }
    }
    this.requestRender();
  }

  /** Client (page) coordinates of a node's centre, or null. */
  screenPosition(id) {
    const i = this.index.get(id);
    if (i === undefined) return null;
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: rect.left + this.layout.x[i] * this.view.k + this.view.x,
      y: rect.top + this.layout.y[i] * this.view.k + this.view.y,
    };
  }

  fitView(animate = false) {
    if (!this.nodes.length || !this.width) return;
    const [x0, y0, x1, y1] = this.layout.bounds();
    const padX = 80; // labels are centred under nodes and run wider than them
    const padY = 36;
    const freeW = this.width - this.insets.right;
    const freeH = this.height - this.insets.bottom;
    const k = clamp(
      Math.min((freeW - padX * 2) / Math.max(x1 - x0, 1), (freeH - padY * 2) / Math.max(y1 - y0, 1)),
      MIN_SCALE,
      2.2,
    );
    const target = { k, x: freeW / 2 - ((x0 + x1) / 2) * k, y: freeH / 2 - ((y0 + y1) / 2) * k };
    if (animate) {
      this.animateTo(target);
    } else {
      this.view = target;
      this.tween = null;
    }
    this.requestRender();
  }

  zoomAt(sx, sy, factor) {
    const k = clamp(this.view.k * factor, MIN_SCALE, MAX_SCALE);
    const f = k / this.view.k;
    this.view = { k, x: sx - (sx - this.view.x) * f, y: sy - (sy - this.view.y) * f };
    this.autoFit = false;
    this.tween = null;
    this.requestRender();
  }

  zoomBy(factor) {
    this.zoomAt(this.width / 2, this.height / 2, factor);
  }

  panBy(dx, dy) {
    this.view = { ...this.view, x: this.view.x + dx, y: this.view.y + dy };
    this.autoFit = false;
    this.tween = null;
    this.requestRender();
  }

  animateTo(target) {
    if (reducedMotion.matches) {
      this.view = target;
      this.tween = null;
    } else {
      this.tween = { from: { ...this.view }, to: target, start: performance.now(), duration: 350 };
    }
    this.requestRender();
  }

  /** The most severe anomalous node after the selected one (keyboard "n"). */
  nextAnomalous() {
    const list = this.nodes
      .map((n, i) => ({ n, i }))
      .filter(({ n }) => n.anomalous)
      .sort((a, b) => SEVERITY_RANK[b.n.severity] - SEVERITY_RANK[a.n.severity] || (b.n.score || 0) - (a.n.score || 0));
    if (!list.length) return null;
    const at = list.findIndex(({ i }) => i === this.selected);
    return list[(at + 1) % list.length].n.id;
  }

  // ---- input --------------------------------------------------------------------------------

  bind() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.pointerDown(e));
    c.addEventListener("pointermove", (e) => this.pointerMove(e));
    c.addEventListener("pointerup", (e) => this.pointerUp(e));
    c.addEventListener("pointercancel", (e) => this.pointerUp(e, true));
    c.addEventListener("pointerleave", () => this.setHover(-1));
    c.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.height : 1;
        const [sx, sy] = this.local(e);
        this.zoomAt(sx, sy, Math.exp(-e.deltaY * unit * 0.0015));
      },
      { passive: false },
    );
    c.addEventListener("keydown", (e) => this.keyDown(e));
  }

  local(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  hit(sx, sy) {
    const { k, x, y } = this.view;
    const wx = (sx - x) / k;
    const wy = (sy - y) / k;
    let best = -1;
    let bestD = Infinity;
    const lx = this.layout.x;
    const ly = this.layout.y;
    for (let i = 0; i < this.nodes.length; i += 1) {
      const r = this.radius(i) + 4 / k;
      const dx = lx[i] - wx;
      const dy = ly[i] - wy;
      const d = dx * dx + dy * dy;
      if (d <= r * r && d < bestD) {
        best = i;
        bestD = d;
      }
    }
    return best;
  }

  pointerDown(e) {
    if (e.button !== 0) return;
    const [sx, sy] = this.local(e);
    this.drag = { pointer: e.pointerId, sx, sy, lastX: sx, lastY: sy, node: this.hit(sx, sy), moved: false };
    this.canvas.setPointerCapture(e.pointerId);
  }

  pointerMove(e) {
    const [sx, sy] = this.local(e);
    const d = this.drag;
    if (!d || d.pointer !== e.pointerId) {
      this.setHover(this.hit(sx, sy), sx, sy);
      return;
    }
    if (!d.moved && Math.hypot(sx - d.sx, sy - d.sy) > 4) {
      d.moved = true;
      this.canvas.classList.add("dragging");
      if (d.node >= 0) this.layout.alphaTarget = 0.2;
    }
    if (!d.moved) return;
    if (d.node >= 0) {
      const { k, x, y } = this.view;
      this.layout.pin(d.node, (sx - x) / k, (sy - y) / k);
      this.layout.reheat(0.2);
      this.autoFit = false;
      this.setHover(d.node, sx, sy);
      this.requestRender();
    } else {
      this.panBy(sx - d.lastX, sy - d.lastY);
    }
    d.lastX = sx;
    d.lastY = sy;
  }

  pointerUp(e, cancelled = false) {
    const d = this.drag;
    if (!d || d.pointer !== e.pointerId) return;
    this.drag = null;
    this.canvas.classList.remove("dragging");
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (d.node >= 0 && d.moved) {
      this.layout.unpin(d.node);
      this.layout.alphaTarget = 0;
    }
    if (!d.moved && !cancelled) this.onSelect(d.node >= 0 ? this.nodes[d.node].id : null);
  }

  keyDown(e) {
    const step = 60;
    const actions = {
      "+": () => this.zoomBy(1.25),
      "=": () => this.zoomBy(1.25),
      "-": () => this.zoomBy(0.8),
      _: () => this.zoomBy(0.8),
      0: () => {
        this.autoFit = false;
        this.fitView(true);
      },
      ArrowLeft: () => this.panBy(step, 0),
      ArrowRight: () => this.panBy(-step, 0),
      ArrowUp: () => this.panBy(0, step),
      ArrowDown: () => this.panBy(0, -step),
      Escape: () => this.onSelect(null),
      n: () => {
        const id = this.nextAnomalous();
        if (id) this.onSelect(id, { center: true });
      },
    };
    const action = actions[e.key];
    if (!action || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    action();
  }

  setHover(i, sx = 0, sy = 0) {
    this.hoverAt = [sx, sy];
    if (i !== this.hover) {
      this.hover = i;
      this.canvas.style.cursor = i >= 0 ? "pointer" : "";
      this.requestRender();
    }
    const tip = this.tooltip;
    if (!tip) return;
    if (i < 0) {
      tip.hidden = true;
      return;
    }
    const n = this.nodes[i];
    const score = typeof n.score === "number" ? n.score.toFixed(2) : "–";
    tip.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = n.name || n.id;
    const meta = document.createElement("span");
    meta.textContent = `${kindInfo(n.kind).label} · ${n.region || "no region"}`;
    const state = document.createElement("span");
    state.className = `sev-text sev-${n.severity || "low"}`;
    state.textContent = n.anomalous ? `${n.severity} anomaly · score ${score}` : `normal · score ${score}`;
    tip.append(title, meta, state);
    tip.hidden = false;
    const pad = 14;
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    tip.style.left = `${Math.min(sx + pad, this.width - w - 4)}px`;
    tip.style.top = `${sy + pad + h > this.height ? sy - h - pad : sy + pad}px`;
  }

  // ---- rendering ------------------------------------------------------------------------------

  resize() {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (!w || !h) return;
    if (this.width) {
      // Keep the same world point in the middle of the view.
      this.view = { ...this.view, x: this.view.x + (w - this.width) / 2, y: this.view.y + (h - this.height) / 2 };
    }
    this.width = w;
    this.height = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    if (this.autoFit) this.fitView();
    this.requestRender();
  }

  /** Something changed: redraw the graph layer on the next frame. */
  requestRender() {
    this.dirty = true;
    this.scheduleFrame();
  }

  scheduleFrame() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame((t) => this.frame(t));
  }

  frame(now) {
    this.frameRequested = false;
    const layout = this.layout;
    let busy = false;
    if (layout.running && this.nodes.length) {
      const until = performance.now() + TICK_BUDGET_MS;
      do layout.tick();
      while (layout.running && performance.now() < until);
      busy = true;
      if (this.autoFit) this.fitView();
    }
    if (this.tween) {
      const { from, to, start, duration } = this.tween;
      const p = Math.min(1, (now - start) / duration);
      const e = 1 - (1 - p) ** 3;
      this.view = {
        k: from.k + (to.k - from.k) * e,
        x: from.x + (to.x - from.x) * e,
        y: from.y + (to.y - from.y) * e,
      };
      if (p >= 1) this.tween = null;
      busy = true;
    }
    if (busy || this.dirty) {
      this.dirty = false;
      this.draw();
    }
    if (busy || this.dirty) this.scheduleFrame();
  }

  radius(i) {
    const n = this.nodes[i];
    // A floor in screen pixels keeps nodes visible zoomed out, anomalous ones larger still.
    if (n.anomalous) return Math.max(kindInfo(n.kind).radius * 1.3, 4.5 / this.view.k);
    return Math.max(kindInfo(n.kind).radius, 2.2 / this.view.k);
  }

  draw() {
    drawGraph(this);
  }
}

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}
