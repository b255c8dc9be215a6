// The dashboard page: one EventSource on /dashboard/stream, a sample each second, charts drawn by uPlot.
"use strict";

const HOUR_S = 3600;
const $ = (id) => document.getElementById(id);
const fmt = (n, unit = "") => (n === null || n === undefined ? "–" : `${Math.round(n * 10) / 10}${unit}`);
const ago = (at) => (at ? `${Math.max(0, Math.round((Date.now() - at) / 1000))} s ago` : "never");

// Columns: time (s), then one array per series.
const poolData = [[], [], [], []];
const waitData = [[], [], []];

function chart(target, title, series, data) {
  const width = () => Math.max(240, target.clientWidth);
  const plot = new uPlot(
    {
      title,
      width: width(),
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
    },
    data,
    target,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(target);
  return plot;
}

function push(point) {
  const t = point.at / 1000;
  const last = poolData[0].at(-1);
  if (last !== undefined && t <= last) return;
  for (const [column, value] of [[0, t], [1, point.inUse], [2, point.idle], [3, point.waiting]]) {
    poolData[column].push(value);
  }
  for (const [column, value] of [[0, t], [1, point.waitP50Ms], [2, point.waitP99Ms]]) {
    waitData[column].push(value);
  }
  while (poolData[0].length > 0 && poolData[0][0] < t - HOUR_S) {
    for (const column of poolData) column.shift();
    for (const column of waitData) column.shift();
  }
}

function table(id, head, rows) {
  const el = $(id);
  el.replaceChildren();
  const tr = (cells, tag) => {
    const row = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement(tag);
      td.textContent = cell;
      row.append(td);
    }
    return row;
  };
  const thead = document.createElement("thead");
  thead.append(tr(head, "th"));
  const tbody = document.createElement("tbody");
  for (const cells of rows) tbody.append(tr(cells, "td"));
  if (rows.length === 0) tbody.append(tr(["none"], "td"));
  el.append(thead, tbody);
}

function serverRows(view) {
  if (!view) return [["(not read yet)", "", ""]];
  const rows = [];
  const groups = (byApp, where) => {
    if (!byApp.available) return void rows.push([where, "unavailable", byApp.reason]);
    for (
      const [name, label] of [
        ["thisInstance", "this instance"],
        ["otherInstances", "other instances"],
        ["otherClients", "other clients"],
      ]
    ) {
      const group = byApp[name];
      const names = Object.entries(group.appNames).map(([app, n]) => `${app || "(none)"}: ${n}`).join(", ");
      rows.push([
        where ? `${where} · ${label}` : label,
        `${group.connections} (${group.active} active)`,
        names,
      ]);
    }
  };
  if (Array.isArray(view.members)) {
    for (const member of view.members) {
      groups(member.byApp ?? { available: false, reason: "?" }, member.address);
    }
  } else if (view.byApp) groups(view.byApp, "");
  if (view.connections?.available) {
    const c = view.connections.counts;
    rows.push(["server total", `${c.current} current`, `${c.available} more available`]);
  }
  return rows;
}

function renderWarnings(active) {
  const list = $("warnings-active");
  list.replaceChildren();
  for (const warning of active) {
    const li = document.createElement("li");
    li.className = warning.level;
    li.textContent = `${warning.level}: ${warning.message}`;
    list.append(li);
  }
  if (active.length === 0) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = "no active warnings";
    list.append(li);
  }
}

function logWarning(change) {
  const li = document.createElement("li");
  const time = new Date(change.at).toLocaleTimeString();
  li.textContent =
    `${time} ${change.change}: ${change.warning.level} ${change.warning.kind}: ${change.warning.message}`;
  $("warnings-log").prepend(li);
}

function render(sample) {
  const { pool, server, budget, workers = [], batchWriters = [], stats, commands } = sample.stats;
  $("in-use").textContent = pool.inUse;
  $("idle").textContent = pool.idle;
  $("pending").textContent = pool.waiting;
  $("max").textContent = pool.maxPoolSize;
  $("wait-p50").textContent = fmt(pool.checkoutWaitMs.p50, " ms");
  $("wait-p99").textContent = fmt(pool.checkoutWaitMs.p99, " ms");
  $("timeouts").textContent = pool.checkoutFailures.timeout;
  const lookups = stats ? stats.hits + stats.misses : 0;
  $("stats-hit-rate").textContent = lookups > 0 ? `${Math.round((stats.hits / lookups) * 100)}%` : "–";
  renderWarnings(sample.warnings);
  const limit = budget.connectionLimit ?? "not set";
  $("budget").textContent = `Budget: ${budget.perInstance} per instance, worst case ${budget.worstCase} ` +
    `against DB_CONNECTION_LIMIT ${limit} (${budget.status})`;
  $("budget").className = budget.status === "over" || budget.status === "warning" ? "note over" : "note";
  table("server-table", ["who", "connections", "appNames"], serverRows(server));
  table(
    "workers-table",
    ["worker", "last tick", "duration", "ticks", "failures", "leases held"],
    workers.map((w) => [
      w.name,
      ago(w.lastTickAt),
      fmt(w.lastDurationMs, " ms"),
      w.ticks,
      w.failures,
      w.leasesHeld ?? "–",
    ]),
  );
  table(
    "writers-table",
    ["writer", "buffered", "flushed", "retries", "spilled"],
    batchWriters.map((b) => [b.name, b.buffered, b.flushed, b.retries, b.spilled]),
  );
  $("commands-note").textContent = commands?.enabled
    ? ""
    : "Command monitoring is off: DB_MONITOR_COMMANDS=true turns it on.";
  table(
    "commands-table",
    ["collection", "command", "count", "p99"],
    (commands?.slowest ?? []).map((c) => [c.collection, c.command, c.count, fmt(c.p99Ms, " ms")]),
  );
}

function start() {
  const poolChart = chart($("pool-chart"), "", [
    ["in use", "#2a6fdb"],
    ["idle", "#7aa95c"],
    ["pending", "#d9822b"],
  ], poolData);
  const waitChart = chart($("wait-chart"), "", [["p50", "#2a6fdb"], ["p99", "#b3261e"]], waitData);
  globalThis.zienDashboard = { poolChart, waitChart, samples: 0 };

  const source = new EventSource("/dashboard/stream");
  source.addEventListener("history", (event) => {
    for (const point of JSON.parse(event.data)) push(point);
  });
  source.addEventListener("sample", (event) => {
    const sample = JSON.parse(event.data);
    const pool = sample.stats.pool;
    push({
      at: sample.at,
      inUse: pool.inUse,
      idle: pool.idle,
      waiting: pool.waiting,
      waitP50Ms: pool.checkoutWaitMs.p50,
      waitP99Ms: pool.checkoutWaitMs.p99,
    });
    poolChart.setData(poolData);
    waitChart.setData(waitData);
    render(sample);
    globalThis.zienDashboard.samples++;
    $("status").textContent = `live · ${new Date(sample.at).toLocaleTimeString()}`;
    $("status").className = "status live";
  });
  source.addEventListener("warning", (event) => logWarning(JSON.parse(event.data)));
  source.onerror = () => {
    $("status").textContent = "disconnected; retrying…";
    $("status").className = "status";
  };
}

start();
