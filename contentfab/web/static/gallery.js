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
      const error = new Error(detail || `HTTP ${response.status}`);
      error.gates = data.gates || null; // an edit the copy gates refused: each gate and why
      throw error;
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
    if (asset.original_text) {
      let was = $(".original", tile);
      if (!was) {
        was = document.createElement("p");
        was.className = "original";
        was.title = "generated text";
        text.after(was);
      }
      was.textContent = `was: ${asset.original_text}`;
    }
  }

  // Inline editor for copy: a textarea with the channel's limit and a live count, measured by
  // the server exactly as the channel counts (contentfab/channels.py), e.g. SMS septets, and the
  // copy gates (facts, claims, brand kit, product name, duplicates) run live on the text. An
  // edit the gates refuse can be published anyway only with a reason, which the history keeps.
  const gateList = (gates) => gates.map((g) => `${g.gate}: ${g.why}`).join("; ");
  function openEditor(tile) {
    const open = $(".editor", tile);
    if (open) { $("textarea", open).focus(); return; }
    const id = tile.dataset.id;
    const textEl = $("[data-role=text]", tile);
    const form = document.createElement("form");
    form.className = "editor";
    form.innerHTML = `
      <label><span class="sr-only">New text</span><textarea rows="3" maxlength="5000"></textarea></label>
      <p class="fit" aria-live="polite"><span data-role="length">…</span> / <span data-role="limit">…</span>
        <span data-role="label"></span></p>
      <p class="problem" data-role="problem" hidden></p>
      <p class="problem" data-role="gates" hidden></p>
      <p class="override" data-role="override" hidden>
        <label><input type="checkbox" data-role="force"> publish anyway</label>
        <label><span class="sr-only">Why publish over the gates</span>
          <input type="text" data-role="reason" maxlength="2000" placeholder="why (recorded)"></label></p>
      <div class="editor-actions"><button type="submit">Save</button>
        <button type="button" data-role="cancel">Cancel</button>
        <span class="hint">the generated text is kept · Esc cancels · Ctrl+Enter saves</span></div>`;
    const area = $("textarea", form);
    const problem = $("[data-role=problem]", form);
    const gatesEl = $("[data-role=gates]", form);
    const override = $("[data-role=override]", form);
    const showGates = (gates) => {
      gatesEl.textContent = gates && gates.length ? `gates: ${gateList(gates)}` : "";
      gatesEl.hidden = !gatesEl.textContent;
      override.hidden = gatesEl.hidden;
    };
    area.value = textEl.textContent;
    textEl.hidden = true;
    textEl.after(form);
    let timer, asked = 0;
    const measure = async () => {
      const ticket = ++asked;
      try {
        const campaign = $("#summary")?.dataset.campaign;
        const response = await fetch(`/api/channels/${encodeURIComponent(tile.dataset.channel)}/fit?` +
          new URLSearchParams(campaign ? { text: area.value, campaign } : { text: area.value }));
        if (ticket !== asked) return;
        if (response.ok) { // a preset or the campaign's own channel: count it here
          const fit = await response.json();
          $("[data-role=length]", form).textContent = String(fit.length);
          $("[data-role=limit]", form).textContent = String(fit.limit);
          $("[data-role=label]", form).textContent =
            `· ${fit.label}${fit.encoding ? ` (${fit.encoding})` : ""}${fit.words ? ` · ${fit.words} words` : ""}`;
          form.classList.toggle("over", !fit.fits);
          problem.textContent = fit.problem || "";
          problem.hidden = !fit.problem;
          if (!fit.fits) { showGates(null); return; }
        }
        if (!area.value.trim()) { showGates(null); return; }
        const checked = await fetch(`/api/assets/${id}/gates?` + new URLSearchParams({ text: area.value }));
        if (!checked.ok || ticket !== asked) return;
        const result = await checked.json();
        if (!response.ok) { // over a campaign channel's limit: no override publishes that
          form.classList.toggle("over", Boolean(result.problem));
          problem.textContent = result.problem || "";
          problem.hidden = !result.problem;
        }
        showGates(result.failures);
      } catch (error) { /* the count is a help; saving still checks */ }
    };
    const close = () => { form.remove(); textEl.hidden = false; tile.focus(); };
    area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(measure, 120); });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); close(); }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    });
    $("[data-role=cancel]", form).addEventListener("click", close);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const before = tile.dataset.status;
      try {
        const force = !override.hidden && $("[data-role=force]", form).checked;
        const edit = { text: area.value };
        if (force) Object.assign(edit, { force: true, reason: $("[data-role=reason]", form).value });
        const asset = await call("PUT", `/api/assets/${id}/text`, edit);
        close();
        show(tile, asset);
        bump(before, asset.status);
        say(`edited: asset ${id}`);
      } catch (error) {
        if (error.gates) {
          showGates(error.gates);
          problem.hidden = true;
        } else {
          problem.textContent = error.message;
          problem.hidden = false;
        }
        form.classList.add("over");
      }
    });
    measure();
    area.focus();
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
        if (tile.dataset.kind === "copy") openEditor(tile);
        return;
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

  // Live progress while the campaign runs: the campaign's server-sent events update the bar
  // and counts; new assets are fetched into the page (a fresh render of the same view).
  function showProgress(p) {
    const finished = p.done_jobs + p.failed_jobs;
    const pct = p.total_jobs ? (100 * finished) / p.total_jobs : 0;
    $("#progress-bar").style.width = `${pct.toFixed(1)}%`;
    $(".progress").setAttribute("aria-valuenow", String(finished));
    $("#progress-text").textContent = `${finished} / ${p.total_jobs} jobs finished` +
      (p.failed_jobs ? `, ${p.failed_jobs} failed` : "") +
      (p.running_jobs ? ` · ${p.running_jobs} running` : "") +
      (p.queued_jobs ? ` · ${p.queued_jobs} queued` : "");
    const status = $("#campaign-status");
    status.textContent = p.status;
    status.className = `badge ${p.status}`;
    for (const el of $$("[data-count]")) {
      el.textContent = String(Object.values(p.assets).reduce((n, byStatus) => n + (byStatus[el.dataset.count] || 0), 0));
    }
  }

  let refreshing = null, again = false;
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = (async () => {
      try {
        const response = await fetch(location.href, { headers: { Accept: "text/html" } });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const results = $("#results");
        // Keep what the reviewer is doing: an open editor's tile stays as it is.
        if ($(".editor", results)) { again = true; return; }
        const focused = document.activeElement && document.activeElement.closest
          ? document.activeElement.closest(".asset") : null;
        results.replaceChildren(...$("#results", fresh).childNodes);
        if (focused) { const tile = $(`.asset[data-id="${focused.dataset.id}"]`); if (tile) tile.focus({ preventScroll: true }); }
      } catch (error) {
        say(`could not load new assets: ${error.message}`, true);
      }
    })();
    await refreshing;
    refreshing = null;
    if (again) { again = false; setTimeout(refresh, 1000); }
  }

  const summary = $("#summary");
  if (summary && summary.dataset.finished === "false" && window.EventSource) {
    const feed = new EventSource(`/api/campaigns/${summary.dataset.campaign}/events?after=${summary.dataset.lastAsset}`);
    let pending;
    feed.addEventListener("progress", (event) => showProgress(JSON.parse(event.data)));
    feed.addEventListener("asset", () => { clearTimeout(pending); pending = setTimeout(refresh, 300); });
    feed.addEventListener("done", (event) => {
      feed.close();  // the server ended the stream; without this EventSource would reconnect
      showProgress(JSON.parse(event.data));
      summary.dataset.finished = "true";
      clearTimeout(pending);
      refresh();
    });
  }
})();
