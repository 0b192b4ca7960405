#!/usr/bin/env python3
"""Small HTTP/1.1 load generator (standard library only).

Two modes, both over several raw keep-alive sockets, rotating over a list of
request paths:

- fixed rate (`--rate R`): requests are scheduled at t0 + i/R whatever the
  server does (open loop). Latency is measured from the *scheduled* time to
  the end of the response, so a server that falls behind is charged for the
  queueing (no coordinated omission); the service time (from the moment the
  request is written) is reported beside it.
- closed loop (`--rate 0`): each connection sends its next request as soon
  as the previous answer is read; reports the maximum throughput.

Prints one JSON object: requests, errors, status counts, achieved rate and
latency percentiles in milliseconds.

Usage:
  loadgen.py --host 127.0.0.1 --port 8080 --paths FILE --rate 1000 --duration 30 --connections 16
             [--header "Authorization: Bearer psl_…"]
"""

import argparse
import asyncio
import json
import math
import sys
import time


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    # Nearest-rank percentile.
    k = min(len(sorted_values) - 1, max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


class Conn:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, raw):
        """Sends one request and reads the whole response; returns the status."""
        if self.writer is None:
            await self.open()
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        chunked = False
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status


async def run(args):
    with open(args.paths, encoding="utf-8") as f:
        paths = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    host_header = f"{args.host}:{args.port}"
    extra = "".join(f"{h}\r\n" for h in args.header)
    raws = [
        (f"GET {p} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: passerelle-bench\r\n"
         f"Accept: application/json\r\n{extra}\r\n").encode()
        for p in paths
    ]
    conns = [Conn(args.host, args.port) for _ in range(args.connections)]
    for c in conns:
        await c.open()

    latencies = []   # scheduled -> done (fixed rate) or sent -> done (closed loop)
    service = []     # sent -> done
    statuses = {}
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + args.duration
    counter = 0

    async def one(conn, idx, scheduled):
        nonlocal errors
        sent = loop.time()
        try:
            st = await conn.request(raws[idx % len(raws)])
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            errors += 1
            statuses["error"] = statuses.get("error", 0) + 1
            conn.writer = None
            return
        done = loop.time()
        statuses[st] = statuses.get(st, 0) + 1
        if st != 200:
            errors += 1
        latencies.append(done - (scheduled if scheduled is not None else sent))
        service.append(done - sent)

    if args.rate > 0:
        queue = asyncio.Queue()

        async def worker(conn):
            while True:
                item = await queue.get()
                if item is None:
                    return
                await one(conn, *item)

        workers = [asyncio.create_task(worker(c)) for c in conns]
        interval = 1.0 / args.rate
        i = 0
        while True:
            now = loop.time()
            if now >= end:
                break
            # Enqueue every request whose scheduled time has come.
            while start + i * interval <= now:
                queue.put_nowait((i, start + i * interval))
                i += 1
            await asyncio.sleep(max(0.0, start + i * interval - loop.time()))
        scheduled_count = i
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
    else:
        async def closed(conn, k):
            idx = k
            while loop.time() < end:
                await one(conn, idx, None)
                idx += args.connections

        await asyncio.gather(*(closed(c, k) for k, c in enumerate(conns)))
        scheduled_count = None
    elapsed = loop.time() - start
    for c in conns:
        if c.writer is not None:
            c.writer.close()

    latencies.sort()
    service.sort()
    ms = lambda v: None if v is None else round(v * 1000, 3)
    out = {
        "mode": "fixed-rate" if args.rate > 0 else "closed-loop",
        "target_rate": args.rate or None,
        "connections": args.connections,
        "duration_s": round(elapsed, 2),
        "scheduled": scheduled_count,
        "completed": len(latencies),
        "errors": errors,
        "statuses": {str(k): v for k, v in statuses.items()},
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "latency_ms": {p: ms(percentile(latencies, float(p[1:]))) for p in ("p50", "p90", "p95", "p99", "p99.9")},
        "max_ms": ms(latencies[-1] if latencies else None),
        "service_ms": {p: ms(percentile(service, float(p[1:]))) for p in ("p50", "p90", "p99")},
        "paths": len(paths),
    }
    out["latency_ms"]["max"] = out["max_ms"]
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--paths", required=True, help="file with one request path per line")
    ap.add_argument("--rate", type=float, default=1000.0, help="requests/s; 0 = closed loop")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--header", action="append", default=[], help="extra request header, repeatable")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loadgen: only loopback targets are allowed")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
