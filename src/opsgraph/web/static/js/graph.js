// The resource graph view: canvas rendering of the force layout, zoom (wheel) and pan (drag),
// node dragging, hover tooltips, labels, severity halos and selection.

import { ForceLayout } from "./layout.js";
import { SEVERITY_RANK, kindInfo, tracePath } from "./shapes.js";

const MIN_SCALE = 0.04;
const MAX_SCALE = 8;
const LABEL_ALL_SCALE = 0.9; // from this zoom on, every visible node gets a label
const MAX_LABELS = 400;
const LINK_LENGTH = { calls: 80, member: 40 };
const TICK_BUDGET_MS = 12;
const MAX_PULSES = 40;
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

/** "#rrggbb" / "#rgb" plus alpha -> "rgba(...)"; other colour syntaxes are returned unchanged. */
export function withAlpha(color, alpha) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color || "");
  if (!m) return color;
  let hex = m[1];
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  const n = Number.parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

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
    this.selected = selectedId !== null && index.has(selectedId) ? index.get(selectedId) : -1;
    this.hover = -1;
    this.requestRender();
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

  /**
   * Critical nodes get a "ping" ring: DOM elements animated by CSS (transform and opacity), so
   * the pulse costs no canvas redraws. Repositioned whenever the graph is drawn.
   */
  placePulses(list) {
    const layer = this.pulseLayer;
    if (!layer) return;
    const { k, x: tx, y: ty } = this.view;
    const shown = list.slice(0, MAX_PULSES);
    while (layer.children.length < shown.length) {
      const ring = document.createElement("span");
      ring.className = "pulse";
      layer.append(ring);
    }
    for (let j = 0; j < layer.children.length; j += 1) {
      const ring = layer.children[j];
      if (j >= shown.length) {
        ring.hidden = true;
        continue;
      }
      const i = shown[j];
      const size = Math.max(10, 2 * this.radius(i) * k + 6);
      ring.hidden = false;
      ring.style.left = `${this.layout.x[i] * k + tx}px`;
      ring.style.top = `${this.layout.y[i] * k + ty}px`;
      ring.style.width = `${size}px`;
      ring.style.height = `${size}px`;
    }
  }

  radius(i) {
    const n = this.nodes[i];
    // A floor in screen pixels keeps nodes visible zoomed out, anomalous ones larger still.
    if (n.anomalous) return Math.max(kindInfo(n.kind).radius * 1.3, 4.5 / this.view.k);
    return Math.max(kindInfo(n.kind).radius, 2.2 / this.view.k);
  }

  draw() {
    const { ctx, dpr, palette } = this;
    if (!palette || !this.width) return;
    const pulses = [];
    const { k, x: tx, y: ty } = this.view;
    const lx = this.layout.x;
    const ly = this.layout.y;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = palette.background;
    ctx.fillRect(0, 0, this.width, this.height);
    if (!this.nodes.length) return;

    // Visible world rectangle, with a margin for halos.
    const m = 40 / k;
    const vx0 = -tx / k - m;
    const vy0 = -ty / k - m;
    const vx1 = (this.width - tx) / k + m;
    const vy1 = (this.height - ty) / k + m;
    const visible = (i) => lx[i] >= vx0 && lx[i] <= vx1 && ly[i] >= vy0 && ly[i] <= vy1;

    ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * tx, dpr * ty);
    this.drawEdges(ctx, k, visible);

    // Halos behind anomalous nodes.
    const anomalous = [];
    for (let i = 0; i < this.nodes.length; i += 1) if (this.nodes[i].anomalous && visible(i)) anomalous.push(i);
    for (const i of anomalous) {
      const n = this.nodes[i];
      const color = palette.severity[n.severity] || palette.severity.medium;
      if (n.severity === "critical") pulses.push(i);
      const r = this.radius(i) * 2.6;
      const g = ctx.createRadialGradient(lx[i], ly[i], this.radius(i) * 0.6, lx[i], ly[i], r);
      g.addColorStop(0, withAlpha(color, 0.55));
      g.addColorStop(1, withAlpha(color, 0));
      ctx.fillStyle = g;
      ctx.beginPath();
      ctx.arc(lx[i], ly[i], r, 0, Math.PI * 2);
      ctx.fill();
    }

    // Nodes, one path per kind so thousands of nodes cost a few fill calls.
    const byKind = new Map();
    for (let i = 0; i < this.nodes.length; i += 1) {
      if (!visible(i)) continue;
      const kind = this.nodes[i].kind in palette.kinds ? this.nodes[i].kind : "generic";
      if (!byKind.has(kind)) byKind.set(kind, []);
      byKind.get(kind).push(i);
    }
    ctx.lineWidth = 1.2 / k;
    ctx.strokeStyle = palette.nodeStroke;
    for (const [kind, list] of byKind) {
      const shape = kindInfo(kind).shape;
      ctx.beginPath();
      for (const i of list) tracePath(ctx, shape, lx[i], ly[i], this.radius(i));
      ctx.fillStyle = palette.kinds[kind];
      ctx.fill();
      if (k > 0.25) ctx.stroke();
    }

    // Severity rings on top.
    for (const i of anomalous) {
      const n = this.nodes[i];
      ctx.beginPath();
      tracePath(ctx, kindInfo(n.kind).shape, lx[i], ly[i], this.radius(i) + 2.5 / k);
      ctx.strokeStyle = palette.severity[n.severity] || palette.severity.medium;
      ctx.lineWidth = 2.5 / k;
      ctx.stroke();
    }

    if (this.selected >= 0) {
      const i = this.selected;
      ctx.beginPath();
      ctx.arc(lx[i], ly[i], this.radius(i) + 7 / k, 0, Math.PI * 2);
      ctx.strokeStyle = palette.accent;
      ctx.lineWidth = 2.5 / k;
      ctx.setLineDash([5 / k, 3 / k]);
      ctx.stroke();
      ctx.setLineDash([]);
    }

    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.drawLabels(ctx, visible, anomalous);
    this.placePulses(pulses);

    if (!this.ready) {
      this.ready = true;
      this.onReady();
    }
  }

  drawEdges(ctx, k, visible) {
    const { palette } = this;
    const lx = this.layout.x;
    const ly = this.layout.y;
    const sel = this.selected;
    const groups = [
      { kind: "calls", color: palette.edge, dash: [] },
      { kind: "member", color: palette.edgeMember, dash: [4 / k, 3 / k] },
    ];
    ctx.lineWidth = 1 / k;
    for (const group of groups) {
      ctx.beginPath();
      for (const e of this.edges) {
        if ((e.kind === "member") !== (group.kind === "member")) continue;
        if (!visible(e.s) && !visible(e.t)) continue;
        ctx.moveTo(lx[e.s], ly[e.s]);
        ctx.lineTo(lx[e.t], ly[e.t]);
      }
      ctx.strokeStyle = group.color;
      ctx.setLineDash(group.dash);
      ctx.stroke();
    }
    ctx.setLineDash([]);

    // Arrowheads show the direction of calls once there is room for them.
    if (k >= 0.7) {
      ctx.beginPath();
      for (const e of this.edges) {
        if (e.kind === "member" || !visible(e.t)) continue;
        const dx = lx[e.t] - lx[e.s];
        const dy = ly[e.t] - ly[e.s];
        const len = Math.hypot(dx, dy);
        if (len < 1) continue;
        const ux = dx / len;
        const uy = dy / len;
        const r = this.radius(e.t) + 2;
        const px = lx[e.t] - ux * r;
        const py = ly[e.t] - uy * r;
        const a = 5;
        ctx.moveTo(px, py);
        ctx.lineTo(px - ux * a * 1.6 - uy * a * 0.7, py - uy * a * 1.6 + ux * a * 0.7);
        ctx.lineTo(px - ux * a * 1.6 + uy * a * 0.7, py - uy * a * 1.6 - ux * a * 0.7);
        ctx.closePath();
      }
      ctx.fillStyle = palette.edge;
      ctx.fill();
    }

    if (sel >= 0) {
      ctx.beginPath();
      for (const e of this.edges) {
        if (e.s !== sel && e.t !== sel) continue;
        ctx.moveTo(lx[e.s], ly[e.s]);
        ctx.lineTo(lx[e.t], ly[e.t]);
      }
      ctx.strokeStyle = palette.accent;
      ctx.lineWidth = 2 / k;
      ctx.stroke();
    }
  }

  drawLabels(ctx, visible, anomalous) {
    const { palette } = this;
    const { k, x: tx, y: ty } = this.view;
    const lx = this.layout.x;
    const ly = this.layout.y;
    // Priority: selected, hovered, anomalous (most severe first), then everything when zoomed in.
    const order = [];
    const seen = new Set();
    const push = (i) => {
      if (i >= 0 && !seen.has(i) && visible(i)) {
        seen.add(i);
        order.push(i);
      }
    };
    push(this.selected);
    push(this.hover);
    [...anomalous]
      .sort((a, b) => SEVERITY_RANK[this.nodes[b].severity] - SEVERITY_RANK[this.nodes[a].severity])
      .forEach(push);
    if (k >= LABEL_ALL_SCALE) {
      for (let i = 0; i < this.nodes.length && order.length < MAX_LABELS; i += 1) push(i);
    }
    const font = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.lineJoin = "round";
    const placed = [];
    for (const i of order) {
      const n = this.nodes[i];
      const text = n.name || n.id;
      ctx.font = n.anomalous || i === this.selected ? `600 ${font}` : font;
      const w = ctx.measureText(text).width;
      const sx = lx[i] * k + tx;
      const sy = ly[i] * k + ty + this.radius(i) * k + (n.anomalous ? 6 : 4);
      const box = [sx - w / 2 - 3, sy - 1, sx + w / 2 + 3, sy + 15];
      const important = i === this.selected || i === this.hover;
      if (!important && placed.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) {
        continue;
      }
      placed.push(box);
      ctx.lineWidth = 4;
      ctx.strokeStyle = palette.labelBg;
      ctx.strokeText(text, sx, sy);
      ctx.fillStyle = palette.text;
      ctx.fillText(text, sx, sy);
    }
  }
}

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}
