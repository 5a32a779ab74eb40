// The Metrics page's series picker: the selected resource's own catalogue of stored series
// (the common five first) as checkboxes, each with its number of points and, once charted, its
// colour; and the switch that overlays the charted series in one chart.

import { el, formatDateTime } from "./format.js";
import { seriesStyle } from "./metrics-state.js";

/**
 * Fill `list` with one checkbox per series of `catalogue` ([{metric, points, first_ts,
 * last_ts}]), checked for `selected` (metric names, in chart order). `onChange(metrics)` gets
 * the checked metrics in catalogue order.
 */
export function renderPicker(list, { catalogue, selected, onChange }) {
  const focused = document.activeElement?.closest?.(".sp-item")?.dataset.metric;
  list.replaceChildren(
    ...catalogue.map((s) => {
      const index = selected.indexOf(s.metric);
      const box = el("input", {
        type: "checkbox",
        value: s.metric,
        checked: index >= 0,
        "aria-describedby": `sp-points-${s.metric}`,
        dataset: { testid: "series-option" },
      });
      const swatch = el("span", { className: "sp-swatch", "aria-hidden": "true" });
      if (index >= 0) {
        const style = seriesStyle(index);
        swatch.style.setProperty("--series", `var(--series-${style.colour})`);
        swatch.classList.toggle("dashed", style.dashed);
      } else {
        swatch.classList.add("off");
      }
      const span = s.points
        ? `${s.points} points, ${formatDateTime(s.first_ts)} – ${formatDateTime(s.last_ts)}`
        : "no points stored";
      return el(
        "label",
        { className: "sp-item", title: span, dataset: { metric: s.metric } },
        box,
        swatch,
        el("span", { className: "sp-name", text: s.metric }),
        el("span", {
          id: `sp-points-${s.metric}`,
          className: "sp-points muted",
          text: `${s.points} pts`,
        }),
      );
    }),
  );
  if (focused) {
    list.querySelector(`.sp-item[data-metric="${focused}"] input`)?.focus({ preventScroll: true });
  }
  list.onchange = () => {
    const checked = [...list.querySelectorAll("input:checked")].map((box) => box.value);
    onChange(checked);
  };
}
