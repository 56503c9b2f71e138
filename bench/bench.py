#!/usr/bin/env python3
"""The gateway's benchmark: the gateway against a direct call to the upstream and against nginx, side by side.

Servers (the vLLM simulator with zero delays, nginx, the gateway with real MariaDB and Redis, limits and usage metrics
on) run on CPU 0; the load generator (wrk) on CPU 1. The machine's speed drifts between minutes, so targets are
measured in interleaved rounds (direct, nginx, gateway, again and again) and the report uses medians of the per-round
ratios. Writes bench/results/<date>.json, <date>.md and <date>-ratios.svg, and prints the table.

Usage: bench/run.sh [--quick] [--no-build] [--rounds N] [--seconds S]
"""
import argparse
import datetime
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORK = os.path.join(BENCH, "work")
RESULTS = os.path.join(BENCH, "results")
JAR = os.environ.get("BENCH_JAR", os.path.join(ROOT, "target", "inference-gateway.jar"))

GATEWAY_PORT, SIM_PORT, NGINX_PORT, SLOW_SIM_PORT = 18000, 18001, 18002, 18003
SERVER_CPU, LOAD_CPU = "0", "1"
MODEL, MODEL10, SLOW_MODEL = "bench/model", "bench/model-10", "bench/slow"
DB = "igw_bench"
ADMIN_KEY = "sk-admin-bench-" + secrets.token_hex(8)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PATH = "/v1/chat/completions"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, **kw):
    r = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def http_get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read().decode()


def sql(statements):
    run(["mariadb", "-uroot", "-h127.0.0.1", "--batch"], input=statements)


# ---------------------------------------------------------------- processes

def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except FileNotFoundError:
            pass
    return total


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def pids_of(name):
    out = subprocess.run(["pgrep", "-x", name], text=True, capture_output=True).stdout.split()
    return [int(p) for p in out]


def pin(pids, cpus):
    for pid in pids:
        subprocess.run(["taskset", "-a", "-cp", cpus, str(pid)], capture_output=True)


class Servers:
    def __init__(self):
        self.procs = {}

    def java(self, name, args, env=None, heap="512m"):
        out = open(os.path.join(WORK, f"{name}.log"), "w")
        # the flags the README recommends for the gateway: a bounded heap and the throughput collector
        # BENCH_GATEWAY_OPTS: extra JVM options for the gateway only (e.g. a profiler's -agentpath)
        extra = os.environ.get("BENCH_GATEWAY_OPTS", "").split() if name == "gateway" else []
        cmd = ["taskset", "-c", SERVER_CPU, "java", f"-Xmx{heap}", "-XX:+UseParallelGC"] + extra + ["-jar", JAR] + args
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                             cwd=WORK, preexec_fn=os.setsid)
        self.procs[name] = p
        return p

    def simulator(self, name, port, extra):
        self.java(name, ["simulate", "--host", "0.0.0.0", "--port", str(port), "--models",
                         f"{MODEL},{MODEL10},{SLOW_MODEL}", "--max-num-seqs", "100000"] + extra, heap="768m")
        wait_until(lambda: port_open(port), f"simulator on {port}")

    def gateway(self):
        env = {"HTTP_PORT": str(GATEWAY_PORT), "ADMIN_API_KEY": ADMIN_KEY,
               "DATABASE_URL": f"mysql://root:@127.0.0.1:3306/{DB}", "REDIS_URL": "redis://127.0.0.1:6379",
               "DATA_DIR": os.path.join(WORK, "data"), "GATEWAY_LOG_LEVEL": "WARN"}
        self.java("gateway", ["run", "--config", os.path.join(WORK, "gateway.json")], env=env, heap="512m")
        wait_until(lambda: http_get(f"http://127.0.0.1:{GATEWAY_PORT}/health")[0] == 200, "gateway", 120)

    def nginx(self):
        conf = open(os.path.join(BENCH, "nginx.conf.template")).read()
        conf = conf.replace("@WORK@", WORK).replace("@PORT@", str(NGINX_PORT)).replace("@UPSTREAM_PORT@", str(SIM_PORT))
        os.makedirs(os.path.join(WORK, "nginx-tmp"), exist_ok=True)
        path = os.path.join(WORK, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        p = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-c", path, "-p", WORK, "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, "nginx.out"), "w"),
                             preexec_fn=os.setsid)
        self.procs["nginx"] = p
        wait_until(lambda: port_open(NGINX_PORT), "nginx")

    def pids(self, name):
        p = self.procs[name]
        kids = subprocess.run(["pgrep", "-P", str(p.pid)], text=True, capture_output=True).stdout.split()
        return [p.pid] + [int(k) for k in kids]

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


# ---------------------------------------------------------------- seeding

def new_key():
    plain = "sk-" + secrets.token_urlsafe(24)
    return plain, hashlib.sha256(plain.encode()).hexdigest(), plain[:11]


def seed(keys_count):
    """Models, replicas and keys straight into the database (the gateway loads them all at start)."""
    main_key = new_key()
    many = [new_key() for _ in range(keys_count)]
    rows = [f"('bench', '{h}', '{p}', 2000000000, TRUE, NOW(3))" for _, h, p in [main_key] + many]
    statements = [f"USE {DB};",
                  "INSERT INTO llm_models (name, created_at) VALUES "
                  f"('{MODEL}', NOW(3)), ('{MODEL10}', NOW(3)), ('{SLOW_MODEL}', NOW(3));",
                  "INSERT INTO replicas (model_id, endpoint, vm_status, created_at, updated_at) SELECT id, "
                  f"'http://127.0.0.1:{SIM_PORT}', 'SUCCESS', NOW(3), NOW(3) FROM llm_models WHERE name = '{MODEL}';",
                  "INSERT INTO replicas (model_id, endpoint, vm_status, created_at, updated_at) SELECT id, "
                  f"'http://127.0.0.1:{SLOW_SIM_PORT}', 'SUCCESS', NOW(3), NOW(3) FROM llm_models "
                  f"WHERE name = '{SLOW_MODEL}';"]
    for i in range(1, 11):  # ten replicas: the same simulator under ten loopback addresses
        statements.append("INSERT INTO replicas (model_id, endpoint, vm_status, created_at, updated_at) SELECT id, "
                          f"'http://127.0.0.{i}:{SIM_PORT}', 'SUCCESS', NOW(3), NOW(3) FROM llm_models "
                          f"WHERE name = '{MODEL10}';")
    for i in range(0, len(rows), 1000):
        statements.append("INSERT INTO api_keys (user_id, key_hash, key_prefix, allowed_rpm, enabled, created_at) "
                          "VALUES " + ", ".join(rows[i:i + 1000]) + ";")
    sql("\n".join(statements))
    keys_file = os.path.join(WORK, "keys.txt")
    with open(keys_file, "w") as f:
        f.write("\n".join(k[0] for k in many) + "\n")
    return main_key[0], keys_file


def write_gateway_config():
    conf = json.load(open(os.path.join(ROOT, "conf", "config.json")))
    conf["http"]["instances"] = 1            # one core for the servers: one event loop
    conf["upstream"]["maxConnectionsPerReplica"] = 20000
    # wrk and the slow-stream clients all come from 127.0.0.1: no per-address connection limit
    conf["http"]["maxConnectionsPerAddress"] = 0
    conf["redis"]["keyPrefix"] = "igw-bench-" + secrets.token_hex(4)
    with open(os.path.join(WORK, "gateway.json"), "w") as f:
        json.dump(conf, f, indent=2)


# ---------------------------------------------------------------- measuring

def wrk(url, conns, seconds, script="chat.lua", env=None, timeout="30s"):
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", timeout,
           "-s", os.path.join(BENCH, "wrk", script), url]
    out = subprocess.run(cmd, text=True, capture_output=True, env={**os.environ, "BENCH_DIR": BENCH, **(env or {})})
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")


class Bench:
    def __init__(self, servers, key):
        self.s = servers
        self.key = key
        self.redis = pids_of("redis-server")
        self.mariadb = pids_of("mariadbd")
        self.targets = {
            "direct": (f"http://127.0.0.1:{SIM_PORT}{PATH}", lambda: self.s.pids("sim"), lambda: []),
            "nginx": (f"http://127.0.0.1:{NGINX_PORT}{PATH}", lambda: self.s.pids("sim"), lambda: self.s.pids("nginx")),
            "gateway": (f"http://127.0.0.1:{GATEWAY_PORT}{PATH}", lambda: self.s.pids("sim"),
                        lambda: self.s.pids("gateway") + self.redis + self.mariadb),
        }
        # the gateway's proxy CPU split by process: what the JVM spends, and what its Redis calls and usage rows cost
        self.parts = {"gateway": {"jvm": lambda: self.s.pids("gateway"), "redis": lambda: self.redis,
                                  "mariadb": lambda: self.mariadb}}

    def measure(self, target, conns, seconds, stream=False, model=MODEL, script="chat.lua", extra_env=None):
        url, upstream, proxy = self.targets[target]
        up, px = upstream(), proxy()
        parts = {name: pids() for name, pids in self.parts.get(target, {}).items()}
        before_parts = {name: cpu_seconds(pids) for name, pids in parts.items()}
        before_up, before_px = cpu_seconds(up), cpu_seconds(px)
        env = {"BENCH_KEY": self.key, "BENCH_MODEL": model, "BENCH_STREAM": "1" if stream else "0", **(extra_env or {})}
        r = wrk(url, conns, seconds, script, env)
        used_up, used_px = cpu_seconds(up) - before_up, cpu_seconds(px) - before_px
        used_parts = {name: cpu_seconds(pids) - before_parts[name] for name, pids in parts.items()}
        n = max(r["requests"], 1)
        errors = r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_status"] + r["errors_timeout"]
        return {"target": target, "conns": conns, "stream": stream, "model": model,
                "rps": r["requests"] / (r["duration_us"] / 1e6), "requests": r["requests"], "errors": errors,
                "p50_ms": r["latency_p50_us"] / 1000, "p99_ms": r["latency_p99_us"] / 1000,
                "cpu_us_per_req": (used_up + used_px) * 1e6 / n, "proxy_cpu_us_per_req": used_px * 1e6 / n,
                "proxy_cpu_us_per_req_by_process": {name: used * 1e6 / n for name, used in used_parts.items()}}


def median(xs):
    return statistics.median(xs) if xs else None


def ttft(target_url, key, count):
    out = run(["taskset", "-c", LOAD_CPU, "java", os.path.join(BENCH, "TtftProbe.java"), target_url, key, MODEL,
               str(count)])
    return json.loads(out.stdout.strip().splitlines()[-1])


def jit_seconds(pid):
    """Time the JVM's JIT compilers have spent so far (HotSpot's java.ci.totalTime), or None without jcmd."""
    try:
        out = subprocess.run(["jcmd", str(pid), "PerfCounter.print"], text=True, capture_output=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    counters = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        return int(counters["java.ci.totalTime"]) / int(counters.get("sun.os.hrt.frequency", "1000000000"))
    except (KeyError, ValueError):
        return None


def warm_until_jit_settles(bench, servers, args):
    """More gateway load until its JIT compilers use under 3% of its CPU: the rounds measure the steady state that a
    long-running gateway is in, not compilation. The compiler threads share the servers' one core, so under load they
    fall behind and can still be compiling minutes after start. At most six extra steps of 12 s."""
    pid = servers.procs["gateway"].pid
    for step in range(0 if args.quick else 6):
        jit_before, cpu_before = jit_seconds(pid), cpu_seconds([pid])
        if jit_before is None:
            return
        bench.measure("gateway", 64, 8, False)
        bench.measure("gateway", 64, 4, True)
        jit, cpu = jit_seconds(pid) - jit_before, cpu_seconds([pid]) - cpu_before
        log(f"  JIT used {jit:.2f} s of the gateway's {cpu:.2f} s CPU")
        if jit < 0.03 * cpu:
            return


def gateway_in_flight():
    _, text = http_get(f"http://127.0.0.1:{GATEWAY_PORT}/metrics", {"Authorization": f"Bearer {ADMIN_KEY}"})
    for line in text.splitlines():
        if line.startswith("gateway_requests_in_flight"):
            return float(line.split()[-1])
    return 0


# ---------------------------------------------------------------- report

def svg_chart(ratios, path):
    """Bars of the median ratios (gateway/nginx, gateway/direct, nginx/direct) for each mode, with the 1.0 line."""
    groups = list(ratios.keys())
    series = [("gateway / nginx", "#2563eb"), ("gateway / direct", "#16a34a"), ("nginx / direct", "#9ca3af")]
    width, height, left, bottom, top = 640, 320, 60, 40, 30
    plot_h = height - bottom - top
    ymax = max(1.2, max(v for g in groups for v in ratios[g].values() if v is not None) * 1.1)
    group_w = (width - left - 20) / len(groups)
    bar_w = group_w / (len(series) + 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14" font-weight="bold">Throughput ratios (medians of interleaved '
           f'rounds, 64 connections)</text>']
    for i in range(0, int(ymax * 10) + 1, 2):
        y = top + plot_h - (i / 10) / ymax * plot_h
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{i / 10:.1f}</text>')
    y1 = top + plot_h - 1 / ymax * plot_h
    out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y1:.1f}" y2="{y1:.1f}" stroke="#dc2626" '
               f'stroke-dasharray="4 3"/>')
    for gi, g in enumerate(groups):
        x0 = left + gi * group_w + bar_w / 2
        for si, (name, color) in enumerate(series):
            v = ratios[g].get(name)
            if v is None:
                continue
            h = v / ymax * plot_h
            x = x0 + si * bar_w
            out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w * 0.9:.1f}" height="{h:.1f}" '
                       f'fill="{color}"/>')
            out.append(f'<text x="{x + bar_w * 0.45:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle">'
                       f'{v:.2f}</text>')
        out.append(f'<text x="{left + gi * group_w + group_w / 2:.1f}" y="{height - 18}" text-anchor="middle">{g}</text>')
    for si, (name, color) in enumerate(series):
        out.append(f'<rect x="{width - 170}" y="{top + si * 16}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{width - 155}" y="{top + 9 + si * 16}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="short rounds, for trying the script (not for results)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--streams", type=int, default=5000)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--stages", default="rounds,conns,variants,ttft,scale,fleet",
                    help="comma-separated subset of rounds,conns,variants,ttft,scale,fleet")
    ap.add_argument("--fleet-seconds", type=int, default=40, help="fleet: seconds per cell")
    ap.add_argument("--fleet-replicas", type=int, default=4, help="fleet: simulated replicas")
    ap.add_argument("--fleet-skip", default="", help="fleet: 'fairness' to skip the fair-admission runs, 'routing' the strategy cells")
    ap.add_argument("--fleet-strategies", default="round-robin,least-in-flight,default",
                    help="fleet: strategies to compare (for trying the script)")
    ap.add_argument("--fleet-workloads", default="multi-turn,uniform", help="fleet: workloads (for trying the script)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.streams, args.keys = 2, 3, 500, 1000
        args.fleet_seconds = min(args.fleet_seconds, 15)
    started = time.time()
    stages = set(args.stages.split(","))

    for tool in ("wrk", "nginx", "taskset", "mariadb", "redis-cli"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install -y wrk nginx util-linux mariadb-client redis-tools")
    if not port_open(3306) or not port_open(6379):
        raise SystemExit("MariaDB (3306) and Redis (6379) must be running (see .ci/run)")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    os.makedirs(RESULTS, exist_ok=True)
    if not args.no_build or not os.path.exists(JAR):
        log("building the jar")
        run(["./mvnw", "-q", "-B", "package", "-DskipTests"], cwd=ROOT)

    if stages == {"fleet"}:
        return fleet_stage(args)

    servers = Servers()
    redis, mariadb = pids_of("redis-server"), pids_of("mariadbd")
    pin(redis + mariadb, SERVER_CPU)
    try:
        sql(f"DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB} CHARACTER SET utf8mb4;")
        write_gateway_config()
        log("migrating the bench database")
        servers.gateway()
        servers.stop("gateway")
        key, keys_file = seed(args.keys)
        log("starting simulator, nginx and gateway on CPU " + SERVER_CPU)
        servers.simulator("sim", SIM_PORT, ["--tokens", "20", "--ttft-ms", "0", "--itl-ms", "0"])
        servers.simulator("slowsim", SLOW_SIM_PORT, ["--tokens", "10", "--ttft-ms", "0", "--itl-ms", "1000"])
        servers.nginx()
        servers.gateway()
        bench = Bench(servers, key)

        log("warming up (the gateway's JIT needs the longest)")
        bench.measure("gateway", 64, 10 if args.quick else 40, False)
        bench.measure("gateway", 64, 5 if args.quick else 20, True)
        for target in ("direct", "nginx", "gateway"):
            bench.measure(target, 64, max(3, args.seconds), False)
            bench.measure(target, 64, max(2, args.seconds // 2), True)
        warm_until_jit_settles(bench, servers, args)

        results = {"rounds": [], "conns": [], "variants": [], "ttft": [], "scale": {}}
        order = ["direct", "nginx", "gateway"]
        for rnd in range(args.rounds if "rounds" in stages else 0):
            log(f"round {rnd + 1}/{args.rounds}")
            for stream in (False, True):
                row = {}
                for target in order[rnd % 3:] + order[:rnd % 3]:  # rotate who goes first
                    row[target] = bench.measure(target, 64, args.seconds, stream)
                results["rounds"].append({"round": rnd, "stream": stream, "runs": row})

        log("connections sweep")
        for rnd in range(2 if "conns" in stages else 0):
            for conns in (1, 16, 64, 256):
                for target in order:
                    results["conns"].append(bench.measure(target, conns, max(2, args.seconds // 2), False))

        log("replicas and keys")
        for rnd in range(2 if "variants" in stages else 0):
            results["variants"].append({"variant": "1 replica, 1 key",
                                        **bench.measure("gateway", 64, args.seconds, False)})
            results["variants"].append({"variant": "10 replicas", **bench.measure("gateway", 64, args.seconds, False,
                                                                                  model=MODEL10)})
            results["variants"].append({"variant": f"{args.keys} keys", **bench.measure(
                "gateway", 64, args.seconds, False, script="keys.lua", extra_env={"BENCH_KEYS_FILE": keys_file})})

        log("time to first token at one connection")
        for rnd in range(3 if "ttft" in stages else 0):
            for target in order:
                url = bench.targets[target][0]
                results["ttft"].append({"target": target, **ttft(url, key, 100 if args.quick else 300)})

        if "scale" in stages:
            scale_run(args, key, servers, results)
        peak_rss = {"direct (simulator)": peak_rss_mib(servers.procs["sim"].pid),
                    "nginx": max(peak_rss_mib(p) for p in servers.pids("nginx")),
                    "gateway": peak_rss_mib(servers.procs["gateway"].pid)}
    finally:
        servers.stop_all()
        pin(redis + mariadb, "0-" + str(os.cpu_count() - 1))

    report(results, peak_rss, args, time.time() - started)
    if "fleet" in stages:
        fleet_stage(args)


def fleet_stage(args):
    """The fleet benchmark (bench/fleet.py): its own processes, unpinned, after the proxy benchmark."""
    sys.path.insert(0, BENCH)
    import fleet
    servers = Servers()
    try:
        fleet.fleet_run(args, servers)
    finally:
        servers.stop_all()


def scale_run(args, key, servers, results):
    log(f"scale: {args.streams} concurrent slow streams (one token a second)")
    peak = [0]

    def sample():
        peak[0] = max(peak[0], gateway_in_flight())
    gw_url = f"http://127.0.0.1:{GATEWAY_PORT}{PATH}"
    env = {"BENCH_DIR": BENCH, "BENCH_KEY": key, "BENCH_MODEL": SLOW_MODEL, "BENCH_STREAM": "1"}
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{args.streams}", "-d25s", "--timeout", "60s",
           "-s", os.path.join(BENCH, "wrk", "chat.lua"), gw_url]
    proc = subprocess.Popen(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **env})
    while proc.poll() is None:
        sample()
        time.sleep(1)
    out = proc.stdout.read()
    line = [x for x in out.splitlines() if x.startswith("BENCH_JSON ")]
    scale = json.loads(line[0][len("BENCH_JSON "):]) if line else {"raw": out}
    scale["peak_in_flight"] = peak[0]
    scale["gateway_peak_rss_mib"] = peak_rss_mib(servers.procs["gateway"].pid)
    scale["streams"] = args.streams
    results["scale"] = scale


def report(results, peak_rss, args, elapsed):
    summary = {}
    ratios = {}
    for stream in (False, True):
        mode = "streaming" if stream else "non-streaming"
        rows = [r["runs"] for r in results["rounds"] if r["stream"] == stream]
        if not rows:
            continue
        per_target = {t: {k: median([row[t][k] for row in rows])
                          for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "proxy_cpu_us_per_req")}
                      for t in ("direct", "nginx", "gateway")}
        gw_nginx = median([row["gateway"]["rps"] / row["nginx"]["rps"] for row in rows])
        gw_direct = median([row["gateway"]["rps"] / row["direct"]["rps"] for row in rows])
        nginx_direct = median([row["nginx"]["rps"] / row["direct"]["rps"] for row in rows])
        added_gw = median([row["gateway"]["cpu_us_per_req"] - row["direct"]["cpu_us_per_req"] for row in rows])
        added_nginx = median([row["nginx"]["cpu_us_per_req"] - row["direct"]["cpu_us_per_req"] for row in rows])
        errors = sum(row[t]["errors"] for row in rows for t in row)
        by_process = {name: median([row["gateway"]["proxy_cpu_us_per_req_by_process"][name] for row in rows])
                      for name in rows[0]["gateway"].get("proxy_cpu_us_per_req_by_process", {})}
        summary[mode] = {"gateway_cpu_us_per_req_by_process": by_process, "per_target": per_target, "gateway_over_nginx": gw_nginx, "gateway_over_direct": gw_direct,
                         "nginx_over_direct": nginx_direct, "added_cpu_us_gateway": added_gw,
                         "added_cpu_us_nginx": added_nginx, "errors": errors}
        ratios[mode] = {"gateway / nginx": gw_nginx, "gateway / direct": gw_direct, "nginx / direct": nginx_direct}

    ttft_by = {t: median([x["p50_ms"] for x in results["ttft"] if x["target"] == t]) for t in ("direct", "nginx", "gateway")}
    scale = results["scale"]
    targets = {} if len(summary) < 2 or not results["ttft"] or not scale else {
        "throughput >= 1.0x nginx (non-streaming)": summary["non-streaming"]["gateway_over_nginx"] >= 1.0,
        "throughput >= 1.0x nginx (streaming)": summary["streaming"]["gateway_over_nginx"] >= 1.0,
        "added CPU <= nginx's + 20 us (non-streaming)": summary["non-streaming"]["added_cpu_us_gateway"]
        <= summary["non-streaming"]["added_cpu_us_nginx"] + 20,
        "added CPU <= nginx's + 20 us (streaming)": summary["streaming"]["added_cpu_us_gateway"]
        <= summary["streaming"]["added_cpu_us_nginx"] + 20,
        "TTFT added <= 0.3 ms": (ttft_by["gateway"] - ttft_by["direct"]) <= 0.3,
        f"{scale.get('streams')} streams, RSS < 1 GiB, none dropped":
            scale.get("gateway_peak_rss_mib", 1e9) < 1024 and scale.get("requests", 0) >= scale.get("streams", 1)
            and sum(scale.get(k, 1) for k in ("errors_connect", "errors_read", "errors_write", "errors_status",
                                                "errors_timeout")) == 0,
    }
    date = datetime.date.today().isoformat()
    doc = {"date": date, "machine": {"cpus": os.cpu_count(), "kernel": os.uname().release},
           "settings": vars(args), "elapsed_s": round(elapsed), "summary": summary, "ttft_p50_ms": ttft_by,
           "peak_rss_mib": peak_rss, "targets": targets, "raw": results}
    with open(os.path.join(RESULTS, f"{date}.json"), "w") as f:
        json.dump(doc, f, indent=2)
    if ratios:
        svg_chart(ratios, os.path.join(RESULTS, f"{date}-ratios.svg"))

    lines = [f"# Benchmark {date}", "",
             f"{os.cpu_count()} cores; servers on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU}; {args.rounds} interleaved "
             f"rounds of {args.seconds} s at 64 connections; medians of per-round values. Took {elapsed / 60:.1f} min.",
             "", f"![ratios]({date}-ratios.svg)", ""]
    for mode in summary:
        s = summary[mode]
        lines += [f"## {mode} (64 connections)", "",
                  "| target | req/s | p50 ms | p99 ms | CPU us/req (all servers) | CPU us/req (proxy) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for t in ("direct", "nginx", "gateway"):
            v = s["per_target"][t]
            lines.append(f"| {t} | {v['rps']:.0f} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | "
                         f"{v['cpu_us_per_req']:.1f} | {v['proxy_cpu_us_per_req']:.1f} |")
        lines += ["", f"gateway/nginx **{s['gateway_over_nginx']:.2f}x**, gateway/direct {s['gateway_over_direct']:.2f}x, "
                      f"nginx/direct {s['nginx_over_direct']:.2f}x; CPU added over direct: gateway "
                      f"{s['added_cpu_us_gateway']:.1f} us, nginx {s['added_cpu_us_nginx']:.1f} us; errors {s['errors']}",
                  ""]
        parts = s.get("gateway_cpu_us_per_req_by_process")
        if parts:
            lines += [f"The gateway's proxy CPU by process, per request: JVM {parts['jvm']:.1f} us, Redis "
                      f"{parts['redis']:.1f} us, MariaDB {parts['mariadb']:.1f} us (its usage rows and rate-limit "
                      f"calls run on the servers' core too). The CPU target allows nginx's added "
                      f"{s['added_cpu_us_nginx']:.1f} + 20 = {s['added_cpu_us_nginx'] + 20:.1f} us; Redis and MariaDB "
                      f"alone take {parts['redis'] + parts['mariadb']:.1f} us of it.", ""]
    lines += section_rest(results, ttft_by, scale, peak_rss, targets)
    text = "\n".join(lines) + "\n"
    with open(os.path.join(RESULTS, f"{date}.md"), "w") as f:
        f.write(text)
    print("\n" + text)


def section_rest(results, ttft_by, scale, peak_rss, targets):
    lines = []
    if results["conns"]:
        lines += ["## Connections (non-streaming, medians of 2 rounds)", "",
                  "| conns | direct req/s | nginx req/s | gateway req/s | gateway CPU us/req |",
                  "| ---: | ---: | ---: | ---: | ---: |"]
        for c in (1, 16, 64, 256):
            v = {t: [x for x in results["conns"] if x["conns"] == c and x["target"] == t]
                 for t in ("direct", "nginx", "gateway")}
            lines.append(f"| {c} | " + " | ".join(f"{median([x['rps'] for x in v[t]]):.0f}"
                                                   for t in ("direct", "nginx", "gateway"))
                         + f" | {median([x['cpu_us_per_req'] for x in v['gateway']]):.1f} |")
        lines.append("")
    if results["variants"]:
        lines += ["## Replicas and keys (gateway, non-streaming, 64 connections)", "",
                  "| variant | req/s | CPU us/req |", "| --- | ---: | ---: |"]
        for variant in dict.fromkeys(x["variant"] for x in results["variants"]):
            v = [x for x in results["variants"] if x["variant"] == variant]
            lines.append(f"| {variant} | {median([x['rps'] for x in v]):.0f} | "
                         f"{median([x['cpu_us_per_req'] for x in v]):.1f} |")
        lines.append("")
    if results["ttft"]:
        lines += ["## Time to first token, one connection (median of per-round p50)", "",
                  "| target | TTFT ms | added over direct |", "| --- | ---: | ---: |"]
        for t in ("direct", "nginx", "gateway"):
            lines.append(f"| {t} | {ttft_by[t]:.3f} | {ttft_by[t] - ttft_by['direct']:+.3f} |")
        lines.append("")
    if scale:
        lines += [f"## Scale: {scale.get('streams')} concurrent streams of one token a second through the gateway", "",
                  f"completed {scale.get('requests')} streams, errors: connect {scale.get('errors_connect')}, read "
                  f"{scale.get('errors_read')}, timeout {scale.get('errors_timeout')}, status "
                  f"{scale.get('errors_status')}; peak in flight {scale.get('peak_in_flight'):.0f}; gateway peak RSS "
                  f"{scale.get('gateway_peak_rss_mib'):.0f} MiB", ""]
    lines += ["## Peak RSS (MiB)", ""] + [f"- {k}: {v:.0f}" for k, v in peak_rss.items()]
    if targets:
        lines += ["", "## Targets", ""] + [f"- [{'x' if ok else ' '}] {name}" for name, ok in targets.items()]
    return lines


if __name__ == "__main__":
    main()
