// Force-directed layout: Barnes–Hut repulsion over a flat-array quadtree, springs on edges,
// gravity toward the origin, and a cooling schedule. Stays smooth at a few thousand nodes.

const MAX_DEPTH = 24;
const THETA2 = 0.81; // Barnes–Hut opening criterion (theta = 0.9), squared
const DISTANCE_MIN2 = 1;

export class ForceLayout {
  constructor() {
    this.n = 0;
    this.x = new Float64Array(0);
    this.y = new Float64Array(0);
    this.vx = new Float64Array(0);
    this.vy = new Float64Array(0);
    this.fx = new Float64Array(0); // pinned position (NaN when free)
    this.fy = new Float64Array(0);
    this.linkSource = new Int32Array(0);
    this.linkTarget = new Int32Array(0);
    this.linkLength = new Float64Array(0);
    this.linkStrength = new Float64Array(0);
    this.linkBias = new Float64Array(0);
    this.charge = -100;
    this.gravity = 0.04;
    this.alpha = 1;
    this.alphaMin = 0.002;
    this.alphaTarget = 0;
    this.alphaDecay = 1 - Math.pow(this.alphaMin, 1 / 300);
    this.velocityDecay = 0.4;
    this.tree = new QuadTree();
    this.random = mulberry32(7);
  }

  /**
   * Replace nodes and links. `previous` maps an index in the new node list to a known [x, y]
   * (kept from an earlier layout); other nodes start near a placed neighbour, or on a spiral.
   * links: [{source: index, target: index, length}]
   */
  setGraph(count, links, previous = new Map()) {
    this.n = count;
    this.x = new Float64Array(count);
    this.y = new Float64Array(count);
    this.vx = new Float64Array(count);
    this.vy = new Float64Array(count);
    this.fx = new Float64Array(count).fill(NaN);
    this.fy = new Float64Array(count).fill(NaN);
    const degree = new Int32Array(count);
    for (const link of links) {
      degree[link.source] += 1;
      degree[link.target] += 1;
    }
    const m = links.length;
    this.linkSource = new Int32Array(m);
    this.linkTarget = new Int32Array(m);
    this.linkLength = new Float64Array(m);
    this.linkStrength = new Float64Array(m);
    this.linkBias = new Float64Array(m);
    const neighbour = new Int32Array(count).fill(-1);
    links.forEach((link, k) => {
      const s = link.source;
      const t = link.target;
      this.linkSource[k] = s;
      this.linkTarget[k] = t;
      this.linkLength[k] = link.length || 40;
      // Weak springs on hubs keep dense groups from collapsing into a point.
      this.linkStrength[k] = 1 / Math.min(degree[s], degree[t]);
      this.linkBias[k] = degree[s] / (degree[s] + degree[t]);
      if (neighbour[s] < 0) neighbour[s] = t;
      if (neighbour[t] < 0) neighbour[t] = s;
    });
    const placed = new Uint8Array(count);
    for (const [i, pos] of previous) {
      this.x[i] = pos[0];
      this.y[i] = pos[1];
      placed[i] = 1;
    }
    const fresh = previous.size === 0;
    for (let i = 0; i < count; i += 1) {
      if (placed[i]) continue;
      const j = neighbour[i];
      if (!fresh && j >= 0 && placed[j]) {
        this.x[i] = this.x[j] + (this.random() - 0.5) * 20;
        this.y[i] = this.y[j] + (this.random() - 0.5) * 20;
      } else {
        // Phyllotaxis spiral: evenly spread, deterministic starting points.
        const r = 12 * Math.sqrt(0.5 + i);
        const a = i * Math.PI * (3 - Math.sqrt(5));
        this.x[i] = r * Math.cos(a);
        this.y[i] = r * Math.sin(a);
      }
    }
    this.alpha = fresh ? 1 : Math.max(this.alpha, 0.3);
  }

  get running() {
    return this.alpha >= this.alphaMin || this.alphaTarget > 0;
  }

  reheat(alpha = 0.3) {
    this.alpha = Math.max(this.alpha, alpha);
  }

  pin(i, x, y) {
    this.fx[i] = x;
    this.fy[i] = y;
  }

  unpin(i) {
    this.fx[i] = NaN;
    this.fy[i] = NaN;
  }

  /** One simulation step. */
  tick() {
    const { n, x, y, vx, vy } = this;
    if (n === 0) return;
    this.alpha += (this.alphaTarget - this.alpha) * this.alphaDecay;
    const alpha = this.alpha;
    this.applyLinks(alpha);
    this.applyCharge(alpha);
    const g = this.gravity * alpha;
    const keep = 1 - this.velocityDecay;
    for (let i = 0; i < n; i += 1) {
      if (!Number.isNaN(this.fx[i])) {
        x[i] = this.fx[i];
        y[i] = this.fy[i];
        vx[i] = 0;
        vy[i] = 0;
        continue;
      }
      vx[i] = (vx[i] - x[i] * g) * keep;
      vy[i] = (vy[i] - y[i] * g) * keep;
      x[i] += vx[i];
      y[i] += vy[i];
    }
  }

  applyLinks(alpha) {
    const { x, y, vx, vy } = this;
    const m = this.linkSource.length;
    for (let k = 0; k < m; k += 1) {
      const s = this.linkSource[k];
      const t = this.linkTarget[k];
      let dx = x[t] + vx[t] - x[s] - vx[s];
      let dy = y[t] + vy[t] - y[s] - vy[s];
      if (dx === 0 && dy === 0) {
        dx = (this.random() - 0.5) * 1e-3;
        dy = (this.random() - 0.5) * 1e-3;
      }
      let l = Math.sqrt(dx * dx + dy * dy);
      l = ((l - this.linkLength[k]) / l) * alpha * this.linkStrength[k];
      dx *= l;
      dy *= l;
      const b = this.linkBias[k];
      vx[t] -= dx * b;
      vy[t] -= dy * b;
      vx[s] += dx * (1 - b);
      vy[s] += dy * (1 - b);
    }
  }

  applyCharge(alpha) {
    const { n, x, y, vx, vy, tree } = this;
    tree.build(x, y, n);
    const strength = this.charge * alpha;
    const stack = tree.stack;
    for (let i = 0; i < n; i += 1) {
      const xi = x[i];
      const yi = y[i];
      let fxi = 0;
      let fyi = 0;
      let top = 0;
      stack[top++] = 0;
      while (top > 0) {
        const q = stack[--top];
        const mass = tree.mass[q];
        if (mass === 0) continue;
        const size = tree.size[q];
        if (tree.leaf[q]) {
          for (let j = tree.point[q]; j >= 0; j = tree.next[j]) {
            if (j === i) continue;
            let dx = x[j] - xi;
            let dy = y[j] - yi;
            if (dx === 0 && dy === 0) {
              dx = (this.random() - 0.5) * 1e-3;
              dy = (this.random() - 0.5) * 1e-3;
            }
            let l = dx * dx + dy * dy;
            if (l < DISTANCE_MIN2) l = Math.sqrt(DISTANCE_MIN2 * l);
            const w = strength / l;
            fxi += dx * w;
            fyi += dy * w;
          }
          continue;
        }
        const dx = tree.cx[q] / mass - xi;
        const dy = tree.cy[q] / mass - yi;
        let l = dx * dx + dy * dy;
        if ((size * size) / THETA2 < l) {
          // Far enough: treat the whole cell as one body at its centre of mass.
          if (l < DISTANCE_MIN2) l = Math.sqrt(DISTANCE_MIN2 * l);
          const w = (strength * mass) / l;
          fxi += dx * w;
          fyi += dy * w;
          continue;
        }
        for (let c = 0; c < 4; c += 1) {
          const child = tree.child[q * 4 + c];
          if (child >= 0) stack[top++] = child;
        }
      }
      vx[i] += fxi;
      vy[i] += fyi;
    }
  }

  /** Bounding box of the laid-out nodes: [minX, minY, maxX, maxY]. */
  bounds() {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < this.n; i += 1) {
      if (this.x[i] < x0) x0 = this.x[i];
      if (this.x[i] > x1) x1 = this.x[i];
      if (this.y[i] < y0) y0 = this.y[i];
      if (this.y[i] > y1) y1 = this.y[i];
    }
    return this.n ? [x0, y0, x1, y1] : [-1, -1, 1, 1];
  }
}

/**
 * A point quadtree in flat typed arrays, rebuilt every tick. Each cell keeps its point count
 * (mass) and coordinate sums (for the centre of mass); leaves hold a chain of point indices.
 */
class QuadTree {
  constructor() {
    this.capacity = 0;
    this.count = 0;
    this.ensure(64, 0);
  }

  ensure(cells, points) {
    if (cells > this.capacity) {
      const cap = Math.max(cells, this.capacity * 2);
      this.capacity = cap;
      this.child = new Int32Array(cap * 4);
      this.mass = new Float64Array(cap);
      this.cx = new Float64Array(cap);
      this.cy = new Float64Array(cap);
      this.x0 = new Float64Array(cap);
      this.y0 = new Float64Array(cap);
      this.size = new Float64Array(cap);
      this.point = new Int32Array(cap);
      this.leaf = new Uint8Array(cap);
      this.depth = new Uint8Array(cap);
      this.stack = new Int32Array(cap * 4 + 8);
    }
    if (!this.next || this.next.length < points) this.next = new Int32Array(Math.max(points, 16));
  }

  newCell(x0, y0, size, depth) {
    if (this.count >= this.capacity) this.grow();
    const c = this.count++;
    this.child.fill(-1, c * 4, c * 4 + 4);
    this.mass[c] = 0;
    this.cx[c] = 0;
    this.cy[c] = 0;
    this.x0[c] = x0;
    this.y0[c] = y0;
    this.size[c] = size;
    this.point[c] = -1;
    this.leaf[c] = 1;
    this.depth[c] = depth;
    return c;
  }

  grow() {
    const old = this;
    const fields = ["child", "mass", "cx", "cy", "x0", "y0", "size", "point", "leaf", "depth"];
    const saved = fields.map((f) => old[f]);
    this.capacity = 0;
    this.ensure(old.count * 2 + 64, this.next.length);
    fields.forEach((f, k) => this[f].set(saved[k]));
  }

  build(xs, ys, n) {
    this.ensure(n * 2 + 64, n);
    this.count = 0;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < n; i += 1) {
      if (xs[i] < x0) x0 = xs[i];
      if (xs[i] > x1) x1 = xs[i];
      if (ys[i] < y0) y0 = ys[i];
      if (ys[i] > y1) y1 = ys[i];
    }
    const size = Math.max(x1 - x0, y1 - y0, 1) * 1.0001;
    this.newCell(x0, y0, size, 0);
    for (let i = 0; i < n; i += 1) this.insert(i, xs[i], ys[i], xs, ys);
  }

  insert(p, px, py, xs, ys) {
    let q = 0;
    for (;;) {
      this.mass[q] += 1;
      this.cx[q] += px;
      this.cy[q] += py;
      if (!this.leaf[q]) {
        q = this.childFor(q, px, py);
        continue;
      }
      if (this.point[q] < 0) {
        this.point[q] = p;
        this.next[p] = -1;
        return;
      }
      if (this.depth[q] >= MAX_DEPTH) {
        // Coincident (or nearly) points share a leaf as a chain.
        this.next[p] = this.point[q];
        this.point[q] = p;
        return;
      }
      // Split: push the resident point one level down, then keep descending with p.
      const resident = this.point[q];
      this.point[q] = -1;
      this.leaf[q] = 0;
      const rx = xs[resident];
      const ry = ys[resident];
      const c = this.childFor(q, rx, ry);
      this.mass[c] = 1;
      this.cx[c] = rx;
      this.cy[c] = ry;
      this.point[c] = resident;
      this.next[resident] = -1;
      // If p falls in the same child as the resident, the next pass splits that child too.
      q = this.childFor(q, px, py);
    }
  }

  childFor(q, px, py) {
    const half = this.size[q] / 2;
    const right = px >= this.x0[q] + half ? 1 : 0;
    const bottom = py >= this.y0[q] + half ? 1 : 0;
    const slot = q * 4 + bottom * 2 + right;
    let c = this.child[slot];
    if (c < 0) {
      const depth = this.depth[q] + 1;
      c = this.newCell(this.x0[q] + right * half, this.y0[q] + bottom * half, half, depth);
      this.child[slot] = c; // `this.child` may be a new, grown array by now
    }
    return c;
  }
}

/** Small seeded PRNG so layouts are reproducible between reloads. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
