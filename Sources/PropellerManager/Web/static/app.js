// The Propeller live page: proplets and tasks with sparklines, and a task page whose charts follow
// GET /tasks/{id}/metrics/stream. Plain JavaScript, nothing fetched from outside this manager.
"use strict";
(() => {
  const TOKEN_KEY = "propeller.token";
  const $ = (id) => document.getElementById(id);
  const esc = Charts.esc;
  const view = $("view");
  let timer = null, stream = null;

  // A token in the address (#…&token=T) moves into this tab's sessionStorage and out of the address.
  const hashToken = /[#&?]token=([^&]+)/.exec(location.hash);
  if (hashToken) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(hashToken[1]));
    const hash = location.hash.replace(/([#?&])token=[^&]+/, (whole, before) => (before === "#" ? "#" : ""));
    history.replaceState(null, "", location.pathname + (hash === "#" ? "" : hash));
  }

  function headers() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: "Bearer " + token } : {};
  }

  class NeedsToken extends Error {}

  async function api(path, options = {}) {
    const response = await fetch(path, { ...options, headers: { ...headers(), ...(options.headers || {}) } });
    if (response.status === 401) { askForToken(); throw new NeedsToken("API token needed"); }
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error) || `HTTP ${response.status}`);
    return body;
  }

  function askForToken() {
    $("token-form").hidden = false;
    $("token-input").focus();
  }
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    $("token-form").hidden = true;
    route();
  });
  $("signout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); location.reload(); });

  // Formatting
  const bytes = (v) => {
    if (v === undefined || v === null) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
  };
  const pct = (v) => (v === undefined || v === null ? "–" : v.toFixed(1) + " %");
  const short = (id) => (id || "").slice(0, 8);
  const ms = (ts) => Date.parse(ts);
  const ago = (ts) => { const s = Math.max(0, Math.round((Date.now() - ms(ts)) / 1000)); return s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`; };
  const state = (s) => `<span class="state ${esc(s)}">${esc(s)}</span>`;

  function setStatus(text, isError = false) {
    $("status").textContent = text;
    $("status").className = "status" + (isError ? " error" : "");
  }

  async function refreshHealth() {
    try {
      const health = await api("/health");
      $("health").textContent = `${health.status} · mqtt ${health.mqtt} · storage ${health.storage} · v${health.version}`;
      $("health").className = "pill " + (health.status === "ok" ? "ok" : "degraded");
    } catch (error) {
      $("health").textContent = "unreachable";
      $("health").className = "pill degraded";
    }
    $("signout").hidden = !sessionStorage.getItem(TOKEN_KEY);
  }

  // Overview: proplets, tasks (running first) with CPU sparklines, per-task comparison bars.
  async function overview() {
    view.dataset.view = "overview";
    const [proplets, running, recent] = await Promise.all([
      api("/proplets?limit=100"), api("/tasks?state=running&limit=100"), api("/tasks?limit=20&offset=0"),
    ]);
    const shown = running.tasks.slice(0, 20);
    const histories = await Promise.all(shown.map((t) => api(`/tasks/${t.id}/metrics?order=desc&limit=20`).catch(() => null)));
    const latest = {}, sparks = {};
    shown.forEach((t, i) => {
      const samples = histories[i] ? histories[i].metrics.slice().reverse() : [];
      latest[t.id] = samples.length ? samples[samples.length - 1] : null;
      sparks[t.id] = samples.map((s) => s.metrics.cpu_percent || 0);
    });
    const others = recent.tasks.filter((t) => t.state !== "running").reverse();
    const rows = shown.concat(others).map((t) => {
      const m = latest[t.id] ? latest[t.id].metrics : {};
      return `<tr data-task-id="${esc(t.id)}" data-state="${esc(t.state)}">
        <td><a href="#/tasks/${esc(t.id)}">${esc(t.name)}</a> <span class="muted">${esc(short(t.id))}</span></td>
        <td>${state(t.state)}</td><td class="muted">${esc(short(t.proplet_id))}</td>
        <td class="num">${t.state === "running" ? pct(m.cpu_percent) : ""}</td>
        <td class="num">${t.state === "running" ? bytes(m.memory_bytes) : ""}</td>
        <td>${t.state === "running" ? Charts.sparkline(sparks[t.id] || []) : ""}</td></tr>`;
    }).join("");
    const propletRows = proplets.proplets.map((p) => `<tr data-proplet-id="${esc(p.id)}">
        <td>${esc(p.name)} <span class="muted">${esc(short(p.id))}</span></td>
        <td>${p.alive ? '<span class="state completed">alive</span>' : '<span class="state failed">gone</span>'}</td>
        <td class="num">${esc(p.running_tasks)}</td><td class="muted">${esc(p.metadata ? p.metadata.hostname : "")}</td>
        <td class="muted">${p.last_seen ? esc(ago(p.last_seen)) : ""}</td></tr>`).join("");
    const compared = shown.filter((t) => latest[t.id]);
    view.innerHTML = `
      <section class="card"><h2>Proplets (${proplets.total})</h2>
        <table><tr><th>name</th><th>state</th><th class="num">tasks</th><th>host</th><th>last seen</th></tr>${propletRows ||
          '<tr><td colspan="5" class="muted">no proplet has registered yet</td></tr>'}</table></section>
      <section class="card"><h2>Tasks (${running.total} running)</h2>
        <table id="tasks"><tr><th>task</th><th>state</th><th>proplet</th><th class="num">CPU</th><th class="num">memory</th><th>CPU, last samples</th></tr>${rows ||
          '<tr><td colspan="6" class="muted">no task yet — <code>propeller task create …</code></td></tr>'}</table></section>
      <div class="grid">
        <section class="card"><h2>CPU by task (latest sample)</h2>${Charts.bars(compared.map((t) => ({ label: `${t.name} ${short(t.id)}`, value: latest[t.id].metrics.cpu_percent, text: pct(latest[t.id].metrics.cpu_percent) })), "#2f6fec", "compare-cpu")}</section>
        <section class="card"><h2>Memory by task (latest sample)</h2>${Charts.bars(compared.map((t) => ({ label: `${t.name} ${short(t.id)}`, value: latest[t.id].metrics.memory_bytes, text: bytes(latest[t.id].metrics.memory_bytes) })), "#12a37f", "compare-memory")}</section>
      </div>`;
    setStatus(`updated ${new Date().toISOString().slice(11, 19)}Z · every 5 s`);
  }

  // Task page: history, then live samples from the event stream.
  function point(sample, previous) {
    const m = sample.metrics, p = { t: ms(sample.timestamp), cpu: m.cpu_percent, mem: m.memory_bytes, threads: m.thread_count, fds: m.file_descriptor_count, read: 0, write: 0 };
    if (previous) {
      const dt = Math.max(0.001, (p.t - previous.t) / 1000);
      p.read = Math.max(0, ((m.disk_read_bytes || 0) - (previous.readTotal || 0)) / dt);
      p.write = Math.max(0, ((m.disk_write_bytes || 0) - (previous.writeTotal || 0)) / dt);
    }
    p.readTotal = m.disk_read_bytes || 0;
    p.writeTotal = m.disk_write_bytes || 0;
    return p;
  }

  async function taskPage(id) {
    view.dataset.view = "task";
    view.dataset.streamEvents = "0";
    const task = await api(`/tasks/${id}`);
    const history = await api(`/tasks/${id}/metrics?order=desc&limit=300`);
    const points = [];
    for (const sample of history.metrics.slice().reverse()) points.push(point(sample, points[points.length - 1]));
    let current = task, pending = false;
    const render = () => {
      pending = false;
      const last = points[points.length - 1] || {};
      view.innerHTML = `
        <section class="card" data-task-id="${esc(current.id)}"><h2>${esc(current.name)} <span class="muted">${esc(current.id)}</span> ${state(current.state)}</h2>
          <div class="muted">proplet ${esc(current.proplet_id || "–")} · profile every ${esc(current.monitoring_profile ? current.monitoring_profile.interval : "?")} s ·
          ${points.length} samples · CPU ${pct(last.cpu)} · memory ${bytes(last.mem)} · fds ${esc(last.fds ?? "–")}
          ${current.state === "running" ? ' · <button id="stop">stop</button>' : ""}</div>
          ${current.error ? `<div class="error">${esc(current.error)}</div>` : ""}</section>
        <div class="grid">
          <section class="card"><h2>CPU (% of one core)</h2>${Charts.timeSeries(points, [{ key: "cpu", color: "#2f6fec" }], { format: (v) => v.toFixed(0) + "%", id: "cpu" })}</section>
          <section class="card"><h2>Memory (resident)</h2>${Charts.timeSeries(points, [{ key: "mem", color: "#12a37f" }], { format: bytes, area: true, id: "memory" })}</section>
          <section class="card"><h2>Disk I/O (bytes/s)</h2>${Charts.timeSeries(points, [{ key: "read", color: "#8e5cf6" }, { key: "write", color: "#f0883e" }], { format: bytes, stacked: true, id: "disk" })}
            <div class="legend"><b style="background:#8e5cf6"></b>read<b style="background:#f0883e"></b>write</div></section>
          <section class="card"><h2>Threads</h2>${Charts.gauge(last.threads, Math.max(8, (last.threads || 0) * 2), "OS threads")}</section>
        </div>`;
      const stop = $("stop");
      if (stop) stop.addEventListener("click", () => api(`/tasks/${id}/stop`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }).then(() => setStatus("stop requested")).catch((e) => setStatus(e.message, true)));
    };
    const schedule = () => { if (!pending) { pending = true; requestAnimationFrame(render); } };
    render();
    const controller = new AbortController();
    stream = controller;
    readStream(`/tasks/${id}/metrics/stream`, controller.signal, (event, data) => {
      if (event === "end") { current = { ...current, state: data.state }; setStatus(`task ${data.state}`); schedule(); return; }
      const sample = data;
      if (points.length && ms(sample.timestamp) <= points[points.length - 1].t) return;
      points.push(point(sample, points[points.length - 1]));
      if (points.length > 600) points.shift();
      view.dataset.streamEvents = String(Number(view.dataset.streamEvents) + 1);
      view.dataset.lastSample = sample.timestamp;
      setStatus(`live · last sample ${sample.timestamp.slice(11, 23)}Z`);
      schedule();
    });
  }

  // Server-Sent Events over fetch (EventSource cannot send the Authorization header).
  async function readStream(path, signal, onEvent) {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const response = await fetch(path, { headers: { ...headers(), Accept: "text/event-stream" }, signal });
        if (response.status === 401) { askForToken(); return; }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const reader = response.body.getReader(), decoder = new TextDecoder();
        let buffer = "", ended = false;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let event = "message", data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trim();
            }
            if (!data) continue;
            onEvent(event, JSON.parse(data));
            if (event === "end") ended = true;
          }
        }
        if (ended) return;
      } catch (error) {
        if (signal.aborted) return;
        setStatus(`stream: ${error.message}; retrying`, true);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(10000, 1000 * (attempt + 1))));
    }
  }

  async function route() {
    clearInterval(timer);
    if (stream) { stream.abort(); stream = null; }
    refreshHealth();
    const match = /^#\/tasks\/([0-9a-f-]{36})/.exec(location.hash);
    try {
      if (match) {
        await taskPage(match[1]);
      } else {
        await overview();
        timer = setInterval(() => { refreshHealth(); overview().catch(report); }, 5000);
      }
    } catch (error) { report(error); }
  }

  function report(error) {
    if (error instanceof NeedsToken) { setStatus("API token needed", true); return; }
    setStatus(error.message, true);
  }

  window.addEventListener("hashchange", route);
  route();
})();
