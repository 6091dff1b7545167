"use strict";
// engmetrics dashboard: an MCP App (io.modelcontextprotocol/ui). It speaks JSON-RPC over postMessage with its
// host (ui/initialize, then ui/notifications/tool-input and tool-result) and draws the tool result it is given:
// get_dora (five figures with DORA tier bands and weekly trends, the deployments timeline), get_metric_series
// (the series over the tier bands), forecast_delivery (the P50/P85/P95 fan) or score_pr_risk (the score and
// each signal's points). No network, no library: the whole picture comes from the result.
(() => {
  const SVGNS = "http://www.w3.org/2000/svg";
  const TIERS = ["elite", "high", "medium", "low"];
  const NAMES = {
    deployment_frequency: "Deployment frequency", lead_time: "Lead time for changes",
    change_failure_rate: "Change failure rate", mttr: "Failed deployment recovery", rework_rate: "Rework rate",
  };
  const HIGHER_IS_BETTER = { deployment_frequency: true };
  const LOG_SCALE = { deployment_frequency: true, lead_time: true, mttr: true };
  const state = { nextId: 1, pending: new Map(), toolName: null, args: null };
  const app = document.getElementById("app");

  // ---- the host connection --------------------------------------------------------------------------------
  const send = (message) => window.parent.postMessage(message, "*");
  const notify = (method, params) => send({ jsonrpc: "2.0", method, params });
  function request(method, params) {
    const id = state.nextId++;
    send({ jsonrpc: "2.0", id, method, params });
    return new Promise((resolve, reject) => state.pending.set(id, { resolve, reject }));
  }
  window.addEventListener("message", (event) => {
    const m = event.data;
    if (!m || m.jsonrpc !== "2.0") return;
    if (m.method === undefined && m.id !== undefined && state.pending.has(m.id)) {
      const waiting = state.pending.get(m.id);
      state.pending.delete(m.id);
      if (m.error) waiting.reject(m.error); else waiting.resolve(m.result || {});
    } else if (m.method === "ui/notifications/tool-input") {
      state.args = (m.params && m.params.arguments) || {};
    } else if (m.method === "ui/notifications/tool-result") {
      show(m.params || {});
    } else if (m.method === "ui/notifications/host-context-changed") {
      applyContext(m.params || {});
    } else if (m.method === "ui/resource-teardown" || m.method === "ping") {
      if (m.id !== undefined) send({ jsonrpc: "2.0", id: m.id, result: {} });
    }
  });
  function applyContext(context) {
    if (context.theme) document.documentElement.dataset.theme = context.theme;
    const vars = context.styles && context.styles.variables;
    if (vars) for (const [key, value] of Object.entries(vars)) if (value) document.documentElement.style.setProperty(key, value);
    const tool = context.toolInfo && context.toolInfo.tool;
    if (tool && tool.name) state.toolName = tool.name;
  }
  function reportSize() {
    const box = document.documentElement.getBoundingClientRect();
    notify("ui/notifications/size-changed", { width: Math.ceil(box.width), height: Math.ceil(box.height) });
  }
  async function start() {
    try {
      const result = await request("ui/initialize", {
        protocolVersion: "2026-01-26", appInfo: { name: "engmetrics-dashboard", version: "1" },
        appCapabilities: { availableDisplayModes: ["inline"] },
      });
      applyContext(result.hostContext || {});
    } catch (error) { /* a host that refuses the handshake may still send the result */ }
    notify("ui/notifications/initialized", {});
    if (window.ResizeObserver) new ResizeObserver(reportSize).observe(document.body);
  }

  // ---- drawing helpers --------------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const text = (x, y, content, cls, anchor) => svg("text", { x, y, class: cls, "text-anchor": anchor || "start" }, content);
  const titled = (node, tip) => { if (tip) node.append(svg("title", {}, tip)); return node; };
  function fmt(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "hours") return value >= 48 ? `${(value / 24).toFixed(1)} d` : `${value.toFixed(1)} h`;
    if (unit === "percent") return `${value.toFixed(1)} %`;
    if (unit === "deploys_per_week") return `${value.toFixed(2)} /wk`;
    return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }
  function scaler(lo, hi, a, b, log) {
    const f = log ? (v) => Math.log10(Math.max(v, lo)) : (v) => v;
    const L = f(lo), H = f(hi) === f(lo) ? f(lo) + 1 : f(hi);
    return (v) => a + ((Math.min(Math.max(f(v), L), H) - L) / (H - L)) * (b - a);
  }
  const shortEvidence = (e) => (e && /^[0-9a-f]{20,}$/.test(e) ? e.slice(0, 8) : e || "");

  // Tier segments of a metric along its value axis, best first: [{tier, from, to}] with from < to.
  function segments(metric, tiers, lo, hi) {
    const higher = !!HIGHER_IS_BETTER[metric];
    const out = [];
    let edge = higher ? hi : lo;
    for (const tier of TIERS) {
      const t = tiers[tier];
      const limit = t === null || t === undefined ? (higher ? lo : hi) : Math.min(Math.max(t, lo), hi);
      if (higher ? limit < edge : limit > edge) {
        out.push(higher ? { tier, from: limit, to: edge } : { tier, from: edge, to: limit });
        edge = limit;
      }
    }
    return out;
  }
  function domain(metric, tiers, values) {
    const known = values.filter((v) => v !== null && v !== undefined);
    const bounds = Object.values(tiers || {}).filter((v) => v !== null && v !== undefined && v > 0);
    const top = Math.max(...known, ...bounds, 1);
    if (LOG_SCALE[metric]) {
      const low = Math.min(...bounds.concat(known.filter((v) => v > 0)), top) / 4;
      return [Math.max(low, 0.01), top * 3];
    }
    return [0, top * 1.25];
  }

  // A tier band (elite..low, best to worst left to right for every metric) with a marker at the value.
  function tierBand(metric, value, tiers, width) {
    const [lo, hi] = domain(metric, tiers, [value]);
    const higher = !!HIGHER_IS_BETTER[metric];
    const x = scaler(lo, hi, higher ? width : 0, higher ? 0 : width, !!LOG_SCALE[metric]);
    const g = svg("svg", { class: "tier-band", width, height: 26, "data-metric": metric });
    for (const s of segments(metric, tiers, lo, hi)) {
      const a = x(s.from), b = x(s.to);
      g.append(titled(svg("rect", { class: `band tier-${s.tier}`, x: Math.min(a, b), y: 4, width: Math.abs(b - a), height: 8 }),
        `${s.tier}`));
    }
    if (value !== null && value !== undefined) {
      const vx = x(value);
      g.append(svg("line", { class: "marker", x1: vx, x2: vx, y1: 0, y2: 16 }));
    }
    g.append(text(0, 24, "elite", "tick"), text(width, 24, "low", "tick", "end"));
    return g;
  }

  // A small line of weekly values (gaps for weeks without one), a point per week.
  function sparkline(points, width, height) {
    const values = points.map((p) => p.value);
    const known = values.filter((v) => v !== null && v !== undefined);
    const g = svg("svg", { class: "spark", width, height });
    if (!known.length) { g.append(text(0, height / 2, "no weekly data", "tick")); return g; }
    const y = scaler(Math.min(0, ...known), Math.max(...known, 1e-9), height - 3, 3, false);
    const x = (i) => (points.length === 1 ? width / 2 : (i / (points.length - 1)) * width);
    let path = "";
    points.forEach((p, i) => {
      if (p.value === null || p.value === undefined) { path += " "; return; }
      path += `${path.endsWith(" ") || !path ? "M" : "L"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
    });
    g.append(svg("path", { class: "line", d: path.trim().replace(/ +/g, " ") }));
    points.forEach((p, i) => {
      if (p.value !== null && p.value !== undefined) {
        g.append(titled(svg("circle", { class: "point", cx: x(i), cy: y(p.value), r: 2 }), `${p.week}: ${p.value}`));
      }
    });
    return g;
  }

  // ---- get_dora -------------------------------------------------------------------------------------------
  function doraView(dora, extra) {
    const scope = dora.repo || (dora.team ? `team ${dora.team}` : "all repositories");
    const root = el("section", { class: "view dora" },
      el("h1", {}, `DORA metrics — ${scope}`),
      el("div", { class: "sub" }, `${dora.period.label} (${dora.period.from.slice(0, 10)} to ${dora.period.to.slice(0, 10)}), ` +
        `rated against DORA ${dora.benchmark_year}`));
    const tiles = el("div", { class: "tiles" });
    for (const metric of Object.keys(NAMES)) {
      const figure = dora[metric];
      if (!figure) continue;
      // The arrow says which way the figure moved; the colour whether that is better (by the metric's polarity).
      const arrow = !figure.trend || figure.trend_direction === "stable" ? "●" : figure.trend.startsWith("-") ? "▼" : "▲";
      const trend = figure.trend ? el("span", { class: `trend ${figure.trend_direction || ""}` }, `${arrow} ${figure.trend}`) : null;
      const tile = el("div", { class: "tile", "data-metric": metric },
        el("div", { class: "name" }, NAMES[metric]),
        el("div", { class: "value" }, fmt(figure.value, figure.unit)),
        figure.rating ? el("span", { class: `rating rating-${figure.rating}` }, figure.rating) : el("span", { class: "rating" }, "no rating"),
        trend);
      const tiers = extra && extra.tiers && extra.tiers[metric];
      if (tiers) tile.append(tierBand(metric, figure.value, tiers, 200));
      if (extra && extra.weekly && extra.weekly[metric]) tile.append(sparkline(extra.weekly[metric], 200, 40));
      tiles.append(tile);
    }
    root.append(tiles);
    if (extra && extra.deployments) root.append(el("h2", {}, `Deployments (${extra.deployments_total})`), timeline(dora, extra.deployments));
    const failures = dora.change_failure_rate.failures || [];
    if (failures.length) {
      const list = el("ul", { class: "failures" });
      for (const f of failures) {
        const recovered = f.recovery_hours === null ? "not recovered yet" : `recovered in ${fmt(f.recovery_hours, "hours")}`;
        list.append(el("li", { class: "failure" }, `${f.deployed_at.slice(0, 10)} ${f.repo} ${f.deployment_id.split(":").pop()}: ` +
          `${f.signal} ${shortEvidence(f.evidence)} — ${recovered}`));
      }
      root.append(el("h2", {}, "Failed deployments and why"), list);
    }
    for (const note of dora.notes || []) root.append(el("p", { class: "note" }, note));
    return root;
  }

  function timeline(dora, deployments) {
    const width = 640, rows = 3, top = 18;
    const start = Date.parse(dora.period.from), end = Date.parse(dora.period.to);
    const x = scaler(start, end, 0, width, false);
    const failed = deployments.filter((d) => d.failed);
    const g = svg("svg", { class: "timeline", width, height: top + 24 + rows * 13 });
    g.append(svg("line", { class: "axis", x1: 0, x2: width, y1: top, y2: top }));
    for (let t = new Date(start); t.getTime() <= end; t = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1))) {
      const first = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1)).getTime();
      if (first >= start) g.append(text(x(first), top - 8, new Date(first).toISOString().slice(0, 7), "tick", "middle"));
    }
    for (const d of deployments.filter((d) => !d.failed)) {
      g.append(titled(svg("circle", { class: "deploy", cx: x(Date.parse(d.at)), cy: top, r: 4 }), `${d.tag} ${d.at.slice(0, 10)}`));
    }
    failed.forEach((d, i) => {
      const cx = x(Date.parse(d.at));
      const why = `${d.tag}: ${d.signal || "failed"} ${shortEvidence(d.evidence)}`.trim();
      g.append(titled(svg("circle", { class: "deploy failed", cx, cy: top, r: 7 }), why));
      const y = top + 22 + (i % rows) * 13;
      g.append(svg("line", { class: "axis", x1: cx, x2: cx, y1: top + 7, y2: y - 9 }));
      g.append(text(Math.min(Math.max(cx, 40), width - 40), y, why, "label why", "middle"));
    });
    return g;
  }

  // ---- get_metric_series ----------------------------------------------------------------------------------
  function seriesView(series) {
    const width = 640, height = 220, left = 44, bottom = 24;
    const points = series.series || [];
    const values = points.map((p) => p.value);
    const tiers = series.benchmark_tiers || null;
    const [lo, hi] = tiers ? domain(series.metric, tiers, values) : [0, Math.max(...values.filter((v) => v !== null), 1) * 1.2];
    const log = !!(tiers && LOG_SCALE[series.metric]);
    const y = scaler(lo, hi, height - bottom, 6, log);
    const x = (i) => left + (points.length <= 1 ? (width - left) / 2 : (i / (points.length - 1)) * (width - left - 8));
    const g = svg("svg", { class: "series-chart", width, height });
    if (tiers) {
      for (const s of segments(series.metric, tiers, lo, hi)) {
        const a = y(s.from), b = y(s.to);
        g.append(titled(svg("rect", { class: `bg-band tier-${s.tier}`, x: left, y: Math.min(a, b), width: width - left, height: Math.abs(b - a) }), s.tier));
        g.append(text(width, Math.min(a, b) + 11, s.tier, "tick", "end"));
      }
    }
    g.append(svg("line", { class: "axis", x1: left, x2: width, y1: height - bottom, y2: height - bottom }));
    const ticks = tiers ? [lo, ...Object.values(tiers).filter((t) => t !== null && t > lo && t < hi), hi] : [lo, (lo + hi) / 2, hi];
    for (const v of new Set(ticks)) g.append(text(left - 4, y(v) + 3, fmt(v, series.unit), "tick", "end"));
    if (series.period_average !== null && series.period_average !== undefined) {
      const ay = y(series.period_average);
      g.append(svg("line", { class: "average", x1: left, x2: width, y1: ay, y2: ay }));
      g.append(text(left + 4, ay - 4, `average ${fmt(series.period_average, series.unit)}`, "label"));
    }
    let path = "";
    points.forEach((p, i) => {
      if (p.value === null || p.value === undefined) { path += " "; return; }
      path += `${path.endsWith(" ") || !path ? "M" : "L"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
    });
    g.append(svg("path", { class: "line", d: path.trim().replace(/ +/g, " ") }));
    const step = Math.max(1, Math.ceil(points.length / 8));
    points.forEach((p, i) => {
      const key = p.week || p.month || p.start;
      if (p.value !== null && p.value !== undefined) g.append(titled(svg("circle", { class: "point", cx: x(i), cy: y(p.value), r: 3 }), `${key}: ${fmt(p.value, series.unit)}`));
      if (i % step === 0) g.append(text(x(i), height - 8, key, "tick", "middle"));
    });
    const scope = series.repo || (series.team ? `team ${series.team}` : "all repositories");
    return el("section", { class: "view series" },
      el("h1", {}, `${NAMES[series.metric] || series.metric} — ${scope}`),
      el("div", { class: "sub" }, `${series.granularity}, ${series.period.label}; unit ${series.unit}`), g);
  }

  // ---- forecast_delivery ----------------------------------------------------------------------------------
  function forecastView(f) {
    const width = 640, height = 260, left = 40, bottom = 26;
    const fan = f.fan || [];
    const byDate = !!f.by_date;
    const last = fan.length ? fan[fan.length - 1].week : 1;
    const top = Math.max(f.items || 0, ...fan.map((p) => p.p50 || 0), 1) * 1.1;
    const x = scaler(0, last, left, width - 10, false);
    const y = scaler(0, top, height - bottom, 8, false);
    const g = svg("svg", { class: "fan-chart", width, height });
    const edge = (key) => [{ week: 0 }, ...fan].map((p) => `${x(p.week).toFixed(1)},${y(p.week === 0 ? 0 : (p[key] || 0)).toFixed(1)}`);
    const band = (upper, lower, cls) => svg("polygon", { class: `fan ${cls}`, points: edge(upper).concat(edge(lower).reverse()).join(" ") });
    g.append(band("p50", "p95", "fan-95"), band("p50", "p85", "fan-85"));
    g.append(svg("polyline", { class: "line p50", points: edge("p50").join(" ") }));
    for (const p of fan) g.append(titled(svg("circle", { class: "point", cx: x(p.week), cy: y(p.p50 || 0), r: 2.5 }),
      `week ${p.week} (${p.date}): P50 ${p.p50}, P85 ${p.p85}, P95 ${p.p95} items`));
    g.append(svg("line", { class: "axis", x1: left, x2: width, y1: height - bottom, y2: height - bottom }));
    const step = Math.max(1, Math.ceil(fan.length / 8));
    fan.forEach((p, i) => { if (i % step === 0) g.append(text(x(p.week), height - 10, p.date ? p.date.slice(5) : `w${p.week}`, "tick", "middle")); });
    for (const v of [0, top / 2, top]) g.append(text(left - 4, y(v) + 3, Math.round(v), "tick", "end"));
    if (!byDate && f.items) {
      g.append(svg("line", { class: "target", x1: left, x2: width, y1: y(f.items), y2: y(f.items) }));
      g.append(text(left + 4, y(f.items) - 4, `${f.items} items`, "label"));
    }
    (f.forecasts || []).forEach((point, i) => {
      if (point.weeks === null || point.weeks === undefined) return;
      const mx = x(Math.min(point.weeks, last));
      g.append(svg("line", { class: "marker", x1: mx, x2: mx, y1: 8, y2: height - bottom }));
      const label = byDate ? `P${point.confidence_percent}: ${point.items} items` : `P${point.confidence_percent} ${point.date}`;
      if (!byDate || i === 0) g.append(text(mx + 3, 18 + (byDate ? 0 : i * 12), label, "label marker-label"));
    });
    if (byDate) (f.forecasts || []).forEach((p, i) => g.append(text(left + 4, 30 + i * 12, `P${p.confidence_percent}: ${p.items} items by ${f.by_date}`, "label marker-label")));
    const scope = f.repo || (f.team ? `team ${f.team}` : "all repositories");
    const head = byDate ? `How many items by ${f.by_date} — ${scope}` : `When will ${f.items} items be done — ${scope}`;
    const root = el("section", { class: "view forecast" }, el("h1", {}, head),
      el("div", { class: "sub" }, `from ${f.start_date}; ${f.throughput.items} items over ${f.throughput.weeks} weeks ` +
        `(${f.throughput.median_per_week} a week, median); bands: P50–P85 and P50–P95`), g);
    for (const w of f.warnings || []) root.append(el("p", { class: "note warn" }, w));
    return root;
  }

  // ---- score_pr_risk --------------------------------------------------------------------------------------
  function riskView(r) {
    const width = 640;
    const gauge = svg("svg", { class: "gauge", width, height: 40 });
    const gx = scaler(0, 100, 0, width, false);
    for (const [tier, a, b] of [["low", 0, 50], ["medium", 50, 80], ["high", 80, 95], ["critical", 95, 100]]) {
      gauge.append(titled(svg("rect", { class: `band risk-${tier}`, x: gx(a), y: 8, width: gx(b) - gx(a), height: 10 }), tier));
    }
    gauge.append(svg("line", { class: "marker", x1: gx(r.risk_score), x2: gx(r.risk_score), y1: 2, y2: 24 }));
    gauge.append(text(gx(r.risk_score), 36, `${r.risk_score} — ${r.tier}`, "label score", "middle"));
    const signals = Object.entries(r.signals || {}).filter(([, s]) => Math.abs(s.contribution) >= 0.05)
      .sort((a, b) => Math.abs(b[1].contribution) - Math.abs(a[1].contribution)).slice(0, 12);
    const rowH = 22, labelW = 210, valueW = 60;
    const max = Math.max(...signals.map(([, s]) => Math.abs(s.contribution)), 1);
    const bars = svg("svg", { class: "contributions", width, height: signals.length * rowH + 4 });
    const mid = labelW + (width - labelW - valueW) / 2;
    const bx = scaler(-max, max, labelW, width - valueW, false);
    bars.append(svg("line", { class: "axis", x1: mid, x2: mid, y1: 0, y2: signals.length * rowH }));
    signals.forEach(([name, s], i) => {
      const y0 = i * rowH + 4;
      const a = bx(0), b = bx(s.contribution);
      bars.append(titled(svg("rect", { class: `bar contribution ${s.contribution > 0 ? "positive" : "negative"}`,
        x: Math.min(a, b), y: y0, width: Math.max(Math.abs(b - a), 1), height: rowH - 8, "data-signal": name }), s.says || name));
      bars.append(text(0, y0 + 11, `${name}: ${s.value} (typical ${s.typical})`, "label"));
      bars.append(text(width, y0 + 11, `${s.contribution > 0 ? "+" : ""}${s.contribution}`, "label points", "end"));
    });
    return el("section", { class: "view risk" },
      el("h1", {}, `Change risk — ${r.repo}: ${r.target}`),
      el("div", { class: "sub" }, `${r.commits_total} commit(s); typical change ${r.baseline_score}; ` +
        `probability of a later fix ${(r.probability * 100).toFixed(0)} %; model AUC ${r.model.auc === null ? "—" : r.model.auc}`),
      gauge, el("h2", {}, "What adds (red) and removes (green) points"), bars,
      el("p", { class: "note" }, r.recommendation));
  }

  // ---- dispatch ---------------------------------------------------------------------------------------------
  function kind(data) {
    if (state.toolName) return state.toolName;
    if (data.deployment_frequency && data.lead_time) return "get_dora";
    if (data.series && data.metric) return "get_metric_series";
    if (data.forecasts && data.throughput) return "forecast_delivery";
    if (data.risk_score !== undefined && data.signals) return "score_pr_risk";
    return null;
  }
  function show(result) {
    app.replaceChildren();
    const data = result.structuredContent;
    if (result.isError || !data) {
      const message = (result.content || []).map((c) => c.text || "").join(" ") || "No result.";
      app.append(el("p", { class: "empty error" }, message));
    } else {
      const extra = result._meta && result._meta["engmetrics/dashboard"];
      const views = { get_dora: () => doraView(data, extra), get_metric_series: () => seriesView(data),
        forecast_delivery: () => forecastView(data), score_pr_risk: () => riskView(data) };
      const draw = views[kind(data)];
      app.append(draw ? draw() : el("pre", {}, JSON.stringify(data, null, 1)));
    }
    document.body.dataset.rendered = kind(data || {}) || "none";
    reportSize();
  }

  start();
})();
