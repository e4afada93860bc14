// Hubbub's load generator: one Node process, many WebSocket clients, one scenario per run.
//
//   node loadgen.mjs '<scenario JSON>'      prints one JSON result line
//
// Scenario fields:
//   url        server base, e.g. ws://127.0.0.1:8000
//   proto      "text"     tutorial chat at /ws/{id}: "Client #0 says: <payload>" lines
//              "json"     Hubbub's JSON protocol at /api/ws (join, send, message events)
//              "socketio" a python-socketio server broadcasting "chat" events
//   mode       "fanout"   one sender, every client receives; "idle" connect and sit;
//              "storm"    a whole company reconnecting after a restart (storm.mjs: seedFile,
//                         users, rate, steadySeconds, waveTimeoutMs, drainMs)
//   clients    receiving connections (the sender is one of them)
//   stalled    how many stalled clients bench/run.py holds open beside these (bench/stallers.py);
//              only reported
//   messages   how many the sender sends; rate: messages per second (0: as fast as acked/possible)
//   size       payload bytes; pids: server processes whose CPU time and memory are read from /proc
//
// Every payload carries its sequence number and send time, so each receiver checks order,
// duplicates and loss, and latency is measured on one clock. The line "measuring" on stderr
// marks when the first message goes out, for whoever times events of the run from outside.
//
// This process does nothing but send, receive and read /proc: an HTTP poll from here (fetch)
// put 100-200 ms pauses into the latencies it measured.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { io } from "socket.io-client";
import WebSocket from "ws";
import { storm } from "./storm.mjs";

const cfg = {
  proto: "text",
  mode: "fanout",
  clients: 100,
  stalled: 0,
  messages: 1000,
  rate: 0,
  size: 64,
  pids: [],
  timeoutMs: 120_000,
  settleMs: 1000,
  ...JSON.parse(process.argv[2] ?? "{}"),
};

const TICKS = 100; // USER_HZ: clock ticks per second in /proc/<pid>/stat on Linux

function cpuSeconds(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
    } catch {
      // process gone
    }
  }
  return total;
}

function rssKiB(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // process gone
    }
  }
  return total;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// --- one client per protocol: open(), send(payload), onPayload(cb), close()
function textClient(id) {
  const ws = new WebSocket(`${cfg.url}/ws/${id}`, { perMessageDeflate: false });
  const prefix = "Client #0 says: ";
  return {
    ws,
    open: () => new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); }),
    send: (payload) => ws.send(payload),
    onPayload: (cb) => ws.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith(prefix)) cb(text.slice(prefix.length));
    }),
    close: () => ws.terminate(),
  };
}

// Ack latency (JSON protocol): from each send to its ack, on the sender's clock.
const ackLatencies = [];

function jsonClient(id) {
  const ws = new WebSocket(`${cfg.url}/api/ws?name=u${id}`, { perMessageDeflate: false });
  let joined;
  const ready = new Promise((resolve) => { joined = resolve; });
  const listeners = [];
  const sentAt = new Map();
  ws.on("message", (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.type === "hello") ws.send(JSON.stringify({ type: "join", room: "general", after: 1e12 }));
    else if (frame.type === "joined") joined();
    else if (frame.type === "message") for (const cb of listeners) cb(frame.body);
    else if (frame.type === "ack" && sentAt.has(frame.client_msg_id)) {
      ackLatencies.push(now() - sentAt.get(frame.client_msg_id));
      sentAt.delete(frame.client_msg_id);
    }
  });
  let seq = 0;
  return {
    ws,
    open: () => new Promise((resolve, reject) => { ws.once("error", reject); ready.then(resolve); }),
    send: (payload) => {
      const ref = `s${++seq}`;
      sentAt.set(ref, now());
      ws.send(JSON.stringify({ type: "send", room: "general", body: payload, client_msg_id: ref }));
    },
    onPayload: (cb) => listeners.push(cb),
    close: () => ws.terminate(),
  };
}

function socketioClient() {
  const socket = io(cfg.url.replace(/^ws/, "http"), { transports: ["websocket"], reconnection: false });
  return {
    ws: socket,
    open: () => new Promise((resolve, reject) => { socket.once("connect", resolve); socket.once("connect_error", reject); }),
    send: (payload) => socket.emit("chat", payload),
    onPayload: (cb) => socket.on("chat", cb),
    close: () => socket.disconnect(),
  };
}

const makeClient = { text: textClient, json: jsonClient, socketio: socketioClient }[cfg.proto];

async function openAll(count, offset) {
  const clients = [];
  for (let i = 0; i < count; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 100); j++) batch.push(makeClient(offset + j));
    await Promise.all(batch.map((c) => c.open()));
    clients.push(...batch);
  }
  return clients;
}

async function idle() {
  const before = rssKiB(cfg.pids);
  const clients = await openAll(cfg.clients, 1);
  await sleep(cfg.settleMs * 3);
  const after = rssKiB(cfg.pids);
  for (const c of clients) c.close();
  return { connections: clients.length, rss_before_kib: before, rss_after_kib: after,
    kib_per_connection: (after - before) / clients.length };
}

async function fanout() {
  // Client 0 sends and receives; the others receive.
  const clients = await openAll(cfg.clients, 0);
  const sender = clients[0];
  const expected = cfg.messages * clients.length;
  const latencies = new Float64Array(expected);
  let delivered = 0, duplicates = 0, outOfOrder = 0;
  const lastSeq = new Int32Array(clients.length).fill(-1);
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  clients.forEach((client, index) => client.onPayload((payload) => {
    const received = now();
    const [seqText, sentText] = payload.split(":", 2);
    const seq = Number(seqText);
    if (seq <= lastSeq[index]) duplicates++;
    else {
      if (seq !== lastSeq[index] + 1) outOfOrder++;
      lastSeq[index] = seq;
    }
    if (delivered < expected) latencies[delivered] = received - Number(sentText);
    delivered++;
    if (delivered >= expected) done();
  }));
  await sleep(cfg.settleMs); // joins, presence and the like settle before measuring

  const started = now();
  process.stderr.write("measuring\n");
  const cpuBefore = cpuSeconds(cfg.pids);
  const ownCpuBefore = process.cpuUsage();
  const rssBefore = rssKiB(cfg.pids);
  let rssPeak = rssBefore;
  const pad = "x".repeat(Math.max(0, cfg.size - 24));
  for (let seq = 0; seq < cfg.messages; seq++) {
    if (cfg.rate > 0) {
      const due = started + (seq * 1000) / cfg.rate;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
    } else if (seq % 50 === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    sender.send(`${seq}:${now().toFixed(3)}:${pad}`);
    if (seq % 200 === 0) rssPeak = Math.max(rssPeak, rssKiB(cfg.pids));
  }
  const sendSeconds = (now() - started) / 1000;
  const timer = setTimeout(done, cfg.timeoutMs);
  await finished;
  clearTimeout(timer);
  const elapsed = (now() - started) / 1000;
  const cpu = cpuSeconds(cfg.pids) - cpuBefore;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  rssPeak = Math.max(rssPeak, rssKiB(cfg.pids));
  const sorted = Array.from(latencies.subarray(0, Math.min(delivered, expected))).sort((a, b) => a - b);
  const acks = ackLatencies.slice().sort((a, b) => a - b);
  for (const c of clients) c.close();
  return {
    connections: clients.length, stalled: cfg.stalled, sent: cfg.messages, expected, delivered,
    lost: Math.max(0, expected - delivered), duplicates, out_of_order: outOfOrder,
    send_seconds: sendSeconds, elapsed_seconds: elapsed,
    deliveries_per_second: delivered / elapsed, messages_per_second: cfg.messages / elapsed,
    latency_ms: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? null },
    ack_latency_ms: acks.length ? { p50: percentile(acks, 50), p99: percentile(acks, 99), max: acks[acks.length - 1] } : null,
    server_cpu_seconds: cpu, cpu_us_per_delivery: delivered ? (cpu * 1e6) / delivered : null,
    rss_before_kib: rssBefore, rss_peak_kib: rssPeak,
    // Near 1.0 the load generator, not the server, may be what limits deliveries per second.
    loadgen_cpu_share: (ownCpu.user + ownCpu.system) / 1e6 / elapsed,
  };
}

const modes = { idle, fanout, storm: () => storm(cfg, { cpuSeconds, rssKiB }) };
const result = await modes[cfg.mode]();
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(0);
