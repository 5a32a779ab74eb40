// An explanation fetched with its progress: the status element says which stage the server is
// in ("Ranking root causes over 60 series…") and for how long, until the result comes.

import { api } from "./api.js";

const STAGES = {
  reading: "Reading",
  ranking: "Ranking",
  attributing: "Attributing",
};

/** Resolve to the explanation of `anomalyId`; `status` shows the stage and the seconds spent. */
export async function explainWithProgress(anomalyId, status, opts = {}) {
  const started = performance.now();
  let label = "Asking for the explanation";
  status.dataset.stage = "request";
  const show = () => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    status.textContent = `${label}… ${seconds} s`;
  };
  show();
  const timer = setInterval(show, 200);
  try {
    return await api.explainWithProgress(
      anomalyId,
      (item) => {
        status.dataset.stage = item.stage;
        label = `${STAGES[item.stage] || item.stage} ${item.detail || ""}`.trim();
        show();
      },
      opts,
    );
  } finally {
    clearInterval(timer);
    delete status.dataset.stage;
  }
}
