"use strict";
// Runs @socket.io/redis-emitter 5.1 commands given as JSON in argv, then exits.
//
//   node emitter.js '<command or array of commands>'
//
// command: {"redis":"redis://127.0.0.1:6379","key":"socket.io","nsp":"/",
//           "rooms":[..],"except":[..],"volatile":false,"compress":true,
//           "op":"emit"|"socketsJoin"|"socketsLeave"|"disconnectSockets"|"serverSideEmit",
//           "ev":"x","args":[..],"join":[..],"leave":[..],"close":true,
//           "gapMs":0 (pause after this command)}
// ("redis" may also be given as env SIO_REDIS_URL.) Binary arguments are
// {"$bin":"hex"}. Prints "done" once every publish has been acknowledged by
// Redis.

const { createClient } = require("redis");
const { Emitter } = require("@socket.io/redis-emitter");
const { fromWire } = require("./wire");

async function main() {
  let cmds = JSON.parse(process.argv[2] || "[]");
  if (!Array.isArray(cmds)) cmds = [cmds];
  const url = (cmds[0] && cmds[0].redis) || process.env.SIO_REDIS_URL || "redis://127.0.0.1:6379";
  const client = createClient({ url });
  client.on("error", (e) => console.error("redis error:", e.message));
  await client.connect();
  for (const c of cmds) {
    let e = new Emitter(client, c.key ? { key: c.key } : undefined);
    if (c.nsp && c.nsp !== "/") e = e.of(c.nsp);
    let o = e.to(c.rooms || []);
    if (c.except && c.except.length) o = o.except(c.except);
    if (c.volatile) o = o.volatile;
    if (c.compress !== undefined) o = o.compress(c.compress);
    switch (c.op || "emit") {
      case "emit":
        o.emit(c.ev, ...fromWire(c.args || []));
        break;
      case "socketsJoin":
        o.socketsJoin(c.join);
        break;
      case "socketsLeave":
        o.socketsLeave(c.leave);
        break;
      case "disconnectSockets":
        o.disconnectSockets(!!c.close);
        break;
      case "serverSideEmit":
        e.serverSideEmit(c.ev, ...fromWire(c.args || []));
        break;
      default:
        throw new Error("unknown op " + c.op);
    }
    if (c.gapMs) {
      // pace the commands: wait until Redis has the PUBLISH, then a bit more
      await client.ping();
      await new Promise((r) => setTimeout(r, c.gapMs));
    }
  }
  // The emitter does not await its PUBLISHes; commands are pipelined in
  // order, so once this PING is answered every PUBLISH has been processed.
  await client.ping();
  await client.quit();
  console.log("done");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
