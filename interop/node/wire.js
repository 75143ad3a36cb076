"use strict";
// JSON helpers shared by the interop scripts. Binary values cross the
// stdin/stdout boundary as {"$bin": "<hex>"}.

function toWire(v) {
  if (v === undefined) return null;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
    return { $bin: Buffer.from(v).toString("hex") };
  }
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (v instanceof Date) return { $date: v.toISOString() };
  if (v instanceof Set) return [...v].map(toWire);
  if (v instanceof Map) {
    const o = {};
    for (const [k, e] of v) o[String(k)] = toWire(e);
    return o;
  }
  if (Array.isArray(v)) return v.map(toWire);
  if (typeof v === "function") return { $fn: true };
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = toWire(v[k]);
    return o;
  }
  return v;
}

function fromWire(v) {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$bin") return Buffer.from(v.$bin, "hex");
    if (keys.length === 1 && keys[0] === "$date") return new Date(v.$date);
    const o = {};
    for (const k of keys) o[k] = fromWire(v[k]);
    return o;
  }
  return v;
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// lines calls fn for each JSON line read on stdin and exits the process when
// stdin is closed (the Go test closes it to stop the script).
function lines(fn) {
  const rl = require("readline").createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    line = line.trim();
    if (!line) return;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      out({ error: "bad json: " + e.message });
      return;
    }
    Promise.resolve()
      .then(() => fn(cmd))
      .then(
        (result) => out({ id: cmd.id, result: toWire(result === undefined ? null : result) }),
        (err) => out({ id: cmd.id, error: String((err && err.message) || err) }),
      );
  });
  rl.on("close", () => process.exit(0));
}

module.exports = { toWire, fromWire, out, lines };
