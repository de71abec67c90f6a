// contentfab gallery: review buttons, j/k/a/r/e keys, live progress. Plain JS, no build step.
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // `contentfab serve` prints a link with #key=…: keep the key for this tab, drop it from the URL.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("key");
  if (fromHash) {
    sessionStorage.setItem("contentfab-key", fromHash);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const keyInput = $("#api-key");
  const nameInput = $("#reviewer");
  keyInput.value = sessionStorage.getItem("contentfab-key") || "";
  nameInput.value = localStorage.getItem("contentfab-reviewer") || "reviewer";
  keyInput.addEventListener("change", () => sessionStorage.setItem("contentfab-key", keyInput.value));
  nameInput.addEventListener("change", () => localStorage.setItem("contentfab-reviewer", nameInput.value));

  const toast = $("#toast");
  let toastTimer;
  function say(message, isError = false) {
    toast.textContent = message;
    toast.className = isError ? "error" : "";
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, isError ? 6000 : 2000);
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", "X-API-Key": keyInput.value },
      body: JSON.stringify({ reviewer: nameInput.value.trim() || "reviewer", ...body }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401 || response.status === 403) $("details.who").open = true;
      const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : data.detail;
      throw new Error(detail || `HTTP ${response.status}`);
    }
    return data;
  }

  function show(tile, asset) {
    for (const s of ["generated", "approved", "rejected"]) tile.classList.remove(s);
    tile.classList.add(asset.status);
    tile.dataset.status = asset.status;
    const badge = $("[data-role=status]", tile);
    badge.textContent = asset.status;
    badge.className = `badge ${asset.status}`;
    $("[data-role=reason]", tile).textContent = asset.reject_reason || "";
    const text = $("[data-role=text]", tile);
    if (text && asset.text !== null) text.textContent = asset.text;
  }

  async function act(tile, action) {
    if (!tile) return;
    const id = tile.dataset.id;
    const before = tile.dataset.status;
    try {
      let asset;
      if (action === "approve") {
        asset = await call("POST", `/api/assets/${id}/approve`, {});
      } else if (action === "reject") {
        const reason = prompt("Why reject it?");
        if (!reason) return;
        asset = await call("POST", `/api/assets/${id}/reject`, { reason });
      } else if (action === "edit") {
        if (tile.dataset.kind !== "copy") return;
        const text = prompt("New text (the generated one is kept):", $("[data-role=text]", tile).textContent);
        if (text === null || !text.trim()) return;
        asset = await call("PUT", `/api/assets/${id}/text`, { text });
      } else {
        return;
      }
      show(tile, asset);
      bump(before, asset.status);
      say(`${action === "edit" ? "edited" : asset.status}: asset ${id}`);
    } catch (error) {
      say(`Could not ${action} asset ${id}: ${error.message}`, true);
    }
  }

  function bump(before, after) {
    if (before === after) return;
    for (const [status, delta] of [[before, -1], [after, 1]]) {
      const el = $(`[data-count="${status}"]`);
      if (el) el.textContent = String(Math.max(0, Number(el.textContent) + delta));
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const tile = button.closest(".asset");
    tile.focus();
    act(tile, button.dataset.action);
  });

  // Keyboard review: j/k move, a approve, r reject, e edit. Never while typing in a field.
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select")) return;
    const tiles = $$(".asset");
    if (!tiles.length) return;
    const current = document.activeElement.closest ? document.activeElement.closest(".asset") : null;
    const index = current ? tiles.indexOf(current) : -1;
    const move = (step) => {
      const next = tiles[Math.min(tiles.length - 1, Math.max(0, index + step))];
      next.focus();
      next.scrollIntoView({ block: "nearest", behavior: "smooth" });
    };
    const actions = { a: "approve", r: "reject", e: "edit" };
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (actions[event.key] && current) {
      event.preventDefault();
      act(current, actions[event.key]);
    }
  });

  // Live progress while the campaign runs: poll its summary until it is finished.
  const summary = $("#summary");
  if (summary && summary.dataset.finished === "false") {
    const id = summary.dataset.campaign;
    const seen = Number(summary.dataset.assets);
    const poll = async () => {
      try {
        const response = await fetch(`/api/campaigns/${id}`);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const c = await response.json();
        const pct = c.total_jobs ? (100 * c.finished_jobs) / c.total_jobs : 0;
        $("#progress-bar").style.width = `${pct.toFixed(1)}%`;
        $(".progress").setAttribute("aria-valuenow", String(c.finished_jobs));
        $("#progress-text").textContent =
          `${c.finished_jobs} / ${c.total_jobs} jobs finished` + (c.failed_jobs ? `, ${c.failed_jobs} failed` : "");
        const status = $("#campaign-status");
        status.textContent = c.status;
        status.className = `badge ${c.status}`;
        const total = Object.values(c.assets).reduce(
          (sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
        if (total > seen) $("#news").hidden = false;
        if (c.finished_at) return;
      } catch (error) {
        say(`progress: ${error.message}`, true);
      }
      setTimeout(poll, 2000);
    };
    setTimeout(poll, 2000);
  }
})();
