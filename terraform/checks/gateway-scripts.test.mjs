// The gateway VM's scripts, run for real (node --test): the cluster membership
// script against a private redis-server (with a password), the health script
// against a local HTTP(S) server standing in for the gateway's /health routes.
// systemctl, which cannot run here, is replaced by a stub that records its calls.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { redisCli, redisMissing, startRedis } from "./redis-helper.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const files = path.resolve(here, "..", "modules", "cloud-init", "files");
const clusterScript = path.join(files, "inference-gateway-cluster.sh");
const healthScript = path.join(files, "inference-gateway-health.sh");

const tempDirs = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gw-scripts-"));
  tempDirs.push(d);
  return d;
};
after(() => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Runs a script asynchronously (the HTTP server answering it lives in this process). */
function runScript(script, args, env) {
  return new Promise((resolve) => {
    const child = spawn("bash", [script, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

const readEnv = (dir) =>
  Object.fromEntries(
    fs.readFileSync(path.join(dir, "cluster.env"), "utf8").split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

describe("inference-gateway-cluster.sh", () => {
  const skip = redisMissing() ?? false;
  let redis;
  let key;
  let n = 0;
  before(async () => {
    if (!skip) redis = await startRedis();
  });
  after(async () => redis && (await redis.stop()));

  const member = async (host, extra = {}) => {
    const dir = extra.dir ?? tempDir();
    const env = { REDIS_URL: redis.url, CLUSTER_REGISTRY_KEY: key, RUNTIME_DIRECTORY: dir, STATE_DIRECTORY: dir, ...extra };
    if (host) env.CLUSTER_HOST = host;
    delete env.dir;
    const r = await runScript(clusterScript, [extra.mode ?? "env"], env);
    return { ...r, dir };
  };
  const fresh = () => (key = `test:cluster:${process.pid}:${++n}`);

  test("each member advertises its own address and lists the members registered before it", { skip }, async () => {
    fresh();
    const hosts = ["10.0.0.11", "10.0.0.12", "10.0.0.13"];
    const runs = [];
    for (const h of hosts) {
      const r = await member(h);
      assert.equal(r.status, 0, r.stderr);
      runs.push(r);
    }
    for (const [i, r] of runs.entries()) {
      const env = readEnv(r.dir);
      assert.equal(env.CLUSTER_HOST, hosts[i]);
      assert.equal(env.CLUSTER_PORT, "5701");
      assert.equal(env.CLUSTER_MEMBERS, hosts.slice(0, i + 1).map((h) => `${h}:5701`).join(","));
    }
    // The first one, restarted, knows all three.
    const again = await member(hosts[0], { dir: runs[0].dir });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readEnv(again.dir).CLUSTER_MEMBERS, hosts.map((h) => `${h}:5701`).join(","));
  });

  test("without CLUSTER_HOST it takes the address of its route to Redis", { skip }, async () => {
    fresh();
    const r = await member(null, { CLUSTER_PORT: "6801" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readEnv(r.dir), { CLUSTER_HOST: "127.0.0.1", CLUSTER_PORT: "6801", CLUSTER_MEMBERS: "127.0.0.1:6801" });
  });

  test("a member not registered for CLUSTER_MEMBER_TTL seconds is left out and removed", { skip }, async () => {
    fresh();
    const now = Number(redisCli(redis, "TIME")[0]);
    redisCli(redis, "ZADD", key, String(now - 700), "10.0.0.99:5701");
    redisCli(redis, "ZADD", key, String(now - 100), "10.0.0.98:5701");
    const r = await member("10.0.0.11");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readEnv(r.dir).CLUSTER_MEMBERS, "10.0.0.11:5701,10.0.0.98:5701");
    assert.deepEqual(redisCli(redis, "ZRANGE", key, "0", "-1").sort(), ["10.0.0.11:5701", "10.0.0.98:5701"]);
  });

  test("refresh registers the member of cluster.env again with Redis' time", { skip }, async () => {
    fresh();
    const r = await member("10.0.0.11");
    redisCli(redis, "ZADD", key, "1000", "10.0.0.11:5701");
    const refreshed = await member(null, { dir: r.dir, mode: "refresh" });
    assert.equal(refreshed.status, 0, refreshed.stderr);
    const score = Number(redisCli(redis, "ZSCORE", key, "10.0.0.11:5701")[0]);
    assert.ok(score >= Number(redisCli(redis, "TIME")[0]) - 5, `score ${score} is now`);
  });

  test("Redis unusable: the list of the last start plus itself, or no start at all without one", { skip }, async () => {
    fresh();
    await member("10.0.0.12");
    const first = await member("10.0.0.11");
    assert.equal(readEnv(first.dir).CLUSTER_MEMBERS, "10.0.0.11:5701,10.0.0.12:5701");
    const badUrl = `redis://:wrongpassword0123@127.0.0.1:${redis.port}`;

    const cached = await member("10.0.0.11", { dir: first.dir, REDIS_URL: badUrl, CLUSTER_REDIS_WAIT: "0" });
    assert.equal(cached.status, 0, cached.stderr);
    assert.match(cached.stderr, /not usable: using the members of the last start/);
    assert.equal(readEnv(first.dir).CLUSTER_MEMBERS, "10.0.0.11:5701,10.0.0.12:5701");

    const lonely = await member("10.0.0.13", { REDIS_URL: badUrl, CLUSTER_REDIS_WAIT: "0" });
    assert.notEqual(lonely.status, 0, "a first start without Redis must not form a cluster of one");
    assert.match(lonely.stderr, /not starting alone/);
    assert.ok(!fs.existsSync(path.join(lonely.dir, "cluster.env")));
  });

  test("a REDIS_URL it cannot read is refused", { skip }, async () => {
    const r = await member("10.0.0.11", { REDIS_URL: "http://127.0.0.1:6379" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /REDIS_URL is not redis:/);
  });
});

describe("inference-gateway-health.sh", () => {
  /** A stand-in for the gateway's health routes; answers[path] is a list of statuses, the last one repeats. */
  async function healthServer(answers, { tls } = {}) {
    const seen = [];
    const handler = (req, res) => {
      seen.push(req.url);
      const list = answers[req.url] ?? [404];
      res.writeHead(list.length > 1 ? list.shift() : list[0]).end();
    };
    const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    return { port: server.address().port, seen, close: () => new Promise((r) => server.close(r)) };
  }

  test("wait: started once /health/live answers, then waits for /health/ready", async () => {
    const s = await healthServer({ "/health/live": [503, 503, 200], "/health/ready": [503, 200] });
    try {
      const r = await runScript(healthScript, ["wait"], { HTTP_PORT: String(s.port), HEALTH_LIVE_TIMEOUT: "60", HEALTH_READY_TIMEOUT: "60" });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(s.seen, ["/health/live", "/health/live", "/health/live", "/health/ready", "/health/ready"]);
      assert.match(r.stderr, /health\/ready answers/);
    } finally {
      await s.close();
    }
  });

  test("wait: fails when /health/live never answers (systemd then restarts the gateway)", async () => {
    const s = await healthServer({ "/health/live": [503] });
    try {
      const r = await runScript(healthScript, ["wait"], { HTTP_PORT: String(s.port), HEALTH_LIVE_TIMEOUT: "3" });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /did not answer within 3 s/);
      assert.ok(!s.seen.includes("/health/ready"));
    } finally {
      await s.close();
    }
  });

  test("wait: a gateway that is live but not ready stays up, with a warning", async () => {
    const s = await healthServer({ "/health/live": [200], "/health/ready": [503] });
    try {
      const r = await runScript(healthScript, ["wait"], { HTTP_PORT: String(s.port), HEALTH_READY_TIMEOUT: "2" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /WARNING: .*health\/ready did not answer within 2 s/);
    } finally {
      await s.close();
    }
  });

  test("with TLS_CERT_FILE the probes use https", { skip: spawnSync("bash", ["-c", "command -v openssl"]).status !== 0 && "openssl not installed" }, async () => {
    const dir = tempDir();
    const ssl = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=gateway.example",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { encoding: "utf8" });
    assert.equal(ssl.status, 0, ssl.stderr);
    const tls = { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) };
    const s = await healthServer({ "/health/live": [200], "/health/ready": [200] }, { tls });
    try {
      const r = await runScript(healthScript, ["wait"], { HTTP_PORT: String(s.port), TLS_CERT_FILE: path.join(dir, "cert.pem") });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`https://127\\.0\\.0\\.1:${s.port}/health/ready answers`));
    } finally {
      await s.close();
    }
  });

  test("watch: restarts the gateway after three failed liveness probes in a row, not before", async () => {
    const dir = tempDir();
    const calls = path.join(dir, "systemctl.calls");
    fs.writeFileSync(
      path.join(dir, "systemctl"),
      `#!/bin/bash\necho "$*" >>"${calls}"\nif [ "$1" = is-active ]; then exit "\${STUB_ACTIVE:-0}"; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    const s = await healthServer({ "/health/live": [503, 503, 200, 503, 503, 503] });
    const env = { HTTP_PORT: String(s.port), PATH: `${dir}:${process.env.PATH}`, HEALTH_STATE_FILE: path.join(dir, "failures") };
    const restarts = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").split("\n").filter((l) => l.startsWith("restart")).length : 0);
    try {
      for (const expected of [0, 0, 0, 0, 0, 1]) {
        const r = await runScript(healthScript, ["watch"], env);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(restarts(), expected, r.stderr);
      }
      assert.deepEqual(fs.readFileSync(calls, "utf8").split("\n").filter((l) => l.startsWith("restart")), ["restart --no-block inference-gateway.service"]);
      // Not active (starting or stopped): no probe, no restart, the count starts over.
      const probes = s.seen.length;
      const idle = await runScript(healthScript, ["watch"], { ...env, STUB_ACTIVE: "3" });
      assert.equal(idle.status, 0);
      assert.equal(s.seen.length, probes);
      assert.ok(!fs.existsSync(path.join(dir, "failures")));
    } finally {
      await s.close();
    }
  });
});
