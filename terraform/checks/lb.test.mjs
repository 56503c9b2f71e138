// The load-balancer examples of conf/lb/ run for real (node --test), in front
// of two stand-in gateways on this machine: server-sent events pass through
// unbuffered, and (HAProxy) a gateway whose /health/ready answers 503 gets no
// new requests until it is ready again. haproxy and nginx are optional tools:
// without them these tests skip (the configurations are examples).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const conf = path.resolve(here, "..", "..", "conf", "lb");
const onPath = (cmd) => spawnSync("bash", ["-c", `command -v ${cmd}`]).status === 0;

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function until(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A stand-in gateway: /health/ready answers `ready` (200 or 503); /v1/stream
 * sends one event, then the second only once release() is called; /v1/who
 * answers its name.
 */
async function gateway(name) {
  const g = { name, ready: 200, hits: 0, pending: [] };
  const server = http.createServer((req, res) => {
    if (req.url === "/health/ready") return res.writeHead(g.ready).end();
    g.hits++;
    if (req.url === "/v1/who") return res.writeHead(200, { "Content-Type": "text/plain" }).end(name);
    if (req.url === "/v1/stream") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write(`data: first from ${name}\n\n`);
      g.pending.push(() => res.end("data: [DONE]\n\n"));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  g.port = server.address().port;
  g.release = () => g.pending.splice(0).forEach((f) => f());
  cleanups.push(() => {
    g.release();
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return g;
}

/** Starts a process in the foreground; stops it at the end. */
function start(cmd, args) {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  cleanups.push(
    () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once("exit", r);
        child.kill("SIGTERM");
      }),
  );
  return { child, stderr: () => stderr };
}

/** Reads a streamed response: resolves `first` with the first chunk, `done` with the whole body. */
function stream(port, urlPath) {
  let resolveFirst;
  const first = new Promise((r) => (resolveFirst = r));
  const done = new Promise((resolve, reject) => {
    http
      // As browsers and most clients do: a proxy that compresses would hold the events back.
      .get({ host: "127.0.0.1", port, path: urlPath, headers: { "Accept-Encoding": "gzip" } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          if (!body) resolveFirst(d);
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
      })
      .on("error", reject);
  });
  return { first, done };
}

const get = (port, urlPath) =>
  new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: urlPath, agent: false }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      })
      .on("error", reject);
  });

/** An event must reach the client while the gateway still holds the stream open: nothing is buffered. */
async function assertStreamsUnbuffered(lbPort, gateways) {
  const s = stream(lbPort, "/v1/stream");
  const first = await Promise.race([s.first, new Promise((_, rej) => setTimeout(() => rej(new Error("the first event did not come through while the stream was open: buffered?")), 20_000))]);
  assert.match(first, /^data: first from gw[ab]\n\n/);
  gateways.forEach((g) => g.release());
  const { status, headers, body } = await s.done;
  assert.equal(status, 200);
  assert.match(headers["content-type"], /text\/event-stream/);
  assert.match(body, /data: \[DONE\]\n\n$/);
}

function configFor(file, lbPort, gateways) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lb-test-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const text = fs
    .readFileSync(path.join(conf, file), "utf8")
    .replaceAll("127.0.0.1:8080", `127.0.0.1:${lbPort}`)
    .replaceAll("127.0.0.1:5001", `127.0.0.1:${gateways[0].port}`)
    .replaceAll("127.0.0.1:5002", `127.0.0.1:${gateways[1].port}`);
  const out = path.join(dir, file);
  fs.writeFileSync(out, text);
  return { dir, file: out };
}

describe("conf/lb/haproxy.cfg", { skip: !onPath("haproxy") && "haproxy not installed" }, () => {
  test("streams events unbuffered and sends no new requests to a gateway that is not ready", async () => {
    const gateways = [await gateway("gwa"), await gateway("gwb")];
    const lbPort = await freePort();
    const { file } = configFor("haproxy.cfg", lbPort, gateways);
    const lb = start("haproxy", ["-db", "-f", file]);
    await until("haproxy to route to both gateways", async () => {
      if (lb.child.exitCode !== null) throw new Error(`haproxy exited: ${lb.stderr()}`);
      try {
        const names = new Set();
        for (let i = 0; i < 4; i++) names.add((await get(lbPort, "/v1/who")).body);
        return names.size === 2;
      } catch {
        return false;
      }
    });

    await assertStreamsUnbuffered(lbPort, gateways);

    // gwb drains (503 on /health/ready): after two checks it gets nothing new.
    gateways[1].ready = 503;
    await until("haproxy to take gwb out", async () => {
      const names = [];
      for (let i = 0; i < 4; i++) names.push((await get(lbPort, "/v1/who")).body);
      return names.every((n) => n === "gwa");
    });
    const before = gateways[1].hits;
    for (let i = 0; i < 10; i++) assert.equal((await get(lbPort, "/v1/who")).body, "gwa");
    assert.equal(gateways[1].hits, before, "no request reached the gateway that is not ready");

    // Ready again: back in.
    gateways[1].ready = 200;
    await until("haproxy to take gwb back", async () => (await get(lbPort, "/v1/who")).body === "gwb" || (await get(lbPort, "/v1/who")).body === "gwb");
  });
});

describe("conf/lb/nginx.conf", { skip: !onPath("nginx") && "nginx not installed" }, () => {
  test("streams events unbuffered to and from both gateways", async () => {
    const gateways = [await gateway("gwa"), await gateway("gwb")];
    const lbPort = await freePort();
    const { dir, file } = configFor("nginx.conf", lbPort, gateways);
    const lb = start("nginx", ["-e", "stderr", "-p", dir, "-c", file, "-g", "daemon off;"]);
    await until("nginx to route to both gateways", async () => {
      if (lb.child.exitCode !== null) throw new Error(`nginx exited: ${lb.stderr()}`);
      try {
        const names = new Set();
        for (let i = 0; i < 4; i++) names.add((await get(lbPort, "/v1/who")).body);
        return names.size === 2;
      } catch {
        return false;
      }
    });
    await assertStreamsUnbuffered(lbPort, gateways);
  });
});
