"use strict";
// socket.io-client 4.8 connections driven by the Go interop tests. One
// process holds any number of named connections.
//
// Optional argv: a JSON connect command run at start-up, e.g.
//   node client.js '{"name":"a","url":"http://127.0.0.1:3000","nsp":"/"}'
//
// stdin commands (JSON lines, answered with {"id":N,"result":..}):
//   {"id":1,"op":"connect","name":"a","url":"http://..","nsp":"/","query":{..},"auth":{..}}
//        -> {"sid": "<socket id>"} once connected
//   {"id":2,"op":"emit","name":"a","ev":"join","args":["r1"],"ack":true}
//        -> the ack arguments (ack:true) or null
//   {"id":3,"op":"close","name":"a"}
// stdout events:
//   {"client":"a","ev":"<event>","args":[..]}   every event received (binary as {"$bin":"hex"});
//   events sent with an ack are answered with "answer-<socket id>" (events
//   named askbin*: {"from": "<socket id>", "b": Buffer<01 02>}).
//   {"client":"a","ev":"disconnect","args":["<reason>"]}

const { io } = require("socket.io-client");
const { toWire, fromWire, out, lines } = require("./wire");

const sockets = new Map();

// connect retries: socket.io (Go) v2.5.0 occasionally loses the namespace
// CONNECT packet that follows the Engine.IO handshake, and the client would
// then wait forever. Each attempt is bounded and made with a fresh socket.
async function connect(c) {
  let last;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return await connectOnce(c);
    } catch (e) {
      last = e;
      const s = sockets.get(c.name);
      if (s) s.disconnect();
    }
  }
  throw last;
}

function connectOnce(c) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timed out")), 2500);
    const socket = io(c.url + (c.nsp || "/"), {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      query: c.query || {},
      auth: c.auth || {},
      timeout: 5000,
    });
    sockets.set(c.name, socket);
    socket.onAny((ev, ...args) => {
      let ack = null;
      if (typeof args[args.length - 1] === "function") ack = args.pop();
      out({ client: c.name, ev, args: toWire(args) });
      if (ack) {
        // events named askbin* are answered with binary
        ack(ev.startsWith("askbin") ? { from: socket.id, b: Buffer.from([1, 2]) } : "answer-" + socket.id);
      }
    });
    socket.on("disconnect", (reason) => out({ client: c.name, ev: "disconnect", args: [reason] }));
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve({ sid: socket.id });
    });
    socket.once("connect_error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const ops = {
  connect,
  emit: (c) => {
    const s = sockets.get(c.name);
    if (!s) throw new Error("no client " + c.name);
    const args = fromWire(c.args || []);
    if (!c.ack) {
      s.emit(c.ev, ...args);
      return null;
    }
    return s.timeout(5000).emitWithAck(c.ev, ...args);
  },
  close: (c) => {
    const s = sockets.get(c.name);
    if (s) s.disconnect();
    sockets.delete(c.name);
    return null;
  },
};

lines(async (c) => {
  const f = ops[c.op];
  if (!f) throw new Error("unknown op " + c.op);
  return f(c);
});

if (process.argv[2]) {
  const c = JSON.parse(process.argv[2]);
  connect(c).then(
    (r) => out({ client: c.name, ev: "$connected", args: [r.sid] }),
    (e) => out({ client: c.name, ev: "$connect_error", args: [e.message] }),
  );
}
