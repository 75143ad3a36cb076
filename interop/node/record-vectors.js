"use strict";
// Records the golden Node vectors (internal/protocol/testdata/node-vectors.json):
// the exact messages the pinned npm packages (package-lock.json) put on Redis.
//
//   npm run record-vectors            (writes ../internal/protocol/testdata/node-vectors.json)
//   node node/record-vectors.js FILE  (writes FILE; "-" for stdout)
//
// It starts a private redis-server on a free 127.0.0.1 port (redis-server 7
// on PATH), runs real socket.io 4.8 servers with @socket.io/redis-adapter
// (classic and sharded), @socket.io/redis-emitter and
// @socket.io/redis-streams-adapter on it, and captures every PUBLISH,
// SPUBLISH, XADD and SET with MONITOR. The sender of a message is the
// CLIENT SETNAME of the connection that sent it.
//
// Deterministic output: the ids the packages draw from crypto.randomBytes
// (classic uids and request ids: uid2(6); ClusterAdapter uids and request
// ids: randomBytes(8)) are fed from a queue filled before each step, so a
// re-recording is byte-identical unless a package changed what it sends. The
// remote socket is a real socket.io-client connection whose id, handshake and
// data a middleware replaces with a fixture (the handshake of a real 4.8
// connection, with its time fixed). The script fails when a step publishes
// more or fewer messages than it expects or leaves a queued id unused.

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const net = require("net");
const path = require("path");
const { spawn } = require("child_process");

// --- deterministic ids -------------------------------------------------------

const idQueue = [];
const realRandomBytes = crypto.randomBytes;
crypto.randomBytes = function randomBytes(size, cb) {
  if (typeof cb !== "function" && idQueue.length > 0 && idQueue[0].length === size) {
    return idQueue.shift();
  }
  return realRandomBytes.apply(crypto, arguments);
};

// uid2's alphabet: uid2(n) maps each random byte b to UIDCHARS[b % 64].
const UIDCHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const uid2Id = (s) => Buffer.from([...s].map((c) => UIDCHARS.indexOf(c)));
// ClusterAdapter's randomId() is randomBytes(8) in hex.
const hexId = (s) => Buffer.from(s, "hex");
const queueIds = (...bufs) => idQueue.push(...bufs);

const { Server } = require("socket.io");
const { io: connectClient } = require("socket.io-client");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const streams = require("@socket.io/redis-streams-adapter");
const notepack = require("notepack.io");

const pkgVersion = (name) => require(`${name}/package.json`).version;

// --- the remote socket fixture -------------------------------------------------

const FIXTURE_ID = "Xk3vQ9mZ2pL7aB1cAAAB";

// The field set and order of a real socket.io 4.8 handshake; time and issued
// fixed (2026-11-21 09:00 UTC), headers reduced to host.
function fixtureHandshake() {
  return {
    headers: { host: "localhost:3000" },
    time: "Sat Nov 21 2026 09:00:00 GMT+0000 (Coordinated Universal Time)",
    address: "::ffff:127.0.0.1",
    xdomain: false,
    secure: false,
    issued: 1795251600000,
    url: "/socket.io/?EIO=4&transport=websocket",
    query: { EIO: "4", transport: "websocket" },
    auth: {},
  };
}

// Gives io's next connection on "/" the fixture identity and joins it to room1.
function installFixture(io) {
  io.use((socket, next) => {
    socket.id = FIXTURE_ID;
    socket.handshake = fixtureHandshake();
    socket.data = { user: "bob" };
    next();
  });
  io.on("connection", (socket) => socket.join("room1"));
}

// --- redis-server and MONITOR ------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, cond, timeoutMs = 5000) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function startRedis() {
  const port = await freePort();
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  proc.on("error", (e) => {
    console.error(`record-vectors: cannot start redis-server (${e.message}); install redis-server 7+`);
    process.exit(1);
  });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor("redis-server", async () => {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.on("connect", () => s.end(() => resolve(true)));
      s.on("error", () => resolve(false));
    });
    return ok;
  });
  return { port, url, stop: () => proc.kill("SIGTERM") };
}

// Decodes one argument of a MONITOR line (sdscatrepr quoting).
function unquote(s, i) {
  const out = [];
  if (s[i] !== '"') throw new Error(`MONITOR: expected a quote at ${i} in ${s}`);
  for (i++; s[i] !== '"'; i++) {
    if (i >= s.length) throw new Error(`MONITOR: unterminated argument in ${s}`);
    if (s[i] !== "\\") {
      out.push(s.charCodeAt(i));
      continue;
    }
    const c = s[++i];
    const esc = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, "\\": 92 }[c];
    if (esc !== undefined) out.push(esc);
    else if (c === "x") {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`MONITOR: unknown escape \\${c} in ${s}`);
  }
  return [Buffer.from(out), i + 1];
}

// Connects a MONITOR and collects {addr, args: [Buffer...]} per command.
function startMonitor(port) {
  const entries = [];
  const sock = net.connect(port, "127.0.0.1");
  sock.setEncoding("latin1"); // MONITOR escapes everything outside printable ASCII
  let buf = "";
  sock.on("data", (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\r\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 2);
      if (line === "+OK") continue;
      const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!m) throw new Error(`MONITOR: unexpected line ${line}`);
      const args = [];
      for (let i = 0; i < m[2].length; ) {
        const [arg, next] = unquote(m[2], i);
        args.push(arg);
        i = next + 1; // the space between arguments
      }
      entries.push({ addr: m[1], args });
    }
  });
  sock.write("MONITOR\r\n");
  return { entries, stop: () => sock.destroy() };
}

// --- turning captured commands into vectors ----------------------------------

const CAPTURED = new Set(["PUBLISH", "SPUBLISH", "XADD", "SET"]);

// logical renders a decoded msgpack value with Buffers as "<Buffer hex>".
function logical(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `<Buffer ${Buffer.from(v).toString("hex")}>`;
  if (Array.isArray(v)) return v.map(logical);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = logical(v[k]);
    return o;
  }
  return v;
}

// payloadFields turns a pub/sub payload into {format, json} or {format, logical, hex}.
function payloadFields(name, payload) {
  if (payload[0] === 0x7b /* { */) {
    const text = payload.toString("utf8");
    const json = JSON.parse(text);
    // The file stores the parsed value; the tests compact it back to the
    // payload, so the round trip must be exact.
    if (JSON.stringify(json) !== text) throw new Error(`${name}: JSON payload does not round-trip: ${text}`);
    return { format: "json", json };
  }
  return { format: "msgpack", logical: logical(notepack.decode(payload)), hex: payload.toString("hex") };
}

// xaddFields reads XADD key [MAXLEN|MINID [=|~] threshold] id field value ...
// into the node-redis xAdd form: the fields, plus the options object as _opts.
function xaddFields(args) {
  let i = 2; // after XADD and the key
  const opts = {};
  const kw = args[i].toString().toUpperCase();
  if (kw === "MAXLEN" || kw === "MINID") {
    i++;
    const trim = { strategy: kw };
    if (["=", "~"].includes(args[i].toString())) trim.strategyModifier = args[i++].toString();
    trim.threshold = Number(args[i++].toString());
    opts.TRIM = trim;
  }
  i++; // the entry id ("*")
  const fields = {};
  for (; i < args.length; i += 2) fields[args[i].toString()] = args[i + 1].toString();
  if (Object.keys(opts).length > 0) fields._opts = JSON.stringify(opts);
  return fields;
}

// setFields reads SET key value [PX ms | EX s ...].
function setFields(args) {
  const fields = { value: args[2].toString() };
  const opts = {};
  for (let i = 3; i < args.length; i += 2) opts[args[i].toString().toUpperCase()] = Number(args[i + 1].toString());
  if (Object.keys(opts).length > 0) fields.opts = JSON.stringify(opts);
  return fields;
}

// --- the recording -----------------------------------------------------------

class Recorder {
  constructor(redis, monitor) {
    this.redis = redis;
    this.monitor = monitor;
    this.seen = 0; // monitor entries already attributed
    this.names = new Map(); // client addr -> CLIENT SETNAME
    this.vectors = [];
    this.clients = [];
    this.closers = [];
  }

  async client(name) {
    const c = createClient({ url: this.redis.url, name });
    c.on("error", (e) => console.error(`redis ${name}:`, e.message));
    await c.connect();
    this.clients.push(c);
    return c;
  }

  async refreshNames() {
    const list = await this.admin.sendCommand(["CLIENT", "LIST"]);
    for (const line of list.split("\n")) {
      const addr = /(?:^| )addr=(\S+)/.exec(line);
      const name = /(?:^| )name=(\S*)/.exec(line);
      if (addr && name && name[1]) this.names.set(addr[1], name[1]);
    }
  }

  // captured returns the not yet attributed PUBLISH/SPUBLISH/XADD/SET
  // commands, up to (not including) monitor entry end.
  captured(end = this.monitor.entries.length) {
    return this.monitor.entries
      .slice(this.seen, end)
      .filter((e) => CAPTURED.has(e.args[0].toString().toUpperCase()));
  }

  // step runs fn, waits for exactly names.length captured commands (in the
  // order Redis executed them) and records them under those names.
  async step(section, title, names, fn) {
    await fn();
    await waitFor(`${section}: ${names.length} messages`, () => this.captured().length >= names.length);
    // A marker through MONITOR: everything the step sent comes before it,
    // so a step that sends more than it expects is caught here.
    const marker = `record-vectors ${section} ${names[0]}`;
    await this.admin.sendCommand(["ECHO", marker]);
    const isMarker = (e) => e.args[0].toString() === "ECHO" && e.args[1].toString() === marker;
    let end = -1;
    await waitFor(`${section}: marker`, () => {
      end = this.monitor.entries.findIndex((e, i) => i >= this.seen && isMarker(e));
      return end >= 0;
    });
    const mine = this.captured(end);
    if (mine.length !== names.length) {
      const show = mine.map((e) => e.args.map((a) => a.toString()).join(" ")).join("\n  ");
      throw new Error(`${section}: expected ${names.length} messages, got ${mine.length}:\n  ${show}`);
    }
    if (idQueue.length > 0) throw new Error(`${section}: ${idQueue.length} queued ids were not used`);
    await this.refreshNames();
    mine.forEach((e, i) => this.vectors.push(this.vector(section, names[i], title, e)));
    this.seen = end + 1;
  }

  vector(section, name, title, e) {
    const command = e.args[0].toString().toUpperCase();
    const sender = this.names.get(e.addr);
    if (!sender) throw new Error(`${name}: no client name for ${e.addr}`);
    const v = { section, name, title, command, channel: e.args[1].toString(), sender };
    if (command === "XADD") return { ...v, format: "fields", fields: xaddFields(e.args) };
    if (command === "SET") return { ...v, format: "fields", fields: setFields(e.args) };
    return { ...v, ...payloadFields(name, e.args[2]) };
  }

  // server starts a socket.io server (listening when listen is true).
  async server(opts, listen = false) {
    const httpServer = http.createServer();
    const io = new Server(httpServer, opts);
    this.closers.push(() => new Promise((r) => io.close(() => r())));
    if (listen) await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
    return { io, port: listen ? httpServer.address().port : 0 };
  }

  // connect opens a socket.io-client connection that acks "question" with answer.
  async connect(port, answer) {
    const c = connectClient(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false });
    c.on("question", (...args) => args.pop()(answer));
    this.closers.push(async () => c.close());
    await new Promise((resolve, reject) => {
      c.on("connect", resolve);
      c.on("connect_error", reject);
    });
    return c;
  }

  async closeAll() {
    for (const f of this.closers.splice(0).reverse()) await f();
    await Promise.all(this.clients.splice(0).map((c) => c.quit().catch(() => {})));
  }
}

const numSub = async (r, kind, channel) => parseInt((await r.admin.sendCommand(["PUBSUB", kind, channel]))[1], 10);

async function classic(r) {
  const pubA = await r.client("A.pub");
  const subA = await r.client("A.sub");
  const pubB = await r.client("B.pub");
  const subB = await r.client("B.sub");
  queueIds(uid2Id("nodeA1"));
  const { io: ioA } = await r.server({ adapter: createAdapter(pubA, subA) });
  queueIds(uid2Id("nodeB1"));
  const { io: ioB, port } = await r.server(
    { adapter: createAdapter(pubB, subB, { publishOnSpecificResponseChannel: true }) },
    true,
  );
  installFixture(ioB);
  ioB.on("ping", (n, cb) => cb(`pong-${n}`));
  const notified = new Promise((resolve) => ioB.on("notify", resolve));
  await waitFor("classic subscriptions", async () => (await numSub(r, "NUMSUB", "socket.io-request#/#")) === 2);
  await r.connect(port, "answer!");
  await r.refreshNames();

  await r.step("V1", "classic broadcast to room1 except room2", ["V1.1"], async () => {
    ioA.to("room1").except("room2").emit("hello", "world", 42);
  });
  let remote;
  await r.step(
    "V2",
    "classic fetchSockets (request by A, response by B with publishOnSpecificResponseChannel=true)",
    ["V2.1", "V2.2"],
    async () => {
      queueIds(uid2Id("req001"));
      [remote] = await ioA.in("room1").fetchSockets();
    },
  );
  await r.step("V3", "classic serverSideEmit with ack", ["V3.1", "V3.2"], async () => {
    queueIds(uid2Id("req002"));
    await ioA.serverSideEmitWithAck("ping", 1);
  });
  await r.step("V3b", "classic serverSideEmit without ack", ["V3b.1"], async () => {
    ioA.serverSideEmit("notify", { a: 1 });
    await notified;
  });
  await r.step(
    "V4",
    "classic broadcastWithAck (timeout 1000) + B's BROADCAST_CLIENT_COUNT + BROADCAST_ACK",
    ["V4.1", "V4.2", "V4.3"],
    async () => {
      queueIds(uid2Id("req003"));
      await ioA.timeout(1000).to("room1").emitWithAck("question", "q?");
    },
  );
  // allRooms runs before disconnectSockets (which would empty it); the
  // vectors keep the numbering of the reference text.
  const v5 = "classic socketsJoin / disconnectSockets(true) / allRooms";
  await r.step("V5", v5, ["V5.1"], async () => {
    ioA.in("room1").socketsJoin("room3");
    await waitFor("room3 on B", () => ioB.of("/").adapter.rooms.has("room3"));
  });
  await r.step("V5", v5, ["V5.3", "V5.4"], async () => {
    queueIds(uid2Id("req004"));
    await ioA.of("/").adapter.allRooms();
  });
  await r.step("V5d", "classic RemoteSocket.emit (flags carry expectSingleResponse)", ["V5d.1"], async () => {
    remote.emit("direct", 1);
  });
  await r.step("V5", v5, ["V5.2"], async () => {
    ioA.in("room1").disconnectSockets(true);
    await waitFor("the disconnect on B", () => ioB.of("/").sockets.size === 0);
  });
  queueIds(uid2Id("nodeA2"));
  const admin = ioA.of("/admin");
  await r.step("V5b", "classic broadcast in namespace /admin, no except, to single room", ["V5b.1"], async () => {
    admin.to("x").emit("adminEvent");
  });
  await r.step(
    "V5c",
    "classic broadcast to 2 rooms (namespace channel), volatile+compress flags, binary arg",
    ["V5c.1"],
    async () => {
      ioA.to(["r1", "r2"]).volatile.compress(false).emit("multi", Buffer.from([0xde, 0xad]));
    },
  );
  await r.closeAll();
}

async function emitter(r) {
  const e = new Emitter(await r.client("emitter"));
  await r.refreshNames();
  await r.step(
    "V6",
    "emitter: to(room1).volatile emit with Buffer; of('admin').except; socketsJoin; serverSideEmit",
    ["V6.1", "V6.2", "V6.3", "V6.4"],
    async () => {
      e.to("room1").volatile.emit("news", Buffer.from([1, 2, 3]), { n: 1.5 });
      e.of("admin").except("room2").emit("x");
      e.in("room1").socketsJoin("room9");
      e.serverSideEmit("hi", 1);
    },
  );
  await r.closeAll();
}

async function sharded(r) {
  queueIds(hexId("a1a1a1a1a1a1a1a1"));
  const { io: ioSA } = await r.server({
    adapter: createShardedAdapter(await r.client("SA.pub"), await r.client("SA.sub")),
  });
  queueIds(hexId("b2b2b2b2b2b2b2b2"));
  const { io: ioSB, port } = await r.server(
    { adapter: createShardedAdapter(await r.client("SB.pub"), await r.client("SB.sub")) },
    true,
  );
  installFixture(ioSB);
  ioSB.on("ping", (n, cb) => cb(`pong-${n}`));
  await waitFor("sharded subscriptions", async () => (await numSub(r, "SHARDNUMSUB", "socket.io#/#")) === 2);
  await r.connect(port, { ok: true });
  await waitFor("SB on room1's channel", async () => (await numSub(r, "SHARDNUMSUB", "socket.io#/#room1#")) === 1);
  await r.refreshNames();

  await r.step(
    "V7",
    "sharded broadcasts: to(room1) [dynamic channel], to(room1).except(room2), to(socketId), binary to all",
    ["V7.1", "V7.2", "V7.3", "V7.4"],
    async () => {
      ioSA.to("room1").emit("hello", "world");
      ioSA.to("room1").except("room2").emit("hello2");
      ioSA.to(FIXTURE_ID).emit("private");
      ioSA.emit("bin", Buffer.from([1, 2, 3]));
    },
  );
  await r.step("V8", "sharded fetchSockets", ["V8.1", "V8.2"], async () => {
    queueIds(hexId("0123456789abcdef"));
    await ioSA.in("room1").fetchSockets();
  });
  await r.step("V9", "sharded serverSideEmit with ack", ["V9.1", "V9.2"], async () => {
    queueIds(hexId("fedcba9876543210"));
    await ioSA.serverSideEmitWithAck("ping", 2);
  });
  const v10 = "sharded broadcastWithAck, socketsLeave, disconnectSockets";
  await r.step("V10", v10, ["V10.1", "V10.2", "V10.3"], async () => {
    queueIds(hexId("1111111111111111"));
    await ioSA.timeout(1000).to("room1").emitWithAck("question");
  });
  await r.step("V10", v10, ["V10.4", "V10.5"], async () => {
    ioSA.in("room1").socketsLeave("room1");
    ioSA.disconnectSockets(false);
    await waitFor("the disconnect on SB", () => ioSB.of("/").sockets.size === 0);
  });
  await r.closeAll();

  queueIds(hexId("e5e5e5e5e5e5e5e5"));
  const { io: ioStatic } = await r.server({
    adapter: createShardedAdapter(await r.client("static.pub"), await r.client("static.sub"), {
      subscriptionMode: "static",
    }),
  });
  queueIds(hexId("f6f6f6f6f6f6f6f6"));
  const { io: ioDP } = await r.server({
    adapter: createShardedAdapter(await r.client("dp.pub"), await r.client("dp.sub"), {
      subscriptionMode: "dynamic-private",
    }),
  });
  await r.refreshNames();
  await r.step(
    "V10b",
    "static mode to(room1) / dynamic-private to(room1) and to(socketId)",
    ["V10b.1", "V10b.2", "V10b.3"],
    async () => {
      ioStatic.to("room1").emit("s1");
      await waitFor("V10b.1", () => r.captured().length >= 1);
      ioDP.to("room1").emit("p1");
      await waitFor("V10b.2", () => r.captured().length >= 2);
      ioDP.to("BBBBBBBBBBBBBBBBBBBB").emit("p2");
    },
  );
  await r.closeAll();
}

async function streamsAdapter(r) {
  const title = "streams adapter: broadcast (XADD), binary broadcast, socketsJoin, fetchSockets (PUB/SUB), persistSession";
  const csr = { maxDisconnectionDuration: 120000 };
  queueIds(hexId("c3c3c3c3c3c3c3c3"));
  const { io: ioTA } = await r.server({
    adapter: streams.createAdapter(await r.client("TA")),
    connectionStateRecovery: csr,
  });
  queueIds(hexId("d4d4d4d4d4d4d4d4"));
  const { io: ioTB, port } = await r.server(
    { adapter: streams.createAdapter(await r.client("TB")), connectionStateRecovery: csr },
    true,
  );
  installFixture(ioTB);
  await waitFor("streams subscriptions", async () => (await numSub(r, "NUMSUB", "socket.io#/#")) === 2);
  await r.connect(port, "answer!");
  await r.refreshNames();

  await r.step("V11", title, ["V11.1", "V11.2", "V11.3"], async () => {
    ioTA.to("room1").emit("hello", "world");
    await waitFor("V11.1", () => r.captured().length >= 1);
    ioTA.emit("bin", Buffer.from([1, 2, 3]));
    await waitFor("V11.2", () => r.captured().length >= 2);
    ioTA.in("room1").socketsJoin("room5");
    await waitFor("room5 on TB", () => ioTB.of("/").adapter.rooms.has("room5"));
  });
  await r.step("V11", title, ["V11.4", "V11.5"], async () => {
    queueIds(hexId("2222222222222222"));
    await ioTA.fetchSockets();
  });
  await r.step("V11", title, ["V11.6"], async () => {
    ioTA.of("/").adapter.persistSession({
      sid: FIXTURE_ID,
      pid: "pid1",
      rooms: [FIXTURE_ID, "room1"],
      data: { user: "bob" },
    });
  });

  const title12 =
    "streams adapter: serverSideEmit with and without ack, broadcast with ack (PUB/SUB), socketsLeave, disconnectSockets (XADD)";
  ioTB.on("ping", (n, cb) => cb(`pong-${n}`));
  ioTB.on("notify", () => {});
  await r.step("V12", title12, ["V12.1"], async () => {
    ioTA.serverSideEmit("notify", { a: 1 });
  });
  await r.step("V12", title12, ["V12.2", "V12.3"], async () => {
    queueIds(hexId("3333333333333333"));
    await ioTA.serverSideEmitWithAck("ping", 3);
  });
  await r.step("V12", title12, ["V12.4", "V12.5", "V12.6"], async () => {
    queueIds(hexId("4444444444444444"));
    await ioTA.timeout(2000).to("room1").emitWithAck("question", "q?");
  });
  await r.step("V12", title12, ["V12.7"], async () => {
    ioTA.in("room1").socketsLeave("room5");
    await waitFor("room5 gone on TB", () => !ioTB.of("/").adapter.rooms.has("room5"));
  });
  await r.step("V12", title12, ["V12.8"], async () => {
    ioTA.except("room9").disconnectSockets();
    await waitFor("fixture disconnected", () => ioTB.of("/").sockets.size === 0);
  });
  await r.closeAll();

  // streamCount: each namespace goes to streamName-(hashCode(nsp) % count).
  const title13 = "streams adapter with streamCount 3 and maxLen 500: broadcasts in /, /admin and /chat";
  queueIds(hexId("e7e7e7e7e7e7e7e7"));
  const { io: ioTC } = await r.server({ adapter: streams.createAdapter(await r.client("TC"), { streamCount: 3, maxLen: 500 }) });
  queueIds(hexId("e8e8e8e8e8e8e8e8"));
  ioTC.of("/admin");
  queueIds(hexId("e9e9e9e9e9e9e9e9"));
  ioTC.of("/chat");
  await r.step("V13", title13, ["V13.1", "V13.2", "V13.3"], async () => {
    ioTC.emit("a", 1);
    await waitFor("V13.1", () => r.captured().length >= 1);
    ioTC.of("/admin").emit("b", 2);
    await waitFor("V13.2", () => r.captured().length >= 2);
    ioTC.of("/chat").emit("c", 3.5);
  });
  await r.closeAll();
}

// vectorOrder sorts V2.1 < V3b.1 < V4.1 < V10.1 < V10b.1 < V11.1.
function vectorOrder(a, b) {
  const key = (v) => {
    const m = /^V(\d+)([a-z]*)\.(\d+)$/.exec(v.name);
    return [Number(m[1]), m[2], Number(m[3])];
  };
  const [x, y] = [key(a), key(b)];
  return x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || x[2] - y[2];
}

async function main() {
  const out = process.argv[2] || path.join(__dirname, "..", "..", "internal", "protocol", "testdata", "node-vectors.json");
  const redis = await startRedis();
  const monitor = startMonitor(redis.port);
  const r = new Recorder(redis, monitor);
  try {
    r.admin = createClient({ url: redis.url, name: "recorder" });
    await r.admin.connect();
    await classic(r);
    await emitter(r);
    await sharded(r);
    await streamsAdapter(r);
  } finally {
    monitor.stop();
    if (r.admin) await r.admin.quit().catch(() => {});
    redis.stop();
  }
  const versions = [
    `@socket.io/redis-adapter ${pkgVersion("@socket.io/redis-adapter")}`,
    `@socket.io/redis-emitter ${pkgVersion("@socket.io/redis-emitter")}`,
    `@socket.io/redis-streams-adapter ${pkgVersion("@socket.io/redis-streams-adapter")}`,
    `socket.io ${pkgVersion("socket.io")}`,
    `socket.io-adapter ${pkgVersion("socket.io-adapter")}`,
    `notepack.io ${pkgVersion("notepack.io")}`,
  ].join(", ");
  const doc = {
    about:
      `Messages recorded from the real Node.js packages (${versions}) on a private redis-server, ` +
      "captured with MONITOR by interop/node/record-vectors.js (npm run record-vectors in interop/). " +
      '"<Buffer xx>" in a logical value stands for binary bytes. hex is the exact payload for msgpack messages; ' +
      "json is the exact payload text for JSON messages (compact it); fields are the XADD fields or the SET value " +
      "(with the node-redis options object as _opts / opts).",
    vectors: r.vectors.sort(vectorOrder),
  };
  const text = JSON.stringify(doc, null, 1) + "\n";
  if (out === "-") process.stdout.write(text);
  else {
    fs.writeFileSync(out, text);
    console.error(`record-vectors: ${doc.vectors.length} vectors written to ${out}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error("record-vectors:", e.stack || e);
    process.exit(1);
  },
);
