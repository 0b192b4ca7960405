#!/usr/bin/env bash
# Passerelle benchmarks: reference data import, national-scale catalogue
# import, search latency at a fixed rate, maximum throughput, memory, index
# size. Writes the figures into BENCHMARKS.md (at the root of the work tree).
#
#   bench/run.sh                 # everything (about 20-25 min on 2 cores, builds excluded)
#
# Environment knobs (all optional):
#   BENCH_FORMATIONS=200000  BENCH_MEMBERS=3000  BENCH_SEED=20240601
#   BENCH_RATE=1000          requests/s of the fixed-rate runs
#   BENCH_DURATION=30        seconds of each fixed-rate run
#   BENCH_MAX_DURATION=20    seconds of each maximum-throughput run
#   BENCH_SWEEP_POPULAR="250 500 600 700 800 1000"  BENCH_SWEEP_TAIL="100 200 300 400 500"
#                            offered rates of the latency sweeps (10 s each)
#   BENCH_PORT=18080         loopback port of the server under test
#   BENCH_PG=auto|0          also import the reference data into PostgreSQL (auto: if reachable)
#   BENCH_OHA=auto|0         install oha (cargo install oha --locked, bounded by BENCH_OHA_TIMEOUT s;
#                            about 10 min on 2 cores, once) and use it beside bench/loadgen.py
#   BENCH_OHA_TIMEOUT=1200
#   BENCH_REIMPORT=1         also time a second, idempotent import of the formations file
#   BENCH_QUIET_WAIT=180     seconds to wait, before each measurement, for other processes to calm down
#   BENCH_INDEX_WAIT=900     seconds to wait for the server's index to catch up after the import
#
# Not part of CI. Everything runs on this machine: the load generators share
# its cores with the server under test, and every target is 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
WORK="$BENCH/work"
RES="$WORK/results"
BIN="$ROOT/target/release/passerelle"
FORMATIONS=${BENCH_FORMATIONS:-200000}
MEMBERS=${BENCH_MEMBERS:-3000}
SEED=${BENCH_SEED:-20240601}
RATE=${BENCH_RATE:-1000}
DURATION=${BENCH_DURATION:-30}
MAXDUR=${BENCH_MAX_DURATION:-20}
PORT=${BENCH_PORT:-18080}
PG=${BENCH_PG:-auto}
OHA=${BENCH_OHA:-auto}
OHA_TIMEOUT=${BENCH_OHA_TIMEOUT:-1200}
export PASSERELLE_DATA="$ROOT/data"
export PASSERELLE_LOG=${PASSERELLE_LOG:-warn}
# The public API is rate-limited per address (20 req/s by default): the load generators all come
# from 127.0.0.1, so the benchmarks turn the limit off, and BENCHMARKS.md says so.
export PASSERELLE_API_RATE=0

log() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }
# Jiffies stolen from this virtual machine by the hypervisor (all CPUs).
steal_ticks() { awk '/^cpu / {print $9}' /proc/stat; }
# put KEY VALUE: one figure for the report.
put() { printf '%s\t%s\n' "$1" "$2" >>"$RES/figures.tsv"; }
# timed NAME CMD...: runs CMD, keeps its output in $RES/NAME.out, records wall time and peak RSS.
timed() {
    local name=$1; shift
    put "$name.start_epoch" "$(date +%s.%N)"
    local s0; s0=$(steal_ticks)
    /usr/bin/time -f '%e %M' -o "$RES/$name.time" "$@" >"$RES/$name.out" 2>&1 || {
        echo "FAILED: $*"; tail -30 "$RES/$name.out"; exit 1; }
    put "$name.end_epoch" "$(date +%s.%N)"
    put "$name.steal_s" "$(awk -v a="$s0" -v b="$(steal_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz}')"
    read -r secs kb <"$RES/$name.time"
    put "$name.seconds" "$secs"
    put "$name.peak_rss_kb" "$kb"
    echo "$name: ${secs} s, peak RSS $((kb / 1024)) MiB"
}

# wait_quiet NAME: waits (at most BENCH_QUIET_WAIT s, default 180) until the processes other than
# the server under test use less than a quarter of a core over 3 s; records what it saw. Other
# engineers' builds and tests share this machine; this keeps the figures from measuring them.
wait_quiet() {
    local deadline=$(( $(date +%s) + ${BENCH_QUIET_WAIT:-180} )) other=
    while :; do
        local b0 s0=0 b1 s1=0
        b0=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)
        [ -n "$SERVER_PID" ] && s0=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
        sleep 3
        b1=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)
        [ -n "$SERVER_PID" ] && s1=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
        other=$(awk -v a="$b0" -v b="$b1" -v c="$s0" -v d="$s1" -v hz="$(getconf CLK_TCK)" \
            'BEGIN {printf "%.2f", ((b - a) - (d - c)) / hz / 3}')
        if awk -v o="$other" 'BEGIN {exit !(o < 0.25)}' || [ "$(date +%s)" -ge "$deadline" ]; then
            break
        fi
        echo "   machine busy ($other cores used by other processes), waiting..."
    done
    put "$1.other_cores_before" "$other"
}

SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- tools
log "tools"
need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/bin/time ] || need+=(time)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }

rm -rf "$WORK"
mkdir -p "$RES"

log "release build"
(cd "$ROOT" && cargo build --release -p passerelle 2>&1 | tail -3)

if [ "$OHA" != 0 ] && ! command -v oha >/dev/null; then
    log "installing oha (cargo install oha --locked, at most ${OHA_TIMEOUT} s)"
    start=$(date +%s)
    if timeout "$OHA_TIMEOUT" cargo install oha --locked >"$RES/oha-install.log" 2>&1; then
        put oha.install_seconds $(( $(date +%s) - start ))
    else
        echo "oha did not build in time (see $RES/oha-install.log); the Python generator alone is used"
        put oha.install_seconds "failed after $(( $(date +%s) - start )) s"
    fi
fi
command -v oha >/dev/null && put oha.version "$(oha --version | head -1)"
put wrk.version "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
put sqlite3.version "$(sqlite3 --version | cut -d' ' -f1)"

# ---------------------------------------------------------------- machine
put machine.nproc "$(nproc)"
put machine.cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
put machine.mem_total_kb "$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
put machine.kernel "$(uname -r)"
put run.date "$(date -u +%Y-%m-%dT%H:%MZ)"
put run.loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
RUN_STEAL0=$(steal_ticks)
RUN_T0=$(date +%s)
# Other work on the machine at the start (the figures are only as quiet as the machine).
ps -eo pid,pcpu,etime,args --sort=-pcpu | head -8 | cut -c1-160 >"$RES/ps_start.txt"
put run.commit "$(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo ' (+ uncommitted changes in crates/)')"

# ---------------------------------------------------------------- 1. reference data
log "1. import referentiels into an empty SQLite database"
REF="$WORK/ref"
mkdir -p "$REF"
cd "$REF"
export DATABASE_URL="sqlite://$REF/passerelle.db"
wait_quiet ref_import
timed ref_import "$BIN" import referentiels
timed ref_import_again "$BIN" import referentiels
grep -q "aucune modification" "$RES/ref_import_again.out" && put ref_import_again.unchanged yes || put ref_import_again.unchanged no

# Reference tables: those created by the reference migration.
TABLES=$(grep -oE '^CREATE TABLE [a-z_]+' "$ROOT/crates/store/migrations/sqlite/0001_reference.sql" | awk '{print $3}')
rows_total=0
for t in $TABLES; do
    n=$(sqlite3 "$REF/passerelle.db" "SELECT count(*) FROM $t")
    put "ref_rows.$t" "$n"
    rows_total=$((rows_total + n))
done
put ref_rows.total "$rows_total"
put ref_db.bytes "$(stat -c %s "$REF/passerelle.db")"
echo "rows in reference tables: $rows_total"

log "1b. raw ceiling: sqlite3 .import of the same rows, one transaction"
RAW="$WORK/raw"
mkdir -p "$RAW/csv"
sqlite3 "$REF/passerelle.db" .schema | grep -v '^CREATE TABLE sqlite_' >"$RAW/schema.sql"
{
    echo "BEGIN;"
    for t in $TABLES; do
        sqlite3 -csv "$REF/passerelle.db" "SELECT * FROM $t" >"$RAW/csv/$t.csv"
        [ -s "$RAW/csv/$t.csv" ] && echo ".import --csv $RAW/csv/$t.csv $t"
    done
    echo "COMMIT;"
} >"$RAW/import.sql"
put raw_csv.bytes "$(du -cb "$RAW"/csv/*.csv | tail -1 | cut -f1)"
sqlite3 "$RAW/raw.db" <"$RAW/schema.sql"
wait_quiet raw_import
timed raw_import sqlite3 "$RAW/raw.db" ".read $RAW/import.sql"
raw_total=0
for t in $TABLES; do
    raw_total=$((raw_total + $(sqlite3 "$RAW/raw.db" "SELECT count(*) FROM $t")))
done
put raw_rows.total "$raw_total"

if [ "$PG" != 0 ] && command -v psql >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "1c. import referentiels into an empty PostgreSQL database"
    PGDB=passerelle_bench
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $PGDB" >/dev/null
    mkdir -p "$WORK/pg"
    cd "$WORK/pg"
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDB" timed pg_import "$BIN" import referentiels
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDB" timed pg_import_again "$BIN" import referentiels
    pg_total=0
    for t in $TABLES; do
        pg_total=$((pg_total + $(psql -tA -h 127.0.0.1 -U postgres -d $PGDB -c "SELECT count(*) FROM $t")))
    done
    put pg_rows.total "$pg_total"
    put pg.version "$(psql -tA -h 127.0.0.1 -U postgres -d postgres -c 'SHOW server_version')"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
else
    echo "PostgreSQL not reachable or disabled: skipped"
fi

# ---------------------------------------------------------------- 2. national catalogue
log "2. demo campus, then a generated catalogue of $FORMATIONS formations"
CAT="$WORK/cat"
mkdir -p "$CAT"
cd "$CAT"
export DATABASE_URL="sqlite://$CAT/passerelle.db"
timed demo "$BIN" demo --data-dir "$CAT" --no-serve
demo_formations=$(sqlite3 "$CAT/passerelle.db" "SELECT count(*) FROM formations")
timed gen python3 "$BENCH/gen_catalogue.py" --db "$CAT/passerelle.db" --out "$WORK/gen" \
    --members "$MEMBERS" --formations "$FORMATIONS" --seed "$SEED"
put gen.members "$MEMBERS"
put gen.formations "$FORMATIONS"
put gen.seed "$SEED"
put gen.tail "$(wc -l <"$WORK/gen/search_urls_tail.txt")"
put bench.rate "$RATE"
put bench.duration "$DURATION"
put gen.formations_csv_bytes "$(stat -c %s "$WORK/gen/formations.csv")"
timed import_members "$BIN" import membres "$WORK/gen/membres.csv" --campus demo

# The server keeps its own search index (beside the database, NAME-index) and follows the
# database's change log every 2 s; one-shot commands (imports) leave the index to it. So the
# server is started now, and the catalogue is imported while it runs, as in production.
log "2b. server start, then the formations import while it runs"
"$BIN" serve --listen "127.0.0.1:$PORT" >"$RES/serve.out" 2>&1 &
SERVER_PID=$!
T0=$(date +%s.%N)
for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null
put serve.healthz_after_s "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')"
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
# Busy jiffies of the whole machine (all CPUs): user nice system irq softirq.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
HZ=$(getconf CLK_TCK)
# phase_start / phase_end NAME: CPU seconds used by the server and by everything else
# (load generator and any other process on the machine) during a run.
phase_start() { P_C0=$(cpu_ticks); P_B0=$(busy_ticks); P_S0=$(steal_ticks); P_T0=$(date +%s.%N); put "$1.loadavg_before" "$(cut -d' ' -f1-3 /proc/loadavg)"; }
phase_end() {
    local c1 b1 t1
    c1=$(cpu_ticks); b1=$(busy_ticks); t1=$(date +%s.%N)
    put "$1.server_cpu_s" "$(awk -v a="$P_C0" -v b="$c1" -v hz="$HZ" 'BEGIN {printf "%.1f", (b - a) / hz}')"
    put "$1.other_cpu_s" "$(awk -v a="$P_B0" -v b="$b1" -v c="$P_C0" -v d="$c1" -v hz="$HZ" 'BEGIN {printf "%.1f", ((b - a) - (d - c)) / hz}')"
    put "$1.wall_s" "$(awk -v a="$P_T0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')"
    put "$1.steal_s" "$(awk -v a="$P_S0" -v b="$(steal_ticks)" -v hz="$HZ" 'BEGIN {printf "%.1f", (b - a) / hz}')"
}
# Published formations the search must find (all generated providers are published).
expected_total() {
    sqlite3 "$CAT/passerelle.db" "SELECT count(*) FROM formations f JOIN members m ON m.id = f.provider_id \
        WHERE f.status = 'publie' AND m.status = 'publie'"
}
search_total() {
    curl -fsS "http://127.0.0.1:$PORT/api/v1/formations" 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])' 2>/dev/null || echo -1
}
# wait_index NAME: seconds until the search answers with every published formation.
wait_index() {
    local want t0 got deadline
    want=$(expected_total); t0=$(date +%s.%N); deadline=$(( $(date +%s) + ${BENCH_INDEX_WAIT:-900} ))
    while :; do
        got=$(search_total)
        [ "$got" = "$want" ] && break
        [ "$(date +%s)" -ge "$deadline" ] && { echo "index did not catch up in time"; break; }
        sleep 0.5
    done
    put "$1.expected" "$want"
    put "$1.found" "$got"
    put "$1.seconds" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
    echo "$1: search finds $got of $want published formations"
}
wait_index index_initial
put serve.rss_before_import_kb "$(status_kb VmRSS)"
wait_quiet import_formations
phase_start import_formations_server
timed import_formations "$BIN" import formations "$WORK/gen/formations.csv" --campus demo
put import_formations.summary "$(grep -m1 'Import terminé' "$RES/import_formations.out" || true)"
# Phases of the formations import, from the rows' created_at (1 s resolution): checking every
# row (provider, commune, certification look-ups) comes before the first insert.
put import_formations.first_insert_epoch "$(sqlite3 "$CAT/passerelle.db" "SELECT strftime('%s', min(created_at)) FROM formations WHERE external_key LIKE 'bench-%'")"
put import_formations.last_insert_epoch "$(sqlite3 "$CAT/passerelle.db" "SELECT strftime('%s', max(created_at)) FROM formations WHERE external_key LIKE 'bench-%'")"
# The running server's index follows the new rows through the change log.
wait_index index_catchup
phase_end import_formations_server
put serve.rss_after_catchup_kb "$(status_kb VmRSS)"
put serve.hwm_after_catchup_kb "$(status_kb VmHWM)"
put serve.rss_anon_after_catchup_kb "$(status_kb RssAnon)"
if [ "${BENCH_REIMPORT:-1}" != 0 ]; then
    # Same file again: every row must come out unchanged.
    timed import_formations_again "$BIN" import formations "$WORK/gen/formations.csv" --campus demo
    put import_formations_again.summary "$(grep -m1 'Import terminé' "$RES/import_formations_again.out" || true)"
fi
INDEX_DIR="$CAT/passerelle-index"
[ -d "$INDEX_DIR" ] || INDEX_DIR=$(find "$CAT" -mindepth 1 -maxdepth 1 -type d | head -1)
put cat.index_dir "${INDEX_DIR#"$ROOT"/}"
put cat.formations "$(sqlite3 "$CAT/passerelle.db" "SELECT count(*) FROM formations")"
put cat.formations_published "$(expected_total)"
put cat.demo_formations "$demo_formations"
put cat.formation_romes "$(sqlite3 "$CAT/passerelle.db" "SELECT count(*) FROM formation_romes")"
put cat.members "$(sqlite3 "$CAT/passerelle.db" "SELECT count(*) FROM members")"
put cat.db_bytes "$(du -cb "$CAT"/passerelle.db* | tail -1 | cut -f1)"
put cat.index_bytes "$(du -sb "$INDEX_DIR" | cut -f1)"
put cat.index_segments "$(find "$INDEX_DIR" -name '*.idx' | wc -l)"

# A full rebuild of the index (`passerelle reindex`) on a copy of the database, for comparison
# with the incremental catch-up above.
REIDX="$WORK/reindex"
mkdir -p "$REIDX"
sqlite3 "$CAT/passerelle.db" ".backup '$REIDX/passerelle.db'"
(cd "$REIDX" && DATABASE_URL="sqlite://$REIDX/passerelle.db" timed reindex "$BIN" reindex)
RIDX="$REIDX/passerelle-index"
[ -d "$RIDX" ] || RIDX=$(find "$REIDX" -mindepth 1 -maxdepth 1 -type d | head -1)
put cat.index_bytes_after_reindex "$(du -sb "$RIDX" | cut -f1)"
put cat.index_segments_after_reindex "$(find "$RIDX" -name '*.idx' | wc -l)"
rm -rf "$REIDX"

log "3. search under load"
put serve.rss_before_load_kb "$(status_kb VmRSS)"
put serve.threads "$(status_kb Threads)"
PATHS="$WORK/gen/search_urls.txt"
export BENCH_PATHS="$PATHS"

# Each query alone, once cold then hot: hits, body size and time, to find slow ones.
: >"$RES/queries.tsv"
while read -r p; do
    [ -z "$p" ] && continue
    cold=$(curl -s -o "$RES/body.json" -w '%{http_code} %{time_total} %{size_download}' "http://127.0.0.1:$PORT$p")
    hot=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT$p")
    total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("total"))' "$RES/body.json" 2>/dev/null || echo '?')
    printf '%s\t%s\t%s\t%s\n' "$p" "$cold" "$hot" "$total" >>"$RES/queries.tsv"
done <"$PATHS"
put serve.rss_after_cold_queries_kb "$(status_kb VmRSS)"

# Per-query service time under no other load (1 connection, closed loop, 2 s each).
mkdir -p "$RES/perquery"
i=0
while read -r p; do
    [ -z "$p" ] && continue
    i=$((i + 1))
    printf '%s\n' "$p" >"$RES/perquery/$i.path"
    python3 "$BENCH/loadgen.py" --port "$PORT" --paths "$RES/perquery/$i.path" --rate 0 \
        --duration 2 --connections 1 >"$RES/perquery/$i.json"
done <"$PATHS"

log "3a. warm-up (10 s closed loop)"
python3 "$BENCH/loadgen.py" --port "$PORT" --paths "$PATHS" --rate 0 --duration 10 --connections 8 >"$RES/warmup.json"

# Two mixes: "popular" (25 realistic queries repeated: after the first time the server's result
# cache answers them) and "tail" (5,000 distinct queries: mostly cache misses).
TAIL="$WORK/gen/search_urls_tail.txt"
sed "s|^|http://127.0.0.1:$PORT|" "$PATHS" >"$WORK/urls_abs.txt"
sed "s|^|http://127.0.0.1:$PORT|" "$TAIL" >"$WORK/urls_tail_abs.txt"
HAVE_OHA=0
command -v oha >/dev/null && HAVE_OHA=1

# fixed_rate NAME MIX(popular|tail) RATE SECONDS TOOL(py|oha)
fixed_rate() {
    local name=$1 mix=$2 rate=$3 secs=$4 tool=$5 paths abs
    if [ "$mix" = tail ]; then paths=$TAIL; abs="$WORK/urls_tail_abs.txt"; else paths=$PATHS; abs="$WORK/urls_abs.txt"; fi
    wait_quiet "$name"
    phase_start "$name"
    if [ "$tool" = oha ]; then
        oha --no-tui --output-format json -q "$rate" -z "${secs}s" -c 16 --latency-correction -w \
            --urls-from-file "$abs" >"$RES/$name.oha.json" 2>"$RES/$name.err" || true
    else
        python3 "$BENCH/loadgen.py" --port "$PORT" --paths "$paths" --rate "$rate" --duration "$secs" \
            --connections 16 >"$RES/$name.py.json"
    fi
    phase_end "$name"
}

log "3b. fixed rate: $RATE req/s for $DURATION s, popular mix (Python generator, then oha)"
fixed_rate fixed_popular_py popular "$RATE" "$DURATION" py
cat "$RES/fixed_popular_py.py.json"
[ $HAVE_OHA = 1 ] && fixed_rate fixed_popular_oha popular "$RATE" "$DURATION" oha

log "3c. fixed rate: $RATE req/s for $DURATION s, long-tail mix (Python generator, then oha)"
fixed_rate fixed_tail_py tail "$RATE" "$DURATION" py
cat "$RES/fixed_tail_py.py.json"
[ $HAVE_OHA = 1 ] && fixed_rate fixed_tail_oha tail "$RATE" "$DURATION" oha

SWEEP_TOOL=py
[ $HAVE_OHA = 1 ] && SWEEP_TOOL=oha
log "3d. latency against offered rate (10 s per rate, $SWEEP_TOOL)"
for r in ${BENCH_SWEEP_POPULAR:-250 500 600 700 800 1000}; do
    fixed_rate "sweep_popular_$r" popular "$r" 10 "$SWEEP_TOOL"
done
for r in ${BENCH_SWEEP_TAIL:-100 200 300 400 500}; do
    fixed_rate "sweep_tail_$r" tail "$r" 10 "$SWEEP_TOOL"
done

# max_wrk NAME PATHFILE: closed-loop maximum throughput with wrk.
max_wrk() {
    wait_quiet "$1"
    phase_start "$1"
    BENCH_PATHS="$2" wrk -t2 -c32 -d"${MAXDUR}s" --latency -s "$BENCH/rotate.lua" \
        "http://127.0.0.1:$PORT" >"$RES/$1.out" 2>&1
    phase_end "$1"
    grep WRKJSON "$RES/$1.out"
}
# max_py NAME PATHFILE: closed-loop maximum throughput with the Python generator.
max_py() {
    wait_quiet "$1"
    phase_start "$1"
    python3 "$BENCH/loadgen.py" --port "$PORT" --paths "$2" --rate 0 --duration "$MAXDUR" \
        --connections 32 >"$RES/$1.json"
    phase_end "$1"
}

log "3e. maximum throughput (closed loop): popular mix, long-tail mix, /healthz"
echo /healthz >"$WORK/healthz.txt"
max_wrk max_wrk_popular "$PATHS"
max_wrk max_wrk_tail "$TAIL"
max_wrk max_wrk_healthz "$WORK/healthz.txt"
max_py max_py_popular "$PATHS"
max_py max_py_tail "$TAIL"
max_py max_py_healthz "$WORK/healthz.txt"

put serve.rss_after_load_kb "$(status_kb VmRSS)"
put serve.hwm_after_load_kb "$(status_kb VmHWM)"
put serve.rss_anon_after_load_kb "$(status_kb RssAnon)"
put serve.rss_file_after_load_kb "$(status_kb RssFile)"
put serve.threads_after_load "$(status_kb Threads)"
cleanup
SERVER_PID=

log "3f. memory of a server started on the up-to-date index (no catch-up), after 20 s of each mix"
"$BIN" serve --listen "127.0.0.1:$PORT" >"$RES/serve2.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
put serve_fresh.rss_start_kb "$(status_kb VmRSS)"
python3 "$BENCH/loadgen.py" --port "$PORT" --paths "$TAIL" --rate 300 --duration 20 --connections 16 >"$RES/fresh_tail.json"
python3 "$BENCH/loadgen.py" --port "$PORT" --paths "$PATHS" --rate 600 --duration 20 --connections 16 >"$RES/fresh_popular.json"
put serve_fresh.rss_after_load_kb "$(status_kb VmRSS)"
put serve_fresh.hwm_after_load_kb "$(status_kb VmHWM)"
put serve_fresh.rss_anon_after_load_kb "$(status_kb RssAnon)"
put serve_fresh.rss_file_after_load_kb "$(status_kb RssFile)"
cleanup
SERVER_PID=

put run.steal_share "$(awk -v a="$RUN_STEAL0" -v b="$(steal_ticks)" -v t="$(( $(date +%s) - RUN_T0 ))" -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" 'BEGIN {printf "%.1f", 100 * (b - a) / hz / (t * n)}')"
log "report"
python3 "$BENCH/report.py" --results "$RES" --out "$ROOT/BENCHMARKS.md"
echo "BENCHMARKS.md written; raw results in $RES"
