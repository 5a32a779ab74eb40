// Canvas drawing of the resource graph: edges (with arrowheads), severity halos, nodes batched
// by kind, severity rings, selection, labels; plus the CSS "ping" rings of critical nodes.

import { SEVERITY_RANK, kindInfo, tracePath } from "./shapes.js";

const LABEL_ALL_SCALE = 0.9; // from this zoom on, every visible node gets a label
const MAX_LABELS = 400;
const MAX_PULSES = 40;

/** "#rrggbb" / "#rgb" plus alpha -> "rgba(...)"; other colour syntaxes are returned unchanged. */
export function withAlpha(color, alpha) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color || "");
  if (!m) return color;
  let hex = m[1];
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  const n = Number.parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Draw the whole graph of `g` (a GraphView: its canvas, camera, layout and nodes). */
export function drawGraph(g) {
  const { ctx, dpr, palette } = g;
  if (!palette || !g.width) return;
  const pulses = [];
  const { k, x: tx, y: ty } = g.view;
  const lx = g.layout.x;
  const ly = g.layout.y;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = palette.background;
  ctx.fillRect(0, 0, g.width, g.height);
  if (!g.nodes.length) {
    placePulses(g, []);
    return;
  }

  // Visible world rectangle, with a margin for halos.
  const m = 40 / k;
  const vx0 = -tx / k - m;
  const vy0 = -ty / k - m;
  const vx1 = (g.width - tx) / k + m;
  const vy1 = (g.height - ty) / k + m;
  const visible = (i) => lx[i] >= vx0 && lx[i] <= vx1 && ly[i] >= vy0 && ly[i] <= vy1;

  ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * tx, dpr * ty);
  drawEdges(g, ctx, k, visible);
  drawPath(g, ctx, k);

  // Halos behind anomalous nodes.
  const anomalous = [];
  for (let i = 0; i < g.nodes.length; i += 1) if (g.nodes[i].anomalous && visible(i)) anomalous.push(i);
  for (const i of anomalous) {
    const n = g.nodes[i];
    const color = palette.severity[n.severity] || palette.severity.medium;
    if (n.severity === "critical") pulses.push(i);
    const r = g.radius(i) * 2.6;
    const glow = ctx.createRadialGradient(lx[i], ly[i], g.radius(i) * 0.6, lx[i], ly[i], r);
    glow.addColorStop(0, withAlpha(color, 0.55));
    glow.addColorStop(1, withAlpha(color, 0));
    ctx.fillStyle = glow;
    ctx.beginPath();
    ctx.arc(lx[i], ly[i], r, 0, Math.PI * 2);
    ctx.fill();
  }

  // Nodes, one path per kind so thousands of nodes cost a few fill calls; nodes the filter
  // leaves out stay in place, faint, so the layout does not jump.
  const byKind = new Map();
  for (let i = 0; i < g.nodes.length; i += 1) {
    if (!visible(i)) continue;
    const kind = g.nodes[i].kind in palette.kinds ? g.nodes[i].kind : "generic";
    const key = `${g.dimmed[i] ? 1 : 0}${kind}`;
    if (!byKind.has(key)) byKind.set(key, { kind, dim: g.dimmed[i] === 1, list: [] });
    byKind.get(key).list.push(i);
  }
  ctx.lineWidth = 1.2 / k;
  ctx.strokeStyle = palette.nodeStroke;
  for (const { kind, dim, list } of byKind.values()) {
    const shape = kindInfo(kind).shape;
    ctx.globalAlpha = dim ? 0.15 : 1;
    ctx.beginPath();
    for (const i of list) tracePath(ctx, shape, lx[i], ly[i], g.radius(i));
    ctx.fillStyle = palette.kinds[kind];
    ctx.fill();
    if (k > 0.25) ctx.stroke();
  }
  ctx.globalAlpha = 1;

  // Severity rings on top.
  for (const i of anomalous) {
    const n = g.nodes[i];
    ctx.beginPath();
    tracePath(ctx, kindInfo(n.kind).shape, lx[i], ly[i], g.radius(i) + 2.5 / k);
    ctx.strokeStyle = palette.severity[n.severity] || palette.severity.medium;
    ctx.lineWidth = 2.5 / k;
    ctx.stroke();
  }

  if (g.selected >= 0) {
    const i = g.selected;
    ctx.beginPath();
    ctx.arc(lx[i], ly[i], g.radius(i) + 7 / k, 0, Math.PI * 2);
    ctx.strokeStyle = palette.accent;
    ctx.lineWidth = 2.5 / k;
    ctx.setLineDash([5 / k, 3 / k]);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  drawLabels(g, ctx, visible, anomalous);
  placePulses(g, pulses);

  if (!g.ready) {
    g.ready = true;
    g.onReady();
  }
}

function drawEdges(g, ctx, k, visible) {
  const { palette } = g;
  const lx = g.layout.x;
  const ly = g.layout.y;
  const sel = g.selected;
  const groups = [
    { kind: "calls", color: palette.edge, dash: [] },
    { kind: "member", color: palette.edgeMember, dash: [4 / k, 3 / k] },
  ];
  ctx.lineWidth = 1 / k;
  for (const group of groups) {
    ctx.beginPath();
    for (const e of g.edges) {
      if ((e.kind === "member") !== (group.kind === "member")) continue;
      if (!visible(e.s) && !visible(e.t)) continue;
      if (g.dimmed[e.s] || g.dimmed[e.t]) continue;
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
    for (const e of g.edges) {
      if (e.kind === "member" || !visible(e.t)) continue;
      const dx = lx[e.t] - lx[e.s];
      const dy = ly[e.t] - ly[e.s];
      const len = Math.hypot(dx, dy);
      if (len < 1) continue;
      const ux = dx / len;
      const uy = dy / len;
      const r = g.radius(e.t) + 2;
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
    for (const e of g.edges) {
      if (e.s !== sel && e.t !== sel) continue;
      ctx.moveTo(lx[e.s], ly[e.s]);
      ctx.lineTo(lx[e.t], ly[e.t]);
    }
    ctx.strokeStyle = palette.accent;
    ctx.lineWidth = 2 / k;
    ctx.stroke();
  }
}

function drawLabels(g, ctx, visible, anomalous) {
  const { palette } = g;
  const { k, x: tx, y: ty } = g.view;
  const lx = g.layout.x;
  const ly = g.layout.y;
  // Priority: selected, hovered, anomalous (most severe first), then everything when zoomed in.
  const order = [];
  const seen = new Set();
  const push = (i) => {
    if (i >= 0 && !seen.has(i) && visible(i)) {
      seen.add(i);
      order.push(i);
    }
  };
  push(g.selected);
  push(g.hover);
  [...anomalous]
    .sort((a, b) => SEVERITY_RANK[g.nodes[b].severity] - SEVERITY_RANK[g.nodes[a].severity])
    .forEach(push);
  if (k >= LABEL_ALL_SCALE) {
    for (let i = 0; i < g.nodes.length && order.length < MAX_LABELS; i += 1) push(i);
  }
  const font = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.lineJoin = "round";
  const placed = [];
  for (const i of order) {
    const n = g.nodes[i];
    const text = n.name || n.id;
    ctx.font = n.anomalous || i === g.selected ? `600 ${font}` : font;
    const w = ctx.measureText(text).width;
    const sx = lx[i] * k + tx;
    const gap = g.radius(i) * k + (n.anomalous ? 6 : 4);
    const important = i === g.selected || i === g.hover;
    // Below the node, else above it; a label that fits in neither place is left out, so no
    // two labels overlap (the selected and the hovered one are always drawn).
    const spots = [ly[i] * k + ty + gap, ly[i] * k + ty - gap - 15];
    let sy = null;
    let box = null;
    for (const y of spots) {
      const b = [sx - w / 2 - 3, y - 1, sx + w / 2 + 3, y + 15];
      if (important || !placed.some((p) => p[0] < b[2] && b[0] < p[2] && p[1] < b[3] && b[1] < p[3])) {
        sy = y;
        box = b;
        break;
      }
    }
    if (box === null) continue;
    placed.push(box);
    ctx.lineWidth = 4;
    ctx.strokeStyle = palette.labelBg;
    ctx.strokeText(text, sx, sy);
    ctx.fillStyle = palette.text;
    ctx.fillText(text, sx, sy);
  }
  g.labelBoxes = placed;
}

/**
 * Critical nodes get a "ping" ring: DOM elements animated by CSS (transform and opacity), so
 * the pulse costs no canvas redraws. Repositioned whenever the graph is drawn.
 */
function placePulses(g, list) {
  const layer = g.pulseLayer;
  if (!layer) return;
  const { k, x: tx, y: ty } = g.view;
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
    const size = Math.max(10, 2 * g.radius(i) * k + 6);
    ring.hidden = false;
    ring.style.left = `${g.layout.x[i] * k + tx}px`;
    ring.style.top = `${g.layout.y[i] * k + ty}px`;
    ring.style.width = `${size}px`;
    ring.style.height = `${size}px`;
  }
}

/** The cascade path of an explanation: a thick accent line from the root, which gets a ring. */
function drawPath(g, ctx, k) {
  const path = g.path || [];
  if (!path.length) return;
  const lx = g.layout.x;
  const ly = g.layout.y;
  ctx.save();
  ctx.strokeStyle = withAlpha(g.palette.accent, 0.85);
  ctx.lineWidth = 4 / k;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  path.forEach((i, j) => (j ? ctx.lineTo(lx[i], ly[i]) : ctx.moveTo(lx[i], ly[i])));
  ctx.stroke();
  const root = path[0];
  ctx.lineWidth = 3 / k;
  ctx.beginPath();
  ctx.arc(lx[root], ly[root], g.radius(root) + 6 / k, 0, Math.PI * 2);
  ctx.stroke();
  ctx.restore();
}
