// The reconnect storm: a whole company's browsers coming back after a restart.
//
// Every user starts disconnected at t0, as a tab does when its server goes away, and comes
// back the way the UI's page load does: GET /api/me, GET /api/rooms (unread counts), then the
// socket, then a join of each room the tab had open with its resume cursor. Any failure (the
// server not up yet, a refused request, a dropped socket) waits the UI's backoff with full
// jitter (socket/backoff.ts: base 500 ms, cap 8 s) and starts over. bench/run.py starts the
// server at t0 and writes "up <pid>..." on this process's stdin once it answers /readyz.
//
// Meanwhile, from the moment the server is up, random connected users post at a steady rate
// into rooms they have open; once every user is caught up (socket open, every open room
// joined, nothing behind the head it was joined at) the rate goes on for steadySeconds more.
// Every receiver checks each room's seq numbers (a gap is lost, a repeat duplicated) and
// measures latency on this process's clock; at the end, after a drain, every open room of
// every user must have reached the room's last acknowledged seq.
import { readFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import WebSocket from "ws";

const now = () => performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fullJitterDelay(attempt, baseMs = 500, capMs = 8000) {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt)));
}

function getJson(base, path, cookie, agent) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${base}${path}`, { agent, headers: { cookie: `session=${cookie}` } }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => {
        if (response.statusCode !== 200) {
          reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { kind: `http ${response.statusCode}` }));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString()));
        } catch (error) {
          reject(Object.assign(error, { kind: "bad json" }));
        }
      });
      response.on("error", (error) => reject(Object.assign(error, { kind: error.code ?? "response error" })));
    });
    request.setTimeout(60_000, () => request.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
    request.on("error", (error) => reject(Object.assign(error, { kind: error.code ?? "request error" })));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function storm(cfg, { cpuSeconds, rssKiB }) {
  const seed = JSON.parse(readFileSync(cfg.seedFile, "utf8"));
  const base = cfg.url.replace(/^ws/, "http");
  const t0 = now();
  const users = seed.users.slice(0, cfg.users ?? seed.users.length).map((u, index) => ({
    index,
    name: u.name,
    cookie: u.cookie,
    // room -> { last: seq of the last message received, changes, head at join, joined }
    open: new Map(
      u.open.map((o) => [o.room, { last: o.after, changes: o.changes_after, head: null, joined: false, joinedAt: Infinity }]),
    ),
    attempt: 0,
    ws: null,
    listed: false,
    caughtUp: false,
    attempts: 0,
  }));
  const finalHead = new Map(Object.entries(seed.heads));
  const counts = {
    drops: {}, // close code -> sockets the server closed (or that failed) after opening
    failures: {}, // kind -> attempts that failed before the socket opened
    errors: {}, // error frame code -> how many
    frames: {},
    lost: 0,
    duplicates: 0,
    sent: 0,
    acked: 0,
  };
  const bump = (table, key) => { table[key] = (table[key] ?? 0) + 1; };
  let caughtUpNow = 0;
  let allCaughtUpAt = null;
  let upAt = null;
  let stopping = false;
  const latencies = []; // [sentAt, latency] pairs, flattened
  let pids = [];

  // --- server up: pids from bench/run.py
  const up = new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
      const [word, ...rest] = line.trim().split(/\s+/);
      if (word === "up" && upAt === null) {
        upAt = now();
        pids = rest.map(Number);
        resolve();
      }
    });
  });

  const setCaughtUp = (user, value) => {
    if (user.caughtUp === value) return;
    user.caughtUp = value;
    caughtUpNow += value ? 1 : -1;
    if (value && caughtUpNow === users.length && allCaughtUpAt === null) allCaughtUpAt = now();
  };
  const checkCaughtUp = (user) => {
    if (!user.listed || user.ws === null) return;
    for (const room of user.open.values()) if (!room.joined || room.last < room.head) return;
    setCaughtUp(user, true);
  };

  function onFrame(user, data) {
    const frame = JSON.parse(data);
    switch (frame.type) {
      case "message": {
        const room = user.open.get(frame.room);
        if (room === undefined) break;
        if (frame.seq <= room.last) counts.duplicates++;
        else {
          if (frame.seq !== room.last + 1) counts.lost += frame.seq - room.last - 1;
          room.last = frame.seq;
        }
        const body = frame.body;
        if (body.startsWith("s:")) {
          // Latency of live deliveries: to a tab whose join had been answered when it was sent
          // (one that was still away gets it on its catch-up, seconds later, by design).
          const sentAt = Number(body.slice(2, body.indexOf(":", 2)));
          if (sentAt >= room.joinedAt) latencies.push(sentAt, now() - sentAt);
        }
        if (!user.caughtUp && room.joined && room.last >= room.head) checkCaughtUp(user);
        break;
      }
      case "hello":
        user.attempt = 0;
        for (const [name, room] of user.open) {
          user.ws.send(JSON.stringify({ type: "join", room: name, after: room.last, changes_after: room.changes }));
        }
        break;
      case "joined": {
        const room = user.open.get(frame.room);
        if (room === undefined) break;
        room.joined = true;
        room.joinedAt = now();
        room.head = frame.head;
        room.changes = Math.max(room.changes, frame.changes);
        checkCaughtUp(user);
        break;
      }
      case "ack": {
        counts.acked++;
        if ((finalHead.get(frame.room) ?? 0) < frame.seq) finalHead.set(frame.room, frame.seq);
        break;
      }
      case "error":
        bump(counts.errors, frame.code);
        break;
      default:
        break;
    }
    bump(counts.frames, frame.type);
  }

  function openSocket(user) {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${cfg.url}/api/ws`, {
        perMessageDeflate: false,
        headers: { cookie: `session=${user.cookie}` },
      });
      let opened = false;
      ws.on("open", () => {
        opened = true;
        user.ws = ws;
      });
      ws.on("message", (data) => onFrame(user, data.toString()));
      ws.on("error", () => undefined); // "close" follows
      ws.on("unexpected-response", (_request, response) => {
        resolve({ opened: false, kind: `ws http ${response.statusCode}` });
        ws.terminate();
      });
      ws.on("close", (code) => {
        if (user.ws === ws) user.ws = null;
        for (const room of user.open.values()) {
          room.joined = false;
          room.joinedAt = Infinity;
        }
        setCaughtUp(user, false);
        resolve(opened ? { opened: true, code } : { opened: false, kind: `ws closed ${code}` });
      });
    });
  }

  async function life(user) {
    // The connection was just lost: the UI waits its first backoff before trying again.
    while (!stopping) {
      await sleep(fullJitterDelay(user.attempt));
      if (stopping) break;
      user.attempt++;
      user.attempts++;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        await getJson(base, "/api/me", user.cookie, agent);
        const rooms = await getJson(base, "/api/rooms", user.cookie, agent);
        user.listed = Array.isArray(rooms);
      } catch (error) {
        bump(counts.failures, error.kind ?? error.code ?? "error");
        continue;
      } finally {
        agent.destroy();
      }
      const outcome = await openSocket(user);
      if (stopping) break;
      if (outcome.opened) bump(counts.drops, String(outcome.code));
      else bump(counts.failures, outcome.kind);
    }
  }

  // --- resource samples: the server's peak RSS and its CPU by phase
  let rssPeak = 0;
  const sampler = setInterval(() => {
    if (pids.length) rssPeak = Math.max(rssPeak, rssKiB(pids));
  }, 250);

  const lives = users.map((user) => life(user));
  await up;
  const rssAtUp = rssKiB(pids);
  const cpuAtUp = cpuSeconds(pids);
  const ownCpuBefore = process.cpuUsage();

  // --- the steady sender, from the moment the server is up
  let sending = true;
  let messageId = 0;
  const sender = (async () => {
    // waveRate (default: rate) while the wave lasts; 0 keeps the wave to itself (to profile it).
    const waveRate = cfg.waveRate ?? cfg.rate;
    while (waveRate === 0 && allCaughtUpAt === null && sending) await sleep(50);
    let started = now();
    let rate = allCaughtUpAt === null ? waveRate : cfg.rate;
    for (let n = 0; sending; n++) {
      if (rate !== cfg.rate && allCaughtUpAt !== null) {
        [rate, started, n] = [cfg.rate, now(), 0];
      }
      const due = started + (n * 1000) / rate;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      // Someone connected, in a room they have open (a few tries: early on, few are).
      for (let tries = 0; tries < 50; tries++) {
        const user = users[Math.floor(Math.random() * users.length)];
        if (user.ws === null || user.ws.readyState !== WebSocket.OPEN) continue;
        const joined = [...user.open].filter(([, room]) => room.joined);
        if (joined.length === 0) continue;
        const [room] = joined[Math.floor(Math.random() * joined.length)];
        messageId++;
        user.ws.send(JSON.stringify({ type: "send", room, body: `s:${now().toFixed(3)}:${messageId}`, client_msg_id: `storm-${messageId}` }));
        counts.sent++;
        break;
      }
    }
  })();

  // --- wait for everyone to be caught up, then the steady rate for steadySeconds
  const waveDeadline = upAt + cfg.waveTimeoutMs;
  while (allCaughtUpAt === null && now() < waveDeadline) await sleep(100);
  const cpuAtCaughtUp = cpuSeconds(pids);
  const rssAtCaughtUp = rssKiB(pids);
  const steadyFrom = now();
  await sleep(cfg.steadySeconds * 1000);
  sending = false;
  await sender;
  const cpuAtSteadyEnd = cpuSeconds(pids);
  const steadySeconds = (now() - steadyFrom) / 1000;

  // --- drain: every open room of every connected user reaches the last acknowledged seq
  const drainDeadline = now() + cfg.drainMs;
  const behind = () => {
    let count = 0;
    for (const user of users) {
      if (user.ws === null) { count++; continue; }
      for (const [name, room] of user.open) if (!room.joined || room.last < (finalHead.get(name) ?? 0)) count++;
    }
    return count;
  };
  while (behind() > 0 && now() < drainDeadline) await sleep(100);
  let missing = 0;
  let notConnected = 0;
  for (const user of users) {
    if (user.ws === null) notConnected++;
    for (const [name, room] of user.open) missing += Math.max(0, (finalHead.get(name) ?? 0) - room.last);
  }
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const end = now();
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, rssKiB(pids));
  const caughtUpAtEnd = caughtUpNow; // before the sockets below close
  stopping = true;
  for (const user of users) user.ws?.terminate();
  await Promise.race([Promise.all(lives), sleep(5000)]);

  const wave = [];
  const after = [];
  const cut = allCaughtUpAt ?? Infinity;
  for (let i = 0; i < latencies.length; i += 2) (latencies[i] < cut ? wave : after).push(latencies[i + 1]);
  wave.sort((a, b) => a - b);
  after.sort((a, b) => a - b);
  const ms = (x) => (x === null ? null : Math.round(x * 100) / 100);
  const waveSeconds = ((allCaughtUpAt ?? end) - upAt) / 1000;
  return {
    users: users.length,
    caught_up: allCaughtUpAt !== null,
    caught_up_users: caughtUpAtEnd,
    seconds_to_all_caught_up_from_restart: allCaughtUpAt === null ? null : (allCaughtUpAt - t0) / 1000,
    seconds_to_all_caught_up_from_up: allCaughtUpAt === null ? null : (allCaughtUpAt - upAt) / 1000,
    server_start_seconds: (upAt - t0) / 1000,
    attempts: users.reduce((sum, u) => sum + u.attempts, 0),
    drops_by_close_code: counts.drops,
    failed_attempts: counts.failures,
    error_frames: counts.errors,
    frames: counts.frames,
    sent: counts.sent,
    acked: counts.acked,
    lost: counts.lost + missing,
    lost_gaps: counts.lost,
    missing_at_end: missing,
    duplicates: counts.duplicates,
    not_connected_at_end: notConnected,
    wave_latency_ms: { deliveries: wave.length, p50: ms(percentile(wave, 50)), p99: ms(percentile(wave, 99)), max: ms(wave.at(-1) ?? null) },
    steady_latency_ms: { deliveries: after.length, p50: ms(percentile(after, 50)), p99: ms(percentile(after, 99)), max: ms(after.at(-1) ?? null) },
    server_cpu_seconds_wave: cpuAtCaughtUp - cpuAtUp,
    server_cpu_share_wave: (cpuAtCaughtUp - cpuAtUp) / Math.max(waveSeconds, 1e-9),
    server_cpu_share_steady: (cpuAtSteadyEnd - cpuAtCaughtUp) / Math.max(steadySeconds, 1e-9),
    steady_messages_per_second: cfg.rate,
    rss_at_up_kib: rssAtUp,
    rss_at_caught_up_kib: rssAtCaughtUp,
    rss_peak_kib: rssPeak,
    loadgen_cpu_share: (ownCpu.user + ownCpu.system) / 1e6 / ((end - upAt) / 1000),
  };
}
