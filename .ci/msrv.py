#!/usr/bin/env python3
"""Fails when a locked dependency needs a newer Rust than the workspace's
declared `rust-version` (clippy's `incompatible_msrv` checks our own code
against it). Reads `cargo metadata --format-version 1` on stdin."""
import json
import sys


def version(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.load(sys.stdin)
ours = {p["id"] for p in meta["packages"] if p["id"] in meta["workspace_members"]}
declared = max(version(p["rust_version"]) for p in meta["packages"] if p["id"] in ours)
newer = [
    (p["rust_version"], p["name"], p["version"])
    for p in meta["packages"]
    if p.get("rust_version") and version(p["rust_version"]) > declared
]
if newer:
    print(f"rust-version {'.'.join(map(str, declared))} is older than what these dependencies need:")
    for r, n, v in sorted(newer):
        print(f"  {n} {v}: {r}")
    sys.exit(1)
print(f"rust-version {'.'.join(map(str, declared))} covers every locked dependency")
