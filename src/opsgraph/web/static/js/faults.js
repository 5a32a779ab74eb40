// "Inject fault" form for the simulated cloud (POST /sim/faults) and the list of active faults.

import { ApiError, api } from "./api.js";
import { el, formatTime } from "./format.js";

export const FAULT_KINDS = {
  cpu_hog: "CPU hog",
  memory_leak: "Memory leak",
  latency_injection: "Latency injection",
  error_burst: "Error burst",
  traffic_spike: "Traffic spike",
  dependency_outage: "Dependency outage",
  disk_full: "Disk full",
  misconfiguration: "Misconfiguration",
};

export class FaultForm {
  /**
   * form: the <form>; list: <ul> of active faults; nodeName(id); simNow();
   * onInjected(fault): after a successful POST; onSelect(id): a fault's root was clicked.
   */
  constructor(form, list, { nodeName, simNow, onInjected, onSelect }) {
    this.form = form;
    this.list = list;
    this.nodeName = nodeName;
    this.simNow = simNow;
    this.onInjected = onInjected;
    this.onSelect = onSelect;
    this.kind = form.elements.namedItem("kind");
    this.node = form.elements.namedItem("node");
    this.duration = form.elements.namedItem("duration_s");
    this.button = form.querySelector("button[type=submit]");
    this.message = form.querySelector(".form-message");
    this.faults = [];
    this.unavailable = false;
    for (const [value, label] of Object.entries(FAULT_KINDS)) {
      this.kind.append(el("option", { value }, label));
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    for (const field of [this.kind, this.node, this.duration]) {
      field.addEventListener("input", () => field.removeAttribute("aria-invalid"));
    }
    list.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-node]");
      if (button) this.onSelect(button.dataset.node);
    });
  }

  /** Prefill the node field with the selected resource (unless the user is typing there). */
  suggestNode(id) {
    if (id && document.activeElement !== this.node) this.node.value = id;
  }

  say(text, kind) {
    this.message.textContent = text;
    this.message.className = `form-message ${kind}`;
    // Errors interrupt (role=alert); success is announced politely.
    this.message.setAttribute("role", kind === "error" ? "alert" : "status");
    this.message.hidden = !text;
  }

  async submit() {
    const body = { kind: this.kind.value, node: this.node.value.trim() };
    const duration = this.duration.value.trim();
    if (duration !== "") body.duration_s = Number(duration);
    for (const field of [this.kind, this.node, this.duration]) field.removeAttribute("aria-invalid");
    if (!body.node) {
      this.node.setAttribute("aria-invalid", "true");
      this.say("node: choose a resource to inject the fault into.", "error");
      this.node.focus();
      return;
    }
    this.button.disabled = true;
    this.say("Injecting…", "pending");
    try {
      const fault = await api.injectFault(body);
      const label = FAULT_KINDS[fault?.kind] || body.kind;
      this.say(`Injected ${label} on ${this.nodeName(fault?.root ?? body.node)}${fault?.id ? ` (fault ${fault.id})` : ""}.`, "ok");
      this.onInjected(fault);
      this.add(fault);
    } catch (err) {
      const message = err instanceof ApiError ? err.message : String(err);
      this.say(message, "error");
      const fields = err instanceof ApiError ? err.fields : [];
      for (const name of fields.length ? fields : guessFields(message)) {
        const field = this.form.elements.namedItem(name);
        if (field) field.setAttribute("aria-invalid", "true");
      }
    } finally {
      this.button.disabled = false;
    }
  }

  async refresh() {
    if (this.unavailable) return;
    try {
      const faults = await api.faults();
      this.faults = Array.isArray(faults) ? faults : faults?.items || [];
    } catch (err) {
      // 4xx: this server runs no simulated cloud, so there is nothing to inject into.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        this.unavailable = true;
        this.form.closest("section").hidden = true;
      }
      return; // otherwise keep the list as it was; the next refresh may work
    }
    this.render();
  }

  /** A fault:new message (possibly injected by someone else or the demo schedule). */
  add(fault) {
    if (!fault || !fault.id) return;
    this.faults = [fault, ...this.faults.filter((f) => f.id !== fault.id)];
    this.render();
  }

  render() {
    const now = this.simNow();
    const active = this.faults.filter(
      (f) => !f.cleared_ts && (f.end_ts === null || f.end_ts === undefined || now === null || f.end_ts > now),
    );
    active.sort((a, b) => (b.start_ts ?? 0) - (a.start_ts ?? 0));
    this.list.replaceChildren(
      ...active.slice(0, 8).map((f) =>
        el(
          "li",
          { "data-testid": "fault-item", "data-fault-id": f.id },
          el("button", { type: "button", className: "link-btn", "data-node": f.root }, this.nodeName(f.root)),
          el("span", {}, ` ${FAULT_KINDS[f.kind] || f.kind}`),
          el("span", { className: "muted" }, f.end_ts ? ` · until ${formatTime(f.end_ts)}` : ""),
        ),
      ),
    );
    this.list.closest(".active-faults").hidden = active.length === 0;
  }
}

function guessFields(message) {
  return ["kind", "node", "duration_s"].filter((name) => message.includes(name));
}
