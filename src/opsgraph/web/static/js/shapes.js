// How each resource kind looks: a shape, a base radius (world units) and a colour taken from
// the theme's CSS custom properties (--kind-<kind>). Shared by the graph and its legend.

export const KINDS = {
  elb: { label: "Load balancer", shape: "diamond", radius: 10 },
  asg: { label: "Auto-scaling group", shape: "octagon", radius: 9 },
  ec2: { label: "EC2 instance", shape: "square", radius: 7 },
  lambda: { label: "Lambda function", shape: "triangle", radius: 8 },
  rds: { label: "RDS database", shape: "hexagon", radius: 10 },
  s3: { label: "S3 bucket", shape: "bucket", radius: 8 },
  cache: { label: "Cache", shape: "circle", radius: 8 },
  k8s_service: { label: "k8s service", shape: "pentagon", radius: 9 },
  k8s_pod: { label: "k8s pod", shape: "circle", radius: 5 },
  generic: { label: "Other", shape: "star", radius: 7 },
};

export const SEVERITIES = ["low", "medium", "high", "critical"];
export const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 };

export function kindInfo(kind) {
  return KINDS[kind] || KINDS.generic;
}

function polygon(ctx, x, y, r, sides, rotation) {
  for (let k = 0; k < sides; k += 1) {
    const a = rotation + (k * 2 * Math.PI) / sides;
    const px = x + r * Math.cos(a);
    const py = y + r * Math.sin(a);
    if (k === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.closePath();
}

/** Add the outline of `shape` centred on (x, y) to the current path (no begin/fill). */
export function tracePath(ctx, shape, x, y, r) {
  switch (shape) {
    case "diamond":
      polygon(ctx, x, y, r * 1.15, 4, 0);
      break;
    case "square": {
      const s = r * 0.9;
      ctx.moveTo(x - s, y - s);
      ctx.lineTo(x + s, y - s);
      ctx.lineTo(x + s, y + s);
      ctx.lineTo(x - s, y + s);
      ctx.closePath();
      break;
    }
    case "octagon":
      polygon(ctx, x, y, r, 8, Math.PI / 8);
      break;
    case "triangle":
      polygon(ctx, x, y + r * 0.15, r * 1.2, 3, -Math.PI / 2);
      break;
    case "hexagon":
      polygon(ctx, x, y, r, 6, 0);
      break;
    case "pentagon":
      polygon(ctx, x, y, r, 5, -Math.PI / 2);
      break;
    case "bucket": {
      // An upside-down trapezoid, like a bucket.
      ctx.moveTo(x - r, y - r * 0.8);
      ctx.lineTo(x + r, y - r * 0.8);
      ctx.lineTo(x + r * 0.65, y + r * 0.85);
      ctx.lineTo(x - r * 0.65, y + r * 0.85);
      ctx.closePath();
      break;
    }
    case "star": {
      for (let k = 0; k < 10; k += 1) {
        const a = -Math.PI / 2 + (k * Math.PI) / 5;
        const rr = k % 2 === 0 ? r * 1.15 : r * 0.55;
        const px = x + rr * Math.cos(a);
        const py = y + rr * Math.sin(a);
        if (k === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.closePath();
      break;
    }
    default:
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, Math.PI * 2);
  }
}

/** Draw a small legend swatch for `kind` into a fresh canvas and return it. */
export function legendSwatch(kind, palette, size = 18) {
  const canvas = document.createElement("canvas");
  const dpr = window.devicePixelRatio || 1;
  canvas.width = size * dpr;
  canvas.height = size * dpr;
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  canvas.setAttribute("aria-hidden", "true");
  paintSwatch(canvas, kind, palette);
  return canvas;
}

export function paintSwatch(canvas, kind, palette) {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const size = canvas.width / dpr;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, size, size);
  const info = kindInfo(kind);
  ctx.beginPath();
  tracePath(ctx, info.shape, size / 2, size / 2, size * 0.36);
  ctx.fillStyle = palette.kinds[kind] || palette.kinds.generic;
  ctx.fill();
  ctx.lineWidth = 1;
  ctx.strokeStyle = palette.nodeStroke;
  ctx.stroke();
}
