#!/usr/bin/env python3
"""Concurrent API writers against one server: N clients (default 200) post
a member each at the same instant with one write token, as the outside test
did. Reports errors, latency percentiles and whether every write is found
afterwards; the baseline in the same run is the server's own /healthz hit by
the same number of concurrent clients. Not part of CI.

    bench/concurrent_writes.py [--bin target/release/passerelle] [--writers 200]
                               [--rounds 3] [--pg postgres://postgres@127.0.0.1:5432/test]

Prints one JSON object per backend and, with --out BENCHMARKS.md, writes the
section « Concurrent API writes » there (between its markers, before
« ## Notes » the first time).
"""
import argparse
import datetime
import http.client
import platform
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ADMIN = "admin.reseau@example.org"


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, **kw)


def request(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    t0 = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    res = conn.getresponse()
    data = res.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    return res.status, elapsed, data


def burst(port, n, make):
    """n threads released together by a barrier; returns (status, seconds)."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def one(i):
        method, path, body, token = make(i)
        barrier.wait()
        try:
            status, elapsed, _ = request(port, method, path, body, token)
        except Exception as e:  # a refused or reset connection counts as an error
            status, elapsed = f"{type(e).__name__}", float("nan")
        out[i] = (status, elapsed)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def pct(values, p):
    values = sorted(v for v in values if v == v)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))
    return values[k]


def summary(results, ok):
    lat = [e for s, e in results if s in ok]
    errors = sum(1 for s, _ in results if s not in ok)
    return {
        "requests": len(results),
        "errors": errors,
        "statuses": sorted({str(s) for s, _ in results}),
        "p50_ms": round(pct(lat, 50) * 1000, 1),
        "p99_ms": round(pct(lat, 99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
    }


def bench(binary, url, writers, rounds, port):
    work = tempfile.mkdtemp(prefix="passerelle-cw-")
    env = dict(os.environ, DATABASE_URL=url, PASSERELLE_API_RATE="0", PASSERELLE_LOG="warn")
    try:
        run([binary, "demo", "--no-serve", "--data-dir", work], env, cwd=work)
        token = run([binary, "admin", "create-token", "--email", ADMIN, "--write"], env, cwd=work)
        token = token.stdout.strip().split()[-1]
        server = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{port}"], env=env, cwd=work,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    if request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            base = []
            writes = []
            for r in range(rounds):
                base += burst(port, writers, lambda i: ("GET", "/healthz", None, None))
                writes += burst(port, writers, lambda i, r=r: (
                    "POST", "/api/v1/campuses/demo/members",
                    {"name": f"Structure concurrente r{r} n{i} (fictive)", "kind": "employeur",
                     "status": "publie"}, token))
            time.sleep(3)  # the follower's period: every write must then be searchable
            status, _, data = request(port, "GET", "/api/v1/members?q=structure%20concurrente", token=token)
            found = json.loads(data).get("total") if status == 200 else None
        finally:
            server.terminate()
            server.wait(timeout=30)
        return {
            "backend": url.split(":")[0],
            "writers": writers,
            "rounds": rounds,
            "healthz": summary(base, {200}),
            "writes": summary(writes, {200, 201}),
            "found_after": found,
            "expected": writers * rounds,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


START, END = "<!-- writes:start -->", "<!-- writes:end -->"


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, `nproc` = {os.cpu_count()}, {platform.system()} {platform.release()}"


def section(results, binary):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    rows = []
    for r in results:
        w, h = r["writes"], r["healthz"]
        rows.append(
            f"| {r['label']} | {r['backend']} | {w['requests']} | **{w['errors']}** ({', '.join(w['statuses'])}) "
            f"| {w['p50_ms']} | **{w['p99_ms']}** | {w['max_ms']} | {r['found_after']} / {r['expected']} "
            f"| {h['p50_ms']} / {h['p99_ms']} |")
    return "\n".join([
        START,
        "## 6. Concurrent API writes — `bench/concurrent_writes.py`",
        "",
        f"{results[0]['writers']} clients post a member each at the same instant with one write token "
        f"(`POST /api/v1/campuses/demo/members`), {results[0]['rounds']} rounds; baseline in the same run: "
        "the same number of clients on the server's own `/healthz`. Anonymous limit off "
        "(`PASSERELLE_API_RATE=0`). Errors are any answer other than 200/201; « found » is the number "
        "of those members the search API returns 3 s later. Generated by `bench/concurrent_writes.py "
        "--out BENCHMARKS.md`, do not edit by hand.",
        "",
        f"Run {now}, commit `{commit}`, {machine()}; client and server share the 2 cores.",
        "",
        "| binary | backend | writes | errors | p50 ms | p99 ms | max ms | found | `/healthz` p50 / p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Target (issue #9): 200 concurrent writers, 0 errors, p99 ≤ 1 s on SQLite. « before » is the "
        "release binary of `1c351b2` (before the one index writer per server), when given with `--before`.",
        END,
    ])


def write_section(path, text):
    doc = open(path, encoding="utf-8").read()
    if START in doc and END in doc:
        i, j = doc.index(START), doc.index(END) + len(END)
        doc = doc[:i] + text + doc[j:]
    else:
        i = doc.find("## Notes")
        i = len(doc) if i < 0 else i
        doc = doc[:i] + text + "\n\n" + doc[i:]
    open(path, "w", encoding="utf-8").write(doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/passerelle")
    ap.add_argument("--writers", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=18181)
    ap.add_argument("--pg", default=None, help="also run on this PostgreSQL database (a fresh schema)")
    ap.add_argument("--before", default=None, help="also run this older binary (SQLite and PostgreSQL)")
    ap.add_argument("--out", default=None, help="write the section into this BENCHMARKS.md")
    a = ap.parse_args()
    binaries = [("after", os.path.abspath(a.bin))]
    if a.before:
        binaries.insert(0, ("before", os.path.abspath(a.before)))
    results = []
    for label, binary in binaries:
        urls = [None]
        if a.pg:
            schema = f"bench_cw_{label}_{os.getpid()}"
            subprocess.run(["psql", a.pg, "-qc", f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"],
                           check=True, capture_output=True)
            sep = "&" if "?" in a.pg else "?"
            urls.append(f"{a.pg}{sep}options=-c%20search_path%3D{schema}")
        for url in urls:
            if url is None:
                d = tempfile.mkdtemp(prefix="passerelle-cw-db-")
                url = f"sqlite://{d}/passerelle.db"
            r = bench(binary, url, a.writers, a.rounds, a.port)
            r["label"] = label
            results.append(r)
            print(json.dumps(r), flush=True)
    if a.out:
        write_section(a.out, section(results, a.bin))


if __name__ == "__main__":
    sys.exit(main())
