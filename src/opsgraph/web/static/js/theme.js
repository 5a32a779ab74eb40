// Light / dark theme: follows `prefers-color-scheme` until the user picks one with the toggle
// (remembered in localStorage). Canvas code reads its colours from the CSS custom properties.

import { KINDS } from "./shapes.js";

const STORAGE_KEY = "opsgraph-theme";
const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function remember(theme) {
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Private mode or storage disabled: the choice just lasts for this page.
  }
}

export function currentTheme() {
  const explicit = document.documentElement.dataset.theme;
  if (explicit === "light" || explicit === "dark") return explicit;
  return darkQuery.matches ? "dark" : "light";
}

/** Colours for canvas drawing, read from the active theme's CSS custom properties. */
export function readPalette() {
  const style = getComputedStyle(document.documentElement);
  const v = (name) => style.getPropertyValue(name).trim();
  const kinds = {};
  for (const kind of Object.keys(KINDS)) kinds[kind] = v(`--kind-${kind}`) || v("--kind-generic");
  return {
    theme: currentTheme(),
    background: v("--graph-bg"),
    text: v("--text"),
    muted: v("--muted"),
    surface: v("--surface"),
    accent: v("--accent"),
    edge: v("--edge"),
    edgeMember: v("--edge-member"),
    nodeStroke: v("--node-stroke"),
    labelBg: v("--label-bg"),
    chartLine: v("--chart-line"),
    chartFill: v("--chart-fill"),
    grid: v("--border"),
    kinds,
    severity: {
      low: v("--sev-low"),
      medium: v("--sev-medium"),
      high: v("--sev-high"),
      critical: v("--sev-critical"),
    },
  };
}

/** Wire the toggle button; `onChange(palette)` runs whenever the effective theme changes. */
export function initTheme(button, onChange) {
  const saved = stored();
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;

  const sync = () => {
    const theme = currentTheme();
    const next = theme === "dark" ? "light" : "dark";
    button.setAttribute("aria-pressed", String(theme === "dark"));
    button.setAttribute("aria-label", `Switch to ${next} theme`);
    button.title = `Switch to ${next} theme`;
    button.dataset.theme = theme;
    onChange(readPalette());
  };

  button.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    remember(next);
    sync();
  });
  darkQuery.addEventListener("change", () => {
    if (!document.documentElement.dataset.theme) sync();
  });
  sync();
}
