#!/usr/bin/env bash
# Observatory benchmarks (issue #4), on this machine:
#  1. generate N synthetic postings (JSON lines, France Travail format);
#  2. ingest them with skills matching, deduplication and aggregation
#     (`passerelle import postings`): postings/s and MB/s for the whole ingest,
#     then the idempotent re-import;
#  3. the counting step alone (parse and count per ROME × zone d'emploi ×
#     month, all cores) against DuckDB computing the same counts from the same
#     file, in the same run; skills matching alone on one core (MB/s);
#  4. the observatory page of the demo campus with the national postings
#     loaded, 16 concurrent clients (closed loop), against /healthz.
# Writes bench/work/observatory/figures.tsv and prints a summary; the
# figures go into BENCHMARKS.md (section « Observatoire »).
#
#   bench/observatory.sh            # N=1000000 (about 10 min on 2 cores, build excluded)
#   BENCH_POSTINGS=200000 bench/observatory.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK="$ROOT/bench/work/observatory"
BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/passerelle}
# Optional baseline: the same ingest with another binary (e.g. the build of
# the commit before a change), in its own database, same run.
BEFORE=${BENCH_BEFORE_BIN:-}
N=${BENCH_POSTINGS:-1000000}
PORT=${BENCH_PORT:-18090}
DURATION=${BENCH_DURATION:-20}
export PASSERELLE_DATA="$ROOT/data"
export PASSERELLE_LOG=warn
# Every load-generator request comes from 127.0.0.1: the per-address limit is off.
export PASSERELLE_API_RATE=0

rm -rf "$WORK"
mkdir -p "$WORK"
FIG="$WORK/figures.tsv"
put() { printf '%s\t%s\n' "$1" "$2" | tee -a "$FIG"; }
log() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

[ -n "${BENCH_BIN:-}" ] || (cd "$ROOT" && cargo build --release -p passerelle)
export DATABASE_URL="sqlite://$WORK/db/passerelle.db"
put date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put commit "$(git -C "$ROOT" rev-parse --short HEAD)"
put cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') × $(nproc)"
put memory_gib "$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)"

log "demo campus (reference data, tension files, outcomes, 4,000 demo postings)"
"$BIN" demo --no-serve --data-dir "$WORK/db" >/dev/null

log "generate $N postings"
/usr/bin/time -f '%e %M' -o "$WORK/gen.time" "$BIN" demo postings --count "$N" --seed 7 -o "$WORK/postings.jsonl"
put postings "$N"
put file_mb "$(du -m "$WORK/postings.jsonl" | cut -f1)"
put generate_seconds "$(cut -d' ' -f1 "$WORK/gen.time")"

log "ingest (skills matching, deduplication, aggregation, one transaction)"
/usr/bin/time -f '%e %M' -o "$WORK/ingest.time" "$BIN" import postings "$WORK/postings.jsonl" | tee "$WORK/ingest.out"
put ingest_seconds "$(cut -d' ' -f1 "$WORK/ingest.time")"
put ingest_peak_rss_mb "$(( $(cut -d' ' -f2 "$WORK/ingest.time") / 1024 ))"
put ingest_summary "$(head -1 "$WORK/ingest.out")"

log "re-import of the same file (idempotent: everything unchanged)"
/usr/bin/time -f '%e %M' -o "$WORK/reimport.time" "$BIN" import postings "$WORK/postings.jsonl" | tee "$WORK/reimport.out"
put reimport_seconds "$(cut -d' ' -f1 "$WORK/reimport.time")"
put reimport_summary "$(head -1 "$WORK/reimport.out")"

if [ -n "$BEFORE" ]; then
    log "baseline: the same ingest and re-import with $BEFORE (its own database)"
    put before_bin "$BEFORE"
    mkdir -p "$WORK/db-before"
    DATABASE_URL="sqlite://$WORK/db-before/passerelle.db" "$BEFORE" demo --no-serve --data-dir "$WORK/db-before" >/dev/null
    DATABASE_URL="sqlite://$WORK/db-before/passerelle.db" /usr/bin/time -f '%e %M' -o "$WORK/before_ingest.time" \
        "$BEFORE" import postings "$WORK/postings.jsonl" | tee "$WORK/before_ingest.out"
    put before_ingest_seconds "$(cut -d' ' -f1 "$WORK/before_ingest.time")"
    put before_ingest_peak_rss_mb "$(( $(cut -d' ' -f2 "$WORK/before_ingest.time") / 1024 ))"
    put before_ingest_summary "$(head -1 "$WORK/before_ingest.out")"
    DATABASE_URL="sqlite://$WORK/db-before/passerelle.db" /usr/bin/time -f '%e %M' -o "$WORK/before_reimport.time" \
        "$BEFORE" import postings "$WORK/postings.jsonl" >/dev/null
    put before_reimport_seconds "$(cut -d' ' -f1 "$WORK/before_reimport.time")"
    put before_reimport_peak_rss_mb "$(( $(cut -d' ' -f2 "$WORK/before_reimport.time") / 1024 ))"
    rm -rf "$WORK/db-before"
fi
put ingest_reimport_peak_rss_mb "$(( $(cut -d' ' -f2 "$WORK/reimport.time") / 1024 ))"

log "counting step and skills matching alone"
"$BIN" analyse bench-postings "$WORK/postings.jsonl" --areas-out "$WORK/areas.csv" | tee "$WORK/count.out"
put passerelle_count "$(grep count_seconds "$WORK/count.out")"
put passerelle_match "$(grep match_seconds "$WORK/count.out")"

log "DuckDB, same counts from the same file"
if [ ! -x "$ROOT/bench/work/venv/bin/python" ]; then
    python3 -m venv "$ROOT/bench/work/venv"
    "$ROOT/bench/work/venv/bin/pip" install -q duckdb
fi
"$ROOT/bench/work/venv/bin/python" - "$WORK/postings.jsonl" "$WORK/areas.csv" <<'PY' | tee "$WORK/duckdb.out"
import statistics, sys, time, duckdb
postings, areas = sys.argv[1], sys.argv[2]
con = duckdb.connect()
# Timed like Passerelle's counting step: from the file on disk (page cache)
# to the counted groups in the caller's hands, five runs, median.
runs = []
for _ in range(5):
    t = time.perf_counter()
    rows = con.execute(f"""
        WITH a AS (SELECT * FROM read_csv('{areas}', header = true, columns = {{'commune': 'VARCHAR', 'zone': 'VARCHAR'}})),
        p AS (SELECT * FROM read_json('{postings}', format = 'newline_delimited',
              columns = {{'romeCode': 'VARCHAR', 'dateCreation': 'VARCHAR', 'lieuTravail': 'STRUCT(commune VARCHAR)'}}))
        SELECT p.romeCode, COALESCE(a.zone, ''), substr(p.dateCreation, 1, 7), count(*)
        FROM p LEFT JOIN a ON a.commune = p.lieuTravail.commune GROUP BY ALL""").fetchall()
    runs.append(time.perf_counter() - t)
# The same order-free checksum as `passerelle analyse bench-postings`:
# FNV-1a 64 of "rome\tzone\tmonth\tcount" per group, summed mod 2^64.
def fnv(text):
    h = 0xcbf29ce484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h
checksum = 0
for r in rows:
    checksum = (checksum + fnv(f"{r[0] or ''}\t{r[1] or ''}\t{r[2] or ''}\t{r[3]}")) & 0xFFFFFFFFFFFFFFFF
threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
print(f"duckdb_seconds={statistics.median(runs):.3f} runs={','.join(f'{x:.3f}' for x in runs)} "
      f"groups={len(rows)} postings={sum(r[3] for r in rows)} checksum={checksum:016x} "
      f"version={duckdb.__version__} threads={threads}")
PY
put duckdb_count "$(cat "$WORK/duckdb.out")"

log "observatory page under 16 concurrent clients"
"$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
TOKEN=$("$BIN" admin create-token --email equipe.demo@example.org --name bench | grep -o 'psl_[A-Za-z0-9_-]*')
echo "/campus/demo/observatoire" >"$WORK/page.paths"
echo "/api/v1/campuses/demo/observatory" >"$WORK/api.paths"
echo "/healthz" >"$WORK/healthz.paths"
curl -s -o /dev/null -w '%{http_code} %{size_download}\n' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/campus/demo/observatoire" | tee "$WORK/page.check"
for what in page api healthz; do
    python3 "$ROOT/bench/loadgen.py" --port "$PORT" --paths "$WORK/$what.paths" --rate 0 \
        --duration "$DURATION" --connections 16 --header "Authorization: Bearer $TOKEN" | tee "$WORK/$what.json"
    put "load_$what" "$(cat "$WORK/$what.json")"
done
put server_vmhwm_kb "$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)"
