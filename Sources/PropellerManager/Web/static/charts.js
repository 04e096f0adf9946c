// Small SVG charts for the Propeller page: no library, no network. Each function returns an SVG string.
"use strict";
const Charts = (() => {
  const W = 600, H = 180, PAD = { l: 48, r: 8, t: 8, b: 18 };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  function scale(points, key, minMax) {
    let max = minMax || 0;
    for (const p of points) for (const k of key) max = Math.max(max, p[k] || 0);
    return max <= 0 ? 1 : max * 1.1;
  }

  function axes(max, format, t0, t1) {
    const y = (v) => PAD.t + (H - PAD.t - PAD.b) * (1 - v / max);
    let s = "";
    for (const f of [0, 0.5, 1]) {
      const v = max * f;
      s += `<line class="axis" x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}"/>`;
      s += `<text x="${PAD.l - 4}" y="${y(v) + 3}" text-anchor="end">${esc(format(v))}</text>`;
    }
    if (t0 !== undefined) {
      s += `<text x="${PAD.l}" y="${H - 4}">${esc(new Date(t0).toISOString().slice(11, 19))}</text>`;
      s += `<text x="${W - PAD.r}" y="${H - 4}" text-anchor="end">${esc(new Date(t1).toISOString().slice(11, 19))}Z</text>`;
    }
    return s;
  }

  // series: [{key, color, label}], points: [{t (ms), [key]: value}]. stacked: areas on top of each other.
  function timeSeries(points, series, { format = (v) => v.toFixed(0), area = false, stacked = false, id = "" } = {}) {
    const count = points.length;
    const data = `data-points="${count}" data-chart="${esc(id)}"`;
    if (count === 0) return `<svg class="chart" ${data} viewBox="0 0 ${W} ${H}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle">waiting for samples…</text></svg>`;
    const t0 = points[0].t, t1 = Math.max(points[count - 1].t, t0 + 1000);
    const x = (t) => PAD.l + (W - PAD.l - PAD.r) * (t - t0) / (t1 - t0);
    const totals = points.map((p) => series.reduce((sum, s) => sum + (p[s.key] || 0), 0));
    const max = stacked ? Math.max(1, ...totals) * 1.1 : scale(points, series.map((s) => s.key));
    const y = (v) => PAD.t + (H - PAD.t - PAD.b) * (1 - v / max);
    let body = axes(max, format, t0, t1);
    const base = points.map(() => 0);
    for (const s of series) {
      const top = points.map((p, i) => (stacked ? base[i] : 0) + (p[s.key] || 0));
      const line = points.map((p, i) => `${x(p.t).toFixed(1)},${y(top[i]).toFixed(1)}`).join(" ");
      if (area || stacked) {
        const bottom = points.map((p, i) => `${x(p.t).toFixed(1)},${y(stacked ? base[i] : 0).toFixed(1)}`).reverse().join(" ");
        body += `<polygon points="${line} ${bottom}" fill="${s.color}" fill-opacity="0.35"/>`;
      }
      body += `<polyline points="${line}" fill="none" stroke="${s.color}" stroke-width="1.5" data-series="${esc(s.key)}"/>`;
      if (stacked) top.forEach((v, i) => { base[i] = v; });
    }
    return `<svg class="chart" ${data} viewBox="0 0 ${W} ${H}" preserveAspectRatio="none">${body}</svg>`;
  }

  function gauge(value, max, label) {
    const v = Math.max(0, Math.min(value || 0, max)), a = Math.PI * (1 - v / max);
    const cx = 100, cy = 95, r = 70, x = cx + r * Math.cos(a), y = cy - r * Math.sin(a);
    return `<svg class="chart" viewBox="0 0 200 120" data-chart="gauge" data-value="${esc(value ?? "")}">
      <path d="M30 95 A70 70 0 0 1 170 95" fill="none" stroke="#e4e7ec" stroke-width="14"/>
      <path d="M30 95 A70 70 0 0 1 ${x.toFixed(1)} ${y.toFixed(1)}" fill="none" stroke="#2f6fec" stroke-width="14"/>
      <text x="100" y="90" text-anchor="middle" style="font-size:26px;fill:#1d2330">${esc(value ?? "–")}</text>
      <text x="100" y="112" text-anchor="middle">${esc(label)}</text></svg>`;
  }

  // rows: [{label, value, text}] horizontal bars.
  function bars(rows, color, id = "") {
    const max = Math.max(1e-9, ...rows.map((r) => r.value || 0)), h = 22;
    const body = rows.map((r, i) => {
      const w = 360 * (r.value || 0) / max;
      return `<text x="0" y="${i * h + 15}">${esc(r.label)}</text><rect x="180" y="${i * h + 4}" width="${w.toFixed(1)}" height="14" fill="${color}" rx="2"/>` +
        `<text x="${(186 + w).toFixed(1)}" y="${i * h + 15}">${esc(r.text)}</text>`;
    }).join("");
    return `<svg class="chart" data-chart="${esc(id)}" data-bars="${rows.length}" viewBox="0 0 ${W} ${Math.max(h, rows.length * h)}" style="height:${Math.max(h, rows.length * h) * 0.6 + 10}px">${body}</svg>`;
  }

  function sparkline(values, color = "#2f6fec") {
    if (values.length < 2) return `<svg class="spark" viewBox="0 0 120 24"></svg>`;
    const max = Math.max(1e-9, ...values), step = 120 / (values.length - 1);
    const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(22 - 20 * v / max).toFixed(1)}`).join(" ");
    return `<svg class="spark" viewBox="0 0 120 24" data-points="${values.length}"><polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.5"/></svg>`;
  }

  return { timeSeries, gauge, bars, sparkline, esc };
})();
