// Small canvas line charts for the node panel: one series, shaded anomaly windows, a dot on
// the latest value. Sized from the canvas's CSS box and drawn crisp on high-DPI screens.

import { withAlpha } from "./render.js";

/**
 * canvas: a <canvas> sized by CSS; series: {ts: number[], values: number[]};
 * opts: {start, end, palette, windows: [{start, end, severity}]}
 */
export function drawSparkline(canvas, series, { start, end, palette, windows = [] }) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (!w || !h || !palette) return;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);

  const ts = series?.ts || [];
  const values = series?.values || [];
  const t0 = start ?? ts[0];
  const t1 = end ?? ts[ts.length - 1];
  const span = t1 - t0 || 1;
  const sx = (t) => ((t - t0) / span) * (w - 4) + 2;

  // Anomaly windows first, so the line stays readable on top.
  for (const win of windows) {
    const a = Math.max(t0, win.start);
    const b = Math.min(t1, win.end ?? t1);
    if (b < a) continue;
    ctx.fillStyle = withAlpha(palette.severity[win.severity] || palette.severity.medium, 0.18);
    ctx.fillRect(sx(a), 0, Math.max(2, sx(b) - sx(a)), h);
  }

  let lo = Infinity;
  let hi = -Infinity;
  let count = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (v === null || !Number.isFinite(v) || ts[i] < t0) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    count += 1;
  }
  ctx.strokeStyle = palette.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, h - 0.5);
  ctx.lineTo(w, h - 0.5);
  ctx.stroke();
  if (!count) return { lo: null, hi: null };
  if (hi - lo < 1e-9) {
    hi += Math.abs(hi) * 0.05 || 1;
    lo -= Math.abs(lo) * 0.05 || 1;
  }
  const pad = 3;
  const sy = (v) => h - pad - ((v - lo) / (hi - lo)) * (h - pad * 2);

  const path = new Path2D();
  let first = null;
  let last = null;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (v === null || !Number.isFinite(v) || ts[i] < t0) continue;
    const px = sx(ts[i]);
    const py = sy(v);
    if (first === null) {
      path.moveTo(px, py);
      first = [px, py];
    } else {
      path.lineTo(px, py);
    }
    last = [px, py];
  }
  const area = new Path2D(path);
  area.lineTo(last[0], h);
  area.lineTo(first[0], h);
  area.closePath();
  const gradient = ctx.createLinearGradient(0, 0, 0, h);
  gradient.addColorStop(0, withAlpha(palette.chartLine, 0.28));
  gradient.addColorStop(1, withAlpha(palette.chartLine, 0.02));
  ctx.fillStyle = gradient;
  ctx.fill(area);
  ctx.strokeStyle = palette.chartLine;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  ctx.stroke(path);
  ctx.fillStyle = palette.chartLine;
  ctx.beginPath();
  ctx.arc(last[0], last[1], 2.5, 0, Math.PI * 2);
  ctx.fill();
  return { lo, hi };
}
