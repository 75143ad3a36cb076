"use strict";
// A socket.io 4.8 server scaled with @socket.io/redis-adapter 8.3, driven by
// the Go interop tests through stdin/stdout (one JSON object per line).
//
// Environment:
//   SIO_NAME           name used in server-side emit answers (default "node")
//   SIO_PORT           port to listen on (default 0: any free port)
//   SIO_MODE           "classic" (createAdapter), "sharded" (createShardedAdapter) or
//                      "streams" (@socket.io/redis-streams-adapter createAdapter)
//   SIO_CSR            connectionStateRecovery maxDisconnectionDuration in ms (off when unset)
//   SIO_SUB_MODE       sharded subscription mode (default "dynamic")
//   SIO_REDIS_URL      redis://host:port of a standalone Redis
//   SIO_REDIS_CLUSTER  comma-separated host:port seeds of a Redis Cluster
//   SIO_REQUESTS_TIMEOUT  classic requestsTimeout in ms (default 3000)
//   SIO_SPECIFIC_RESPONSE_CHANNEL  "true": classic publishOnSpecificResponseChannel
//
// Output lines:
//   {"ready":true,"port":N,"uids":{"/":..,"/admin":..}}   once listening and subscribed
//   {"id":N,"result":..} / {"id":N,"error":".."}           answers to commands
//   {"event":"sse","nsp":"/","ev":"sse","args":[..]}       server-side emits received
//   {"event":"connection","nsp":"/","sid":".."}            (informational)
// Binary values are {"$bin":"hex"} both ways.

const http = require("http");
const { Server } = require("socket.io");
const { createClient, createCluster } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const streams = require("@socket.io/redis-streams-adapter");
const { toWire, fromWire, out, lines } = require("./wire");

const env = process.env;
const name = env.SIO_NAME || "node";
const mode = env.SIO_MODE || "classic";
const subMode = env.SIO_SUB_MODE || "dynamic";
const NSPS = ["/", "/admin"];

function newRedis() {
  if (env.SIO_REDIS_CLUSTER) {
    return createCluster({
      rootNodes: env.SIO_REDIS_CLUSTER.split(",").map((a) => ({ url: "redis://" + a })),
    });
  }
  return createClient({ url: env.SIO_REDIS_URL || "redis://127.0.0.1:6379" });
}

async function numSub(client, kind, channel) {
  const cmd = ["PUBSUB", kind, channel];
  if (Array.isArray(client.masters)) {
    const counts = await Promise.all(
      client.masters.map(async (m) => {
        const c = await m.client;
        return parseInt((await c.sendCommand(cmd))[1], 10);
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
  return parseInt((await client.sendCommand(cmd))[1], 10);
}

function serverSocketJSON(s) {
  return { id: s.id, handshake: s.handshake, rooms: [...s.rooms], data: s.data };
}

async function main() {
  const pub = newRedis();
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (e) => console.error("redis error:", e.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const adapter =
    mode === "streams"
      ? streams.createAdapter(pub)
      : mode === "sharded"
        ? createShardedAdapter(pub, sub, { subscriptionMode: subMode })
        : createAdapter(pub, sub, {
            requestsTimeout: +(env.SIO_REQUESTS_TIMEOUT || 3000),
            publishOnSpecificResponseChannel: env.SIO_SPECIFIC_RESPONSE_CHANNEL === "true",
          });
  const httpServer = http.createServer();
  const opts = { adapter };
  if (env.SIO_CSR) opts.connectionStateRecovery = { maxDisconnectionDuration: +env.SIO_CSR };
  const io = new Server(httpServer, opts);

  for (const nspName of NSPS) {
    const nsp = io.of(nspName);
    nsp.on("connection", (socket) => {
      socket.on("join", (...a) => {
        const cb = typeof a[a.length - 1] === "function" ? a.pop() : () => {};
        socket.join(a);
        cb("ok");
      });
      socket.on("leave", (room, cb) => {
        socket.leave(room);
        if (cb) cb("ok");
      });
      socket.on("set-data", (v, cb) => {
        socket.data = v;
        if (cb) cb("ok");
      });
    });
    // server-side emits from other servers
    for (const ev of ["sse", "sse2", "sse-ack"]) {
      nsp.on(ev, (...args) => {
        const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
        out({ event: "sse", nsp: nspName, ev, args: toWire(args) });
        if (cb) cb("pong-" + name);
      });
    }
  }

  // op builds a BroadcastOperator from {nsp, rooms, except, volatile, compress, local, timeout}.
  function op(c) {
    let o = io.of(c.nsp || "/").to(c.rooms || []);
    if (c.except && c.except.length) o = o.except(c.except);
    if (c.volatile) o = o.volatile;
    if (c.compress !== undefined) o = o.compress(c.compress);
    if (c.local) o = o.local;
    if (c.timeout) o = o.timeout(c.timeout);
    return o;
  }

  const ops = {
    emit: (c) => op(c).emit(c.ev, ...fromWire(c.args || [])),
    // emitMany emits ev with argument i for i = 0..count-1, back to back.
    emitMany: (c) => {
      for (let i = 0; i < c.count; i++) op(c).emit(c.ev, i);
    },
    emitWithAck: (c) =>
      new Promise((resolve) =>
        op(c).emit(c.ev, ...fromWire(c.args || []), (err, responses) =>
          resolve({ err: err ? err.message : null, responses }),
        ),
      ),
    fetchSockets: async (c) => (await op(c).fetchSockets()).map(serverSocketJSON),
    // remoteEmit fetches the sockets matching c and emits through RemoteSocket.emit.
    remoteEmit: async (c) => {
      const sockets = await op({ nsp: c.nsp, rooms: c.rooms, except: c.except }).fetchSockets();
      for (const s of sockets) s.emit(c.ev, ...fromWire(c.args || []));
      return sockets.length;
    },
    allRooms: async (c) => [...(await io.of(c.nsp || "/").adapter.allRooms())],
    serverCount: (c) => io.of(c.nsp || "/").adapter.serverCount(),
    socketsJoin: (c) => op(c).socketsJoin(c.join),
    socketsLeave: (c) => op(c).socketsLeave(c.leave),
    disconnectSockets: (c) => op(c).disconnectSockets(!!c.close),
    serverSideEmit: (c) => {
      const nsp = io.of(c.nsp || "/");
      const args = fromWire(c.args || []);
      if (!c.ack) {
        nsp.serverSideEmit(c.ev, ...args);
        return null;
      }
      return new Promise((resolve) =>
        nsp.serverSideEmit(c.ev, ...args, (err, responses) =>
          resolve({ err: err ? err.message : null, responses }),
        ),
      );
    },
    // local state, for assertions
    localSockets: (c) => [...io.of(c.nsp || "/").sockets.values()].map(serverSocketJSON),
    socketRooms: (c) => {
      const s = io.of(c.nsp || "/").sockets.get(c.sid);
      return s ? [...s.rooms] : null;
    },
    localRooms: (c) => [...io.of(c.nsp || "/").adapter.rooms.keys()],
  };

  lines(async (c) => {
    const f = ops[c.op];
    if (!f) throw new Error("unknown op " + c.op);
    return f(c);
  });

  await new Promise((resolve) => httpServer.listen(+(env.SIO_PORT || 0), "127.0.0.1", resolve));

  // Wait until the adapters' subscriptions are confirmed by Redis: the
  // private response channel of each namespace is unique to this server and
  // is subscribed together with (classic: after) the other channels.
  const uids = {};
  for (const n of NSPS) uids[n] = io.of(n).adapter.uid;
  const deadline = Date.now() + 10000;
  for (const n of NSPS) {
    const [kind, chans] =
      mode === "sharded"
        ? ["SHARDNUMSUB", [`socket.io#${n}#`, `socket.io#${n}#${uids[n]}#`]]
        : mode === "streams"
          ? ["NUMSUB", [`socket.io#${n}#${uids[n]}#`]]
          : ["NUMSUB", [`socket.io-response#${n}#${uids[n]}#`]];
    for (const ch of chans) {
      while ((await numSub(pub, kind, ch)) < 1) {
        if (Date.now() > deadline) throw new Error("not subscribed to " + ch);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  out({ ready: true, port: httpServer.address().port, uids });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
