// A private Redis for the checks of the gateway's cluster script: its own
// redis-server on a free loopback port, with a password, stopped afterwards.
// Without redis-server/redis-cli the callers skip, except under CI=true, where
// a missing tool is a failure.

import net from "node:net";
import { spawn, spawnSync } from "node:child_process";

export const ci = () => process.env.CI === "true";

const onPath = (cmd) => spawnSync("bash", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;

/** Null when redis-server and redis-cli are installed, else why not (and a failure under CI). */
export function redisMissing() {
  const missing = ["redis-server", "redis-cli"].filter((c) => !onPath(c));
  if (missing.length === 0) return null;
  const why = `${missing.join(" and ")} not installed`;
  if (ci()) throw new Error(`CI=true and ${why}: the cluster membership checks cannot run`);
  return why;
}

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

function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect({ host: "127.0.0.1", port }, () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** Starts redis-server with a password; returns { port, password, url, stop }. */
export async function startRedis(password = "checkpassword0123456789") {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--requirepass", password,
    "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { port, password, url: `redis://:${password}@127.0.0.1:${port}`, stop };
}

/** redis-cli against that server; returns stdout lines. */
export function redisCli(redis, ...args) {
  const r = spawnSync("redis-cli", ["--raw", "-p", String(redis.port), ...args], {
    encoding: "utf8",
    env: { ...process.env, REDISCLI_AUTH: redis.password },
  });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l !== "");
}
