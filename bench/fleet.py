#!/usr/bin/env python3
"""The fleet benchmark (issue 18): what the router buys in front of a vLLM fleet.

N simulated vLLM replicas (the gateway's own `simulate --engine faithful`: continuous batching, a prefix cache of
16-token blocks, KV-cache capacity, step times shaped after an 8B model on an A10G; tokens are words) run as child
processes behind one gateway. Two workloads:

- multi-turn: chats whose conversations grow turn by turn (the whole history is sent each turn) and share a few
  system prompts; an arrival is the next turn of an idle conversation, conversations end after a few turns and new
  ones start;
- uniform: independent random prompts, nothing shared.

Arrivals are open-loop (Poisson) at 50%, 80% and 95% of the fleet's capacity, measured first for each workload with a
closed loop under round-robin. Strategies compared in one run: round-robin and least-in-flight (prefix affinity off)
and the gateway's default (p2c with prefix affinity). Simulators are restarted for each strategy and workload, so
every one starts with cold caches and sees the same arrivals (same seeds).

Fair admission: replicas that saturate at a rate this machine's client can drive (at most FAIR_SEQS sequences each,
RAG-like requests: long prompts, 128-token answers), capacity measured with twice as many closed-loop users as the
fleet has batch slots; one heavy key at 108% of it (90% of 120%) and a light key at 6% (5% of 120%), with the gateway's admission queue off and on;
the light key's TTFT against its value alone.

Reported per cell: TTFT p50/p90/p99, end-to-end latency, output tokens/s, prefix-cache hit rate (from the simulators'
/metrics), requests per replica (spread = max / mean), the gateway's affinity hits and misses.

Run with: bench/run.sh --stages fleet [--fleet-seconds S] [--fleet-replicas N]
"""
import asyncio
import datetime
import json
import os
import random
import statistics
import subprocess
import time
import zlib

import bench as B

MODEL = "fleet/model"
DB = "igw_fleet"
GATEWAY_PORT = 18100
SIM_BASE_PORT = 18101
LOADS = (0.5, 0.8, 0.95)
STRATEGIES = ("round-robin", "least-in-flight", "default")

# the simulated replica: tokens are words; a KV cache small enough that a replica cannot hold every conversation
SIM_TOKENS = 256
# Steps shaped after an 8B model on an A10G (the GPU of the llm-d result the issue cites): reading 16 GB of weights
# at 600 GB/s makes a decode step about 27 ms whatever the batch (up to ~100 sequences), prefill runs at about
# 3,700 tokens/s (0.27 ms per token), and the 4 GB left of 24 GB at vLLM's 0.9 memory share (after weights and
# activations) hold about 32k tokens of KV cache (128 KiB per token): a replica holds its share of the live
# conversations, not all of them. A fleet this slow is saturated by its GPUs, not by this 2-core machine's CPUs, at
# a request rate the load generator can keep.
KV_TOKENS = 32768
GPU_ARGS = ["--step-base-ms", "27", "--step-per-seq-ms", "0.27", "--prefill-per-token-ms", "0.27"]
SIM_ARGS = ["--engine", "faithful", "--tokens", str(SIM_TOKENS), "--max-model-len", "8192",
            "--kv-cache-tokens", str(KV_TOKENS), "--max-num-seqs", "256"] + GPU_ARGS
SYSTEM_PROMPTS = 4
SYSTEM_WORDS = 100
USER_WORDS = (30, 150)
TURNS = (4, 10)
CONVERSATIONS = 48
# Fair admission runs on replicas that really saturate at a rate this machine's client can drive: each runs at most
# FAIR_SEQS sequences at once (vLLM's --max-num-seqs; more wait in its first-come queue), on RAG-like requests (a
# long prompt, a paragraph of answer) whose running sequences still fit the KV cache (32 x ~880 tokens), so the
# fleet's batch slots fill up first. The gateway's in-flight cap per replica is the replica's batch limit, as an
# operator would set it: past it, a request would only wait in vLLM's queue.
FAIR_SEQS = 32
FAIR_TOKENS = 128
FAIR_WORDS = (500, 1000)
FAIR_SIM_ARGS = [a if prev != "--max-num-seqs" else str(FAIR_SEQS) for prev, a in zip([None] + SIM_ARGS, SIM_ARGS)]
ADMISSION = {"enabled": True, "maxInFlightPerReplica": FAIR_SEQS, "maxWaitingPerReplica": 2, "maxKvCacheUsage": 0.95,
             "maxQueueLength": 10000, "maxWaitMs": 30000, "reservedPerReplica": 1}


def vocabulary(rng, n=4000):
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(n)]


def words(rng, vocab, n):
    return " ".join(rng.choice(vocab) for _ in range(n))


# ---------------------------------------------------------------- workloads

class MultiTurn:
    """Conversations that grow by a user message and an answer each turn, over a few shared system prompts."""

    def __init__(self, seed, conversations=CONVERSATIONS):
        self.rng = random.Random(seed)
        self.vocab = vocabulary(random.Random(7))
        srng = random.Random(11)
        self.systems = [words(srng, self.vocab, SYSTEM_WORDS) for _ in range(SYSTEM_PROMPTS)]
        self.idle = [self.new_conversation() for _ in range(conversations)]

    def new_conversation(self):
        return {"messages": [{"role": "system", "content": self.rng.choice(self.systems)}],
                "turns_left": self.rng.randint(*TURNS)}

    def next_request(self):
        conv = self.idle.pop(self.rng.randrange(len(self.idle))) if self.idle else self.new_conversation()
        conv["messages"].append({"role": "user", "content": words(self.rng, self.vocab, self.rng.randint(*USER_WORDS))})
        return conv["messages"], conv

    def done(self, conv, answer=None):
        # the answer joins the history as the model gave it (a failed turn: stand-in words)
        if not answer:
            answer = words(self.rng, self.vocab, SIM_TOKENS)
        conv["messages"].append({"role": "assistant", "content": answer})
        conv["turns_left"] -= 1
        self.idle.append(conv if conv["turns_left"] > 0 else self.new_conversation())


class Uniform:
    """Independent prompts of random words: no prefix shared between requests."""
    max_tokens = SIM_TOKENS
    prompt_words = (200, 800)

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.vocab = vocabulary(random.Random(7))

    def next_request(self):
        return [{"role": "user", "content": words(self.rng, self.vocab, self.rng.randint(*self.prompt_words))}], None

    def done(self, conv, answer=None):
        pass


class RagLike(Uniform):
    """The fair-admission workload: independent RAG-like questions (long prompts, answers of FAIR_TOKENS)."""
    max_tokens = FAIR_TOKENS
    prompt_words = FAIR_WORDS


WORKLOADS = {"multi-turn": MultiTurn, "uniform": Uniform}


# ---------------------------------------------------------------- the client

async def one_request(messages, key, results, tag=None, timeout=120, max_tokens=SIM_TOKENS):
    """One streamed chat completion through the gateway: TTFT (first event), end-to-end time, output tokens."""
    body = json.dumps({"model": MODEL, "stream": True, "stream_options": {"include_usage": True},
                       "max_tokens": max_tokens, "messages": messages}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    start = time.monotonic()
    rec = {"tag": tag, "start": start, "ttft": None, "e2e": None, "tokens": 0, "status": 0}
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", GATEWAY_PORT), 10)
        writer.write(head + body)
        await writer.drain()
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                raise ConnectionError("closed before the head")
            buf += chunk
        header, rest = buf.split(b"\r\n\r\n", 1)
        rec["status"] = int(header.split(b" ", 2)[1])
        while b"data:" not in rest:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                break
            rest += chunk
        rec["ttft"] = time.monotonic() - start
        body = [rest]
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                break
            body.append(chunk)
        rec["e2e"] = time.monotonic() - start
        # the answer as the client saw it: the next turn sends it back, as a chat client does (and then the
        # replica that generated it finds its blocks in the prefix cache, output included)
        text = []
        for line in b"".join(body).split(b"\n"):
            if not line.startswith(b"data: {"):
                continue
            try:
                event = json.loads(line[6:])
            except ValueError:
                continue  # not one of vLLM's events (the answer is chunked per event, so none is cut)
            if event.get("usage"):
                rec["tokens"] = event["usage"].get("completion_tokens", 0)
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    text.append(piece)
        rec["text"] = "".join(text)
        writer.close()
        if rec["status"] != 200:
            rec["ttft"] = rec["e2e"] = None
            rec["retry_after"] = b"retry-after" in header.lower()
    except Exception as e:  # noqa: BLE001 - a failed request is a result too
        rec["error"] = type(e).__name__
    results.append(rec)
    return rec


async def open_loop(streams, seconds, warmup):
    """Poisson arrivals for each (workload, key, rate, tag) stream for `seconds`; waits for every request to end."""
    results, tasks = [], []
    t0 = time.monotonic()

    async def arrivals(workload, key, rate, tag, rng):
        t = t0
        while True:
            t += rng.expovariate(rate)
            if t - t0 >= seconds:
                return
            await asyncio.sleep(max(0, t - time.monotonic()))
            messages, conv = workload.next_request()

            async def send(messages=messages, conv=conv, measured=(t - t0) >= warmup):
                rec = await one_request(messages, key, results, tag if measured else None,
                                        max_tokens=getattr(workload, "max_tokens", SIM_TOKENS))
                workload.done(conv, rec.get("text"))
                return rec
            tasks.append(asyncio.ensure_future(send()))

    await asyncio.gather(*(arrivals(w, k, r, tag, random.Random(zlib.crc32(tag.encode())))
                           for w, k, r, tag in streams))
    await asyncio.gather(*tasks)
    return results


async def closed_loop(workload, key, users, seconds):
    results = []
    deadline = time.monotonic() + seconds

    async def user():
        while time.monotonic() < deadline:
            messages, conv = workload.next_request()
            rec = await one_request(messages, key, results, "cap",
                                    max_tokens=getattr(workload, "max_tokens", SIM_TOKENS))
            workload.done(conv, rec.get("text"))
    await asyncio.gather(*(user() for _ in range(users)))
    return results


# ---------------------------------------------------------------- metrics

def scrape(port):
    _, text = B.http_get(f"http://127.0.0.1:{port}/metrics", {"Authorization": f"Bearer {B.ADMIN_KEY}"})
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{")[0]
        if name in ("vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:prompt_tokens_total",
                    "vllm:generation_tokens_total", "vllm:e2e_request_latency_seconds_count",
                    "vllm:num_preemptions_total", "gateway_router_affinity_hits_total",
                    "gateway_router_affinity_misses_total", "gateway_admission_rejected_total"):
            try:
                out[name] = out.get(name, 0) + float(value)
            except ValueError:
                pass
    return out


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def summarise(results, tag, seconds, warmup):
    rs = [r for r in results if r["tag"] == tag]
    ok = [r for r in rs if r.get("status") == 200 and r["ttft"] is not None]
    ttft = [r["ttft"] * 1000 for r in ok]
    e2e = [r["e2e"] * 1000 for r in ok]
    window = max(1e-9, seconds - warmup)
    return {"requests": len(rs), "ok": len(ok), "errors": len(rs) - len(ok),
            "rejected_429": sum(1 for r in rs if r.get("status") == 429),
            "ttft_p50_ms": pct(ttft, 50), "ttft_p90_ms": pct(ttft, 90), "ttft_p99_ms": pct(ttft, 99),
            "e2e_p50_ms": pct(e2e, 50), "e2e_p90_ms": pct(e2e, 90), "e2e_p99_ms": pct(e2e, 99),
            "output_tok_s": sum(r["tokens"] for r in ok) / window, "completed_per_s": len(ok) / window}


# ---------------------------------------------------------------- processes

class Fleet:
    def __init__(self, servers, replicas):
        self.s = servers
        self.n = replicas

    def start_sims(self, sim_args=SIM_ARGS):
        for i in range(self.n):
            self.s.stop(f"fleet-sim{i}")
        for i in range(self.n):
            out = open(os.path.join(B.WORK, f"fleet-sim{i}.log"), "w")
            cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", B.JAR, "simulate",
                   "--host", "127.0.0.1", "--port", str(SIM_BASE_PORT + i), "--models", MODEL, "--seed", str(i)]
            self.s.procs[f"fleet-sim{i}"] = subprocess.Popen(cmd + sim_args, stdout=out, stderr=subprocess.STDOUT,
                                                             cwd=B.WORK, preexec_fn=os.setsid)
        for i in range(self.n):
            B.wait_until(lambda: B.port_open(SIM_BASE_PORT + i), f"simulator {i}", 60)

    def sims(self):
        total = {}
        per = []
        for i in range(self.n):
            m = scrape(SIM_BASE_PORT + i)
            per.append(m)
            for k, v in m.items():
                total[k] = total.get(k, 0) + v
        return total, per

    def start_gateway(self, strategy, admission):
        self.s.stop("gateway")
        conf = json.load(open(os.path.join(B.ROOT, "conf", "config.json")))
        conf["http"]["instances"] = 1
        conf["http"]["maxConnectionsPerAddress"] = 0  # every load client connects from 127.0.0.1
        conf["redis"]["keyPrefix"] = "igw-fleet-" + os.urandom(4).hex()
        conf["router"]["strategy"] = "p2c" if strategy == "default" else strategy
        conf["router"]["prefixAffinity"] = strategy == "default"
        conf["admission"] = dict(ADMISSION, enabled=admission)
        conf["health"]["intervalMs"] = 1000
        path = os.path.join(B.WORK, "fleet-gateway.json")
        with open(path, "w") as f:
            json.dump(conf, f, indent=2)
        env = {"HTTP_PORT": str(GATEWAY_PORT), "ADMIN_API_KEY": B.ADMIN_KEY,
               "DATABASE_URL": f"mysql://root:@127.0.0.1:3306/{DB}", "REDIS_URL": "redis://127.0.0.1:6379",
               "DATA_DIR": os.path.join(B.WORK, "fleet-data"),
               # FLEET_GATEWAY_LOG_LEVEL=DEBUG: each request's replica and why, in fleet-gateway.log
               "GATEWAY_LOG_LEVEL": os.environ.get("FLEET_GATEWAY_LOG_LEVEL", "WARN")}
        out = open(os.path.join(B.WORK, "fleet-gateway.log"), "a")
        cmd = ["java", "-Xmx512m", "-XX:+UseParallelGC", "-jar", B.JAR, "run", "--config", path]
        self.s.procs["gateway"] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=B.WORK,
                                                   env={**os.environ, **env}, preexec_fn=os.setsid)
        B.wait_until(lambda: B.http_get(f"http://127.0.0.1:{GATEWAY_PORT}/health")[0] == 200, "gateway", 120)

    def wait_routable(self, key):
        """Until every replica is up in the gateway and a request goes through."""
        def ok():
            _, body = B.http_get(f"http://127.0.0.1:{GATEWAY_PORT}/health")
            if json.loads(body).get("replicas_up") != self.n:
                return False
            rec = asyncio.run(one_request([{"role": "user", "content": "hello"}], key, []))
            return rec.get("status") == 200
        B.wait_until(ok, "a routable fleet", 60)

    def restart(self, strategy, admission, key, sim_args=SIM_ARGS):
        """Fresh simulators (cold caches) and a fresh gateway (no pooled connections to the old ones)."""
        self.s.stop("gateway")
        self.start_sims(sim_args)
        self.start_gateway(strategy, admission)
        self.wait_routable(key)


def seed_db(replicas):
    B.sql(f"DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB} CHARACTER SET utf8mb4;")


def seed_rows(replicas):
    heavy, light = B.new_key(), B.new_key()
    statements = [f"USE {DB};", f"INSERT INTO llm_models (name, created_at) VALUES ('{MODEL}', NOW(3));"]
    for i in range(replicas):
        statements.append("INSERT INTO replicas (model_id, endpoint, vm_status, created_at, updated_at) SELECT id, "
                          f"'http://127.0.0.1:{SIM_BASE_PORT + i}', 'SUCCESS', NOW(3), NOW(3) FROM llm_models "
                          f"WHERE name = '{MODEL}';")
    statements.append("INSERT INTO api_keys (user_id, key_hash, key_prefix, allowed_rpm, enabled, created_at) VALUES "
                      + ", ".join(f"('{u}', '{h}', '{p}', 2000000000, TRUE, NOW(3))"
                                  for u, (_, h, p) in (("heavy", heavy), ("light", light))) + ";")
    B.sql("\n".join(statements))
    return heavy[0], light[0]


# ---------------------------------------------------------------- the run

def run_cell(fleet, streams, seconds, warmup):
    g0 = scrape(GATEWAY_PORT)
    s0, p0 = fleet.sims()
    results = asyncio.run(open_loop(streams, seconds, warmup))
    g1 = scrape(GATEWAY_PORT)
    s1, p1 = fleet.sims()
    d = {k: s1.get(k, 0) - s0.get(k, 0) for k in s1}
    per_replica = [p1[i].get("vllm:e2e_request_latency_seconds_count", 0)
                   - p0[i].get("vllm:e2e_request_latency_seconds_count", 0) for i in range(len(p1))]
    mean = statistics.mean(per_replica) if per_replica else 0
    q = d.get("vllm:prefix_cache_queries_total", 0)
    cache = {"prefix_cache_hit_rate": d.get("vllm:prefix_cache_hits_total", 0) / q if q else None,
             "requests_per_replica": per_replica, "load_spread_max_over_mean": max(per_replica) / mean if mean else None,
             "preemptions": d.get("vllm:num_preemptions_total", 0),
             "affinity_hits": g1.get("gateway_router_affinity_hits_total", 0)
             - g0.get("gateway_router_affinity_hits_total", 0),
             "affinity_misses": g1.get("gateway_router_affinity_misses_total", 0)
             - g0.get("gateway_router_affinity_misses_total", 0)}
    return results, cache


def fleet_run(args, servers):
    seconds, warmup = args.fleet_seconds, min(5, args.fleet_seconds // 5)
    load1 = os.getloadavg()
    started = time.time()
    fleet = Fleet(servers, args.fleet_replicas)
    seed_db(args.fleet_replicas)
    B.log("fleet: migrating the fleet database")
    fleet.start_gateway("default", False)
    servers.stop("gateway")
    heavy, light = seed_rows(args.fleet_replicas)
    out = {"settings": {"replicas": args.fleet_replicas, "seconds": seconds, "warmup_s": warmup,
                        "simulator": SIM_ARGS, "conversations": CONVERSATIONS, "system_prompts": SYSTEM_PROMPTS,
                        "system_words": SYSTEM_WORDS, "admission": ADMISSION},
           "load_average_at_start": load1, "capacity": {}, "cells": [], "fairness": {}}

    strategies = [x for x in STRATEGIES if x in args.fleet_strategies.split(",") and "routing" not in args.fleet_skip]
    workloads = {k: v for k, v in WORKLOADS.items() if k in args.fleet_workloads.split(",")}
    for strategy in strategies:
        for wname, wcls in workloads.items():
            fleet.restart(strategy, False, heavy)
            if wname not in out["capacity"]:
                # one user per live conversation: every arrival is a next turn, as in the open-loop runs
                users, cap_warm, cap_s = CONVERSATIONS, 10, max(20, seconds)
                B.log(f"fleet: capacity of {wname} (closed loop, {users} users, {strategy}, {cap_warm} s + {cap_s} s)")
                t_start = time.monotonic() + cap_warm
                cap = asyncio.run(closed_loop(wcls(99), heavy, users, cap_warm + cap_s))
                # requests that ended within the measured window, over its length
                okr = [r for r in cap if r.get("status") == 200 and t_start <= r["start"] + r["e2e"] <= t_start + cap_s]
                out["capacity"][wname] = len(okr) / cap_s
                B.log(f"  {out['capacity'][wname]:.1f} requests/s")
                fleet.restart(strategy, False, heavy)  # cold caches again
            # warm gateway and caches before anything is measured: 10 s of the same workload at half the capacity
            # (its conversations go on in the measured cells, so those see conversations at every stage)
            workload = wcls(1)
            asyncio.run(open_loop([(workload, heavy, 0.5 * out["capacity"][wname], "warm-up")], 10, 10))
            for load in LOADS:
                rate = load * out["capacity"][wname]
                B.log(f"fleet: {strategy}, {wname}, {int(load * 100)}% = {rate:.1f} req/s for {seconds} s")
                results, cache = run_cell(fleet, [(workload, heavy, rate, "x")], seconds, warmup)
                cell = {"strategy": strategy, "workload": wname, "load": load, "rate": rate,
                        **summarise(results, "x", seconds, warmup), **cache}
                out["cells"].append(cell)
                B.log(f"  ttft p50/p90/p99 {fmt(cell['ttft_p50_ms'])}/{fmt(cell['ttft_p90_ms'])}/"
                      f"{fmt(cell['ttft_p99_ms'])} ms, {cell['output_tok_s']:.0f} tok/s, hit rate "
                      f"{fmt(cell['prefix_cache_hit_rate'], 3)}, spread {fmt(cell['load_spread_max_over_mean'], 2)}, "
                      f"errors {cell['errors']}")

    if "fairness" not in args.fleet_skip:
        fair = out["fairness"]
        fair_s = 2 * seconds  # the light key sends few requests: a longer run for its percentiles
        # capacity of the saturating fleet: twice as many closed-loop users as it has batch slots, so every replica
        # runs full batches with requests waiting behind them
        users, cap_warm, cap_s = 2 * FAIR_SEQS * args.fleet_replicas, 10, max(20, seconds)
        fleet.restart("default", False, heavy, FAIR_SIM_ARGS)
        B.log(f"fleet: capacity of RAG-like requests on replicas of {FAIR_SEQS} sequences (closed loop, {users} users, "
              f"{cap_warm} s + {cap_s} s)")
        t_start = time.monotonic() + cap_warm
        capr = asyncio.run(closed_loop(RagLike(98), heavy, users, cap_warm + cap_s))
        okr = [r for r in capr if r.get("status") == 200 and t_start <= r["start"] + r["e2e"] <= t_start + cap_s]
        cap = out["fair_capacity"] = len(okr) / cap_s
        B.log(f"  {cap:.1f} requests/s")
        current = None
        for name, admission, streams in (
                ("light alone", False, [("light", 0.06)]),
                ("admission off", False, [("heavy", 1.08), ("light", 0.06)]),
                ("admission on", True, [("heavy", 1.08), ("light", 0.06)])):
            if current != admission:
                fleet.restart("default", admission, heavy, FAIR_SIM_ARGS)
                # a warm gateway (JIT) before anything is measured: 5 s of the heavy key at half the capacity
                asyncio.run(open_loop([(RagLike(5), heavy, 0.5 * cap, "warm-up")], 5, 5))
                current = admission
            B.log(f"fleet: fairness, {name}, {fair_s} s")
            keys = {"heavy": heavy, "light": light}
            results, cache = run_cell(fleet, [(RagLike(zlib.crc32(k.encode())), keys[k], share * cap, k)
                                              for k, share in streams], fair_s, warmup)
            fair[name] = {k: summarise(results, k, fair_s, warmup) for k, _ in streams}
            fair[name]["rates"] = {k: share * cap for k, share in streams}
            B.log("  " + ", ".join(f"{k}: ttft p50/p90 {fmt(v['ttft_p50_ms'])}/{fmt(v['ttft_p90_ms'])} ms, "
                                   f"ok {v['ok']}, 429 {v['rejected_429']}"
                                   for k, v in fair[name].items() if k != "rates"))
    servers.stop_all()
    out["load_average_at_end"] = os.getloadavg()
    out["elapsed_s"] = round(time.time() - started)
    fleet_report(out)


def fmt(v, digits=0):
    return "-" if v is None else f"{v:.{digits}f}"


def cell(out, strategy, workload, load):
    for c in out["cells"]:
        if c["strategy"] == strategy and c["workload"] == workload and c["load"] == load:
            return c
    return None


def targets(out):
    t = {}
    d, rr = cell(out, "default", "multi-turn", 0.8), cell(out, "round-robin", "multi-turn", 0.8)
    if d and rr and d["ttft_p90_ms"] and rr["ttft_p90_ms"]:
        t["multi-turn 80%: default p90 TTFT <= 1/3 of round-robin's"] = d["ttft_p90_ms"] <= rr["ttft_p90_ms"] / 3
        t["multi-turn 80%: default prefix-cache hit rate >= 2x round-robin's"] = (
            (d["prefix_cache_hit_rate"] or 0) >= 2 * (rr["prefix_cache_hit_rate"] or 0))
        t["multi-turn 80%: default throughput >= round-robin's"] = d["output_tok_s"] >= rr["output_tok_s"]
    du, lif = cell(out, "default", "uniform", 0.8), cell(out, "least-in-flight", "uniform", 0.8)
    if du and lif and du["ttft_p90_ms"] and lif["ttft_p90_ms"]:
        t["uniform 80%: default p90 TTFT within 5% of least-in-flight"] = du["ttft_p90_ms"] <= 1.05 * lif["ttft_p90_ms"]
        t["uniform 80%: default throughput within 5% of least-in-flight"] = du["output_tok_s"] >= 0.95 * lif["output_tok_s"]
    f = out["fairness"]
    if f.get("light alone") and f.get("admission on"):
        base = f["light alone"]["light"]["ttft_p90_ms"]
        on = f["admission on"]["light"]["ttft_p90_ms"]
        if base and on:
            t["fair admission on: light key's p90 TTFT <= 2x its unloaded value"] = on <= 2 * base
    return t


def svg(out, path):
    """p90 TTFT per strategy and load, one panel per workload (log scale)."""
    import math
    colors = {"round-robin": "#9ca3af", "least-in-flight": "#f59e0b", "default": "#2563eb"}
    width, height, top, bottom, left = 760, 340, 40, 50, 60
    panel_w = (width - left - 20) / 2
    vals = [c["ttft_p90_ms"] for c in out["cells"] if c["ttft_p90_ms"]]
    if not vals:
        return
    lo, hi = math.log10(max(1, min(vals)) / 1.5), math.log10(max(vals) * 1.5)
    plot_h = height - top - bottom

    def y(v):
        return top + plot_h - (math.log10(max(v, 1e-3)) - lo) / (hi - lo) * plot_h
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
         f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
         f'<text x="{left}" y="18" font-size="14" font-weight="bold">p90 time to first token (ms, log scale) by '
         f'load, {out["settings"]["replicas"]} simulated replicas</text>']
    for e in range(int(math.floor(lo)), int(math.ceil(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= math.log10(v) <= hi:
                o.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
                o.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    for wi, w in enumerate(WORKLOADS):
        x0 = left + wi * panel_w
        group = panel_w / len(LOADS)
        bar = group / (len(STRATEGIES) + 1)
        for li, load in enumerate(LOADS):
            for si, s in enumerate(STRATEGIES):
                c = cell(out, s, w, load)
                if not c or not c["ttft_p90_ms"]:
                    continue
                x = x0 + li * group + bar / 2 + si * bar
                yy = y(c["ttft_p90_ms"])
                o.append(f'<rect x="{x:.1f}" y="{yy:.1f}" width="{bar * 0.9:.1f}" height="{top + plot_h - yy:.1f}" '
                         f'fill="{colors[s]}"/>')
            o.append(f'<text x="{x0 + li * group + group / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                     f'{int(load * 100)}%</text>')
        o.append(f'<text x="{x0 + panel_w / 2:.1f}" y="{height - 12}" text-anchor="middle" font-weight="bold">{w}'
                 f'</text>')
    for si, s in enumerate(STRATEGIES):
        o.append(f'<rect x="{width - 150}" y="{top + si * 16}" width="10" height="10" fill="{colors[s]}"/>')
        o.append(f'<text x="{width - 135}" y="{top + 9 + si * 16}">{s}</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o))


def fleet_report(out):
    date = datetime.date.today().isoformat()
    out["date"] = date
    out["targets"] = targets(out)
    base = os.path.join(B.RESULTS, f"{date}-fleet")
    with open(base + ".json", "w") as f:
        json.dump(out, f, indent=2)
    svg(out, base + ".svg")
    s = out["settings"]
    la0, la1 = out["load_average_at_start"], out["load_average_at_end"]
    lines = [f"# Fleet benchmark {date}", "",
             f"{s['replicas']} simulated vLLM replicas (`simulate {' '.join(s['simulator'])}`, child processes) behind "
             f"one gateway; open-loop Poisson arrivals for {s['seconds']} s per cell, the first {s['warmup_s']} s not "
             f"measured; streamed chat completions of {SIM_TOKENS} tokens (tokens are words). Multi-turn: "
             f"{s['conversations']} live conversations over {s['system_prompts']} system prompts of "
             f"{s['system_words']} words, {TURNS[0]}-{TURNS[1]} turns of {USER_WORDS[0]}-{USER_WORDS[1]} words each "
             f"(10 s of the workload at half the capacity before the first cell, so conversations are at every stage); "
             f"uniform: 200-800 random words. Simulated GPU: an 8B model on an A10G (27 ms decode steps, prefill "
             f"0.27 ms per token, {KV_TOKENS} tokens of KV cache). Took "
             f"{out['elapsed_s'] / 60:.1f} min.", "",
             f"Load average {la0[0]:.2f} / {la0[1]:.2f} / {la0[2]:.2f} at the start, {la1[0]:.2f} / {la1[1]:.2f} / "
             f"{la1[2]:.2f} at the end (2 cores, shared by the simulators, the gateway and the client): the simulators "
             f"keep time with timers, so CPU contention shows up as extra latency in every strategy alike, but single "
             f"numbers are noisy.", "",
             "Capacity (closed loop, round-robin): " + ", ".join(f"{w} {v:.1f} req/s" for w, v in out["capacity"].items()),
             "", f"![p90 TTFT]({date}-fleet.svg)", ""]
    for w in WORKLOADS:
        lines += [f"## {w}", "", "| strategy | load | req/s | TTFT p50 | p90 | p99 ms | e2e p50 | p90 | p99 ms | "
                  "output tok/s | prefix hit rate | requests per replica | spread max/mean | affinity hits/misses "
                  "| errors |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- "
                  "| ---: | ---: | ---: |"]
        for load in LOADS:
            for st in STRATEGIES:
                c = cell(out, st, w, load)
                if not c:
                    continue
                lines.append(
                    f"| {st} | {int(load * 100)}% | {c['rate']:.1f} | {fmt(c['ttft_p50_ms'])} | {fmt(c['ttft_p90_ms'])} | "
                    f"{fmt(c['ttft_p99_ms'])} | {fmt(c['e2e_p50_ms'])} | {fmt(c['e2e_p90_ms'])} | {fmt(c['e2e_p99_ms'])} | "
                    f"{c['output_tok_s']:.0f} | {fmt(c['prefix_cache_hit_rate'], 3)} | "
                    f"{', '.join(str(int(x)) for x in c['requests_per_replica'])} | "
                    f"{fmt(c['load_spread_max_over_mean'], 2)} | {int(c['affinity_hits'])}/{int(c['affinity_misses'])} | "
                    f"{c['errors']} |")
        lines.append("")
    if out["fairness"]:
        lines += ["## Fair admission: a heavy key at 108% of capacity, a light key at 6% (together 120% and 5% of the "
                  "traffic)", "",
                  f"Replicas that saturate: at most {FAIR_SEQS} sequences each (`--max-num-seqs {FAIR_SEQS}`; more wait in "
                  f"vLLM's first-come queue), RAG-like requests (prompts of {FAIR_WORDS[0]}-{FAIR_WORDS[1]} words, answers of "
                  f"{FAIR_TOKENS} tokens). Capacity {out.get('fair_capacity', 0):.1f} req/s, measured with a closed loop "
                  f"of {2 * FAIR_SEQS * s['replicas']} users (twice the fleet's batch slots). Default strategy, "
                  f"{2 * s['seconds']} s per run after 5 s of warm-up load; \"light alone\" and \"admission off\" share "
                  "one gateway (admission off), \"admission on\" has its own.",
                  "",
                  f"Admission settings when on: `{json.dumps(s['admission'])}`", "",
                  "| run | key | req/s offered | ok | 429 | TTFT p50 | p90 | p99 ms | e2e p90 ms |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, v in out["fairness"].items():
            for k, r in v.items():
                if k == "rates":
                    continue
                lines.append(f"| {name} | {k} | {v['rates'][k]:.1f} | {r['ok']} | {r['rejected_429']} | "
                             f"{fmt(r['ttft_p50_ms'])} | {fmt(r['ttft_p90_ms'])} | {fmt(r['ttft_p99_ms'])} | "
                             f"{fmt(r['e2e_p90_ms'])} |")
        lines.append("")
    if out["targets"]:
        lines += ["## Targets (issue 18)", ""] + [f"- [{'x' if ok else ' '}] {n}" for n, ok in out["targets"].items()]
    text = "\n".join(lines) + "\n"
    with open(base + ".md", "w") as f:
        f.write(text)
    print("\n" + text)
