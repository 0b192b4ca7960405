#!/usr/bin/env bash
# National-scale writes: are the campus-data imports linear, and how far are
# they from the database's own bulk loader? On this machine, in one run:
#
#  - members (spreadsheet, keyed by SIRET, and keyed by name only) at
#    BENCH_SMALL and BENCH_BIG rows;
#  - formations (spreadsheet) at BENCH_SMALL and BENCH_BIG rows, then the
#    re-import of the unchanged big file;
#  - formations (LHÉO 2.3, the file `passerelle export lheo` writes of the
#    imported catalogue) at both sizes;
#  - the same formations import on PostgreSQL;
#  - the ceilings, same CSV, same run: `sqlite3 .import` and `psql \copy`
#    into a table of the CSV's columns, one transaction;
#  - optionally the same steps with another binary (BENCH_BEFORE_BIN, e.g.
#    the build of the commit before the change), each step bounded by
#    BENCH_BEFORE_TIMEOUT seconds.
#
# Every import starts from a copy of the same database (reference data and
# the demo campus, `passerelle demo --no-serve`). Writes
# bench/work/imports/figures.tsv; `python3 bench/imports_report.py` puts the
# figures into BENCHMARKS.md.
#
#   bench/imports.sh
#   BENCH_BIG=50000 BENCH_SMALL=5000 bench/imports.sh     # a quick run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK="$ROOT/bench/work/imports"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${BENCH_BIN:-$TARGET/release/passerelle}
BEFORE=${BENCH_BEFORE_BIN:-}
BEFORE_TIMEOUT=${BENCH_BEFORE_TIMEOUT:-600}
BIG=${BENCH_BIG:-200000}
SMALL=${BENCH_SMALL:-20000}
MEMBERS=${BENCH_MEMBERS:-3000}
SEED=${BENCH_SEED:-20240601}
PG=${BENCH_PG:-auto}
# Which parts run: sqlite (members and formations), lheo, before, pg.
PARTS=${BENCH_PARTS:-sqlite lheo before pg}
has() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
PGHOST=127.0.0.1
PGDB=passerelle_bench_imports
export PASSERELLE_DATA="$ROOT/data"
export PASSERELLE_LOG=warn

rm -rf "$WORK"
mkdir -p "$WORK/gen" "$WORK/runs"
FIG="$WORK/figures.tsv"
put() { printf '%s\t%s\n' "$1" "$2" >>"$FIG"; }
log() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }
steal_ticks() { awk '/^cpu / {print $9}' /proc/stat; }

# wait_quiet: at most BENCH_QUIET_WAIT s (default 120) until other processes use < 0.25 core.
wait_quiet() {
    local deadline=$(( $(date +%s) + ${BENCH_QUIET_WAIT:-120} )) other
    while :; do
        local b0 b1
        b0=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)
        sleep 2
        b1=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)
        other=$(awk -v a="$b0" -v b="$b1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz / 2}')
        if awk -v o="$other" 'BEGIN {exit !(o < 0.25)}' || [ "$(date +%s)" -ge "$deadline" ]; then
            break
        fi
        echo "   machine busy ($other cores), waiting..."
    done
    put "$1.busy_cores_before" "$other"
}

# timed NAME LIMIT CMD...: wall time and peak RSS of CMD (killed after LIMIT s, 0 = no limit).
timed() {
    local name=$1 limit=$2; shift 2
    wait_quiet "$name"
    local s0 rc=0
    s0=$(steal_ticks)
    if [ "$limit" -gt 0 ]; then
        /usr/bin/time -f '%e %M' -o "$WORK/runs/$name.time" timeout "$limit" "$@" >"$WORK/runs/$name.out" 2>&1 || rc=$?
    else
        /usr/bin/time -f '%e %M' -o "$WORK/runs/$name.time" "$@" >"$WORK/runs/$name.out" 2>&1 || rc=$?
    fi
    put "$name.steal_s" "$(awk -v a="$s0" -v b="$(steal_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz}')"
    if [ "$rc" = 124 ]; then
        put "$name.seconds" ">$limit"
        echo "$name: killed after $limit s"
        return 0
    elif [ "$rc" != 0 ]; then
        echo "FAILED ($rc): $*"; tail -20 "$WORK/runs/$name.out"; exit 1
    fi
    local secs kb
    read -r secs kb < <(tail -1 "$WORK/runs/$name.time")
    put "$name.seconds" "$secs"
    put "$name.peak_rss_kb" "$kb"
    put "$name.summary" "$(grep -m1 -E 'Import terminé|refusé' "$WORK/runs/$name.out" || true)"
    echo "$name: $secs s, peak RSS $((kb / 1024)) MiB"
}

fresh_sqlite() { # fresh_sqlite NAME: a copy of the base database of the binary NAME starts with; prints its URL
    local base=base
    case $1 in before-*) base=base-before ;; esac
    rm -rf "$WORK/db/$1"
    mkdir -p "$WORK/db/$1"
    cp "$WORK/$base/passerelle.db" "$WORK/db/$1/passerelle.db"
    # The audit log's key lives beside the database: without it, the
    # binary refuses a log sealed by another key.
    cp "$WORK/$base/audit.key" "$WORK/db/$1/audit.key"
    echo "sqlite://$WORK/db/$1/passerelle.db"
}

command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -p passerelle)
put date "$(date -u +%Y-%m-%dT%H:%MZ)"
put commit "$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- crates || echo ' (+ uncommitted changes)')"
put cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc)"
put memory_gib "$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)"
put sqlite3 "$(sqlite3 --version | cut -d' ' -f1)"
put big "$BIG"
put small "$SMALL"
[ -n "$BEFORE" ] && put before_bin "$BEFORE"

log "base database: reference data and the demo campus"
mkdir -p "$WORK/base"
DATABASE_URL="sqlite://$WORK/base/passerelle.db" "$BIN" demo --no-serve --data-dir "$WORK/base" >/dev/null
sqlite3 "$WORK/base/passerelle.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
if [ -n "$BEFORE" ]; then
    # Its own base: a database migrated by a newer binary is refused by an older one.
    mkdir -p "$WORK/base-before"
    DATABASE_URL="sqlite://$WORK/base-before/passerelle.db" "$BEFORE" demo --no-serve --data-dir "$WORK/base-before" >/dev/null
    sqlite3 "$WORK/base-before/passerelle.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
fi

log "generated files"
python3 "$ROOT/bench/gen_catalogue.py" --db "$WORK/base/passerelle.db" --out "$WORK/gen" \
    --members "$MEMBERS" --formations "$BIG" --seed "$SEED" --tail 10
head -n $((SMALL + 1)) "$WORK/gen/formations.csv" >"$WORK/gen/formations_small.csv"
mkdir -p "$WORK/gen/m"
python3 "$ROOT/bench/gen_catalogue.py" --db "$WORK/base/passerelle.db" --out "$WORK/gen/m" \
    --members "$BIG" --formations 0 --seed "$SEED" --tail 10 >/dev/null
mv "$WORK/gen/m/membres.csv" "$WORK/gen/members_big.csv"
head -n $((SMALL + 1)) "$WORK/gen/members_big.csv" >"$WORK/gen/members_small.csv"
# The same members without SIRET: keyed by name, the slowest look-up.
for s in small big; do
    python3 - "$WORK/gen/members_$s.csv" "$WORK/gen/members_byname_$s.csv" <<'PY'
import csv, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", newline="", encoding="utf-8") as g:
    r = csv.reader(f, delimiter=";"); w = csv.writer(g, delimiter=";", lineterminator="\n")
    head = next(r); w.writerow(head); i = head.index("siret")
    for row in r:
        row[i] = ""; w.writerow(row)
PY
done
put formations_csv_mb "$(du -m "$WORK/gen/formations.csv" | cut -f1)"

# run_suite TAG BINARY LIMIT: every measured import with one binary, on SQLite.
run_suite() {
    local tag=$1 bin=$2 limit=$3 url
    for s in small big; do
        url=$(fresh_sqlite "$tag-members-$s")
        DATABASE_URL=$url timed "$tag.members_siret_$s" "$limit" "$bin" import membres "$WORK/gen/members_$s.csv" --campus demo
        url=$(fresh_sqlite "$tag-members-byname-$s")
        DATABASE_URL=$url timed "$tag.members_name_$s" "$limit" "$bin" import membres "$WORK/gen/members_byname_$s.csv" --campus demo
    done
    for s in small big; do
        local file="$WORK/gen/formations_small.csv"
        [ "$s" = big ] && file="$WORK/gen/formations.csv"
        url=$(fresh_sqlite "$tag-formations-$s")
        DATABASE_URL=$url "$bin" import membres "$WORK/gen/membres.csv" --campus demo >/dev/null
        sqlite3 "$WORK/db/$tag-formations-$s/passerelle.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
        DATABASE_URL=$url timed "$tag.formations_$s" "$limit" "$bin" import formations "$file" --campus demo
        if [ "$s" = big ]; then
            DATABASE_URL=$url timed "$tag.formations_again_$s" "$limit" "$bin" import formations "$file" --campus demo
        fi
    done
}

log "SQLite ceiling: sqlite3 .import of the same CSV files, one transaction"
for s in small big; do
    file="$WORK/gen/formations_small.csv"
    [ "$s" = big ] && file="$WORK/gen/formations.csv"
    rm -f "$WORK/raw_$s.db"
    cols=$(head -1 "$file" | tr ';' '\n' | sed 's/.*/"&" TEXT/' | paste -sd, -)
    sqlite3 "$WORK/raw_$s.db" "PRAGMA journal_mode=WAL; CREATE TABLE raw ($cols);" >/dev/null
    # `.import --csv` would reset the separator to a comma (each line then
    # lands in one column: a cheaper, wrong ceiling); `.mode csv` first,
    # then the file's separator.
    printf '.mode csv\n.separator ";"\nBEGIN;\n.import --skip 1 %s raw\nCOMMIT;\n' "$file" >"$WORK/raw_$s.sql"
    timed "ceiling.sqlite_$s" 0 sqlite3 "$WORK/raw_$s.db" ".read $WORK/raw_$s.sql"
    put "ceiling.sqlite_$s.rows" "$(sqlite3 "$WORK/raw_$s.db" 'SELECT count(*) FROM raw')"
    # Every field in its column: the last column is filled on every row.
    put "ceiling.sqlite_$s.full_rows" "$(sqlite3 "$WORK/raw_$s.db" "SELECT count(*) FROM raw WHERE \"$(head -1 "$file" | tr ';' '\n' | tail -1)\" IS NOT NULL AND \"$(head -1 "$file" | tr ';' '\n' | tail -1)\" <> ''")"
done
for s in small big; do
    file="$WORK/gen/members_$s.csv"
    rm -f "$WORK/rawm_$s.db"
    cols=$(head -1 "$file" | tr ';' '\n' | sed 's/.*/"&" TEXT/' | paste -sd, -)
    sqlite3 "$WORK/rawm_$s.db" "PRAGMA journal_mode=WAL; CREATE TABLE raw ($cols);" >/dev/null
    # `.import --csv` would reset the separator to a comma (each line then
    # lands in one column: a cheaper, wrong ceiling); `.mode csv` first,
    # then the file's separator.
    printf '.mode csv\n.separator ";"\nBEGIN;\n.import --skip 1 %s raw\nCOMMIT;\n' "$file" >"$WORK/rawm_$s.sql"
    timed "ceiling.sqlite_members_$s" 0 sqlite3 "$WORK/rawm_$s.db" ".read $WORK/rawm_$s.sql"
done

if has sqlite || has lheo; then
log "Passerelle on SQLite"
run_suite new "$BIN" 0
for s in small big; do
    put "new.formations_$s.rows" "$(sqlite3 "$WORK/db/new-formations-$s/passerelle.db" "SELECT count(*) FROM formations WHERE external_key LIKE 'bench-%'")"
    put "new.formations_$s.change_log" "$(sqlite3 "$WORK/db/new-formations-$s/passerelle.db" "SELECT count(*) FROM change_log WHERE entity = 'formation'")"
done
put new.formations_big.audit "$(sqlite3 "$WORK/db/new-formations-big/passerelle.db" "SELECT count(*) FROM audit_log WHERE action = 'import.formations'")"
fi

if has lheo; then
log "LHÉO: the imported catalogue exported as LHÉO 2.3, imported into a fresh database"
for s in small big; do
    DATABASE_URL="sqlite://$WORK/db/new-formations-$s/passerelle.db" /usr/bin/time -f '%e %M' -o "$WORK/runs/export_lheo_$s.time" \
        "$BIN" export lheo --campus demo >"$WORK/gen/lheo_$s.xml" 2>"$WORK/runs/export_lheo_$s.out"
    put "export_lheo_$s.seconds" "$(cut -d' ' -f1 "$WORK/runs/export_lheo_$s.time")"
    url=$(fresh_sqlite "new-lheo-$s")
    DATABASE_URL=$url "$BIN" import membres "$WORK/gen/membres.csv" --campus demo >/dev/null
    DATABASE_URL=$url timed "new.lheo_$s" 0 "$BIN" import lheo "$WORK/gen/lheo_$s.xml" --campus demo
    put "new.lheo_$s.offers" "$(grep -c '<formation numero=' "$WORK/gen/lheo_$s.xml" || true)"
    put "new.lheo_$s.mb" "$(du -m "$WORK/gen/lheo_$s.xml" | cut -f1)"
    if [ "$s" = big ]; then
        DATABASE_URL=$url timed "new.lheo_again_$s" 0 "$BIN" import lheo "$WORK/gen/lheo_$s.xml" --campus demo
    fi
done

fi

if [ -n "$BEFORE" ] && has before; then
    log "the same imports with $BEFORE (each bounded by $BEFORE_TIMEOUT s)"
    run_suite before "$BEFORE" "$BEFORE_TIMEOUT"
    for s in small big; do
        url=$(fresh_sqlite "before-lheo-$s")
        DATABASE_URL=$url "$BEFORE" import membres "$WORK/gen/membres.csv" --campus demo >/dev/null
        DATABASE_URL=$url timed "before.lheo_$s" "$BEFORE_TIMEOUT" "$BEFORE" import lheo "$WORK/gen/lheo_$s.xml" --campus demo
    done
fi
rm -rf "$WORK/db"/before-*

if has pg && [ "$PG" != 0 ] && command -v psql >/dev/null && pg_isready -q -h "$PGHOST" -p 5432 2>/dev/null; then
    log "PostgreSQL: the same formations imports, and psql \\copy of the same CSV"
    PGURL="postgres://postgres@$PGHOST:5432/$PGDB"
    export PASSERELLE_AUDIT_KEY_FILE="$WORK/pg-audit.key"
    put postgres "$(psql -h "$PGHOST" -U postgres -d postgres -Atc 'SHOW server_version')"
    pg_fresh() {
        psql -q -h "$PGHOST" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
        psql -q -h "$PGHOST" -U postgres -d postgres -c "CREATE DATABASE $PGDB" >/dev/null
        rm -f "$PASSERELLE_AUDIT_KEY_FILE"
        mkdir -p "$WORK/pgdata"
        DATABASE_URL=$PGURL "$BIN" demo --no-serve --data-dir "$WORK/pgdata" >/dev/null
        if [ "${1:-}" = members ]; then
            DATABASE_URL=$PGURL "$BIN" import membres "$WORK/gen/membres.csv" --campus demo >/dev/null
        fi
    }
    for s in small big; do
        file="$WORK/gen/formations_small.csv"
        [ "$s" = big ] && file="$WORK/gen/formations.csv"
        pg_fresh members
        DATABASE_URL=$PGURL timed "pg.formations_$s" 0 "$BIN" import formations "$file" --campus demo
        if [ "$s" = big ]; then
            DATABASE_URL=$PGURL timed "pg.formations_again_$s" 0 "$BIN" import formations "$file" --campus demo
        fi
        put "pg.formations_$s.rows" "$(psql -h "$PGHOST" -U postgres -d "$PGDB" -Atc "SELECT count(*) FROM formations WHERE external_key LIKE 'bench-%'")"
        cols=$(head -1 "$file" | tr ';' '\n' | sed 's/.*/"&" TEXT/' | paste -sd, -)
        psql -q -h "$PGHOST" -U postgres -d "$PGDB" -c "DROP TABLE IF EXISTS raw; CREATE TABLE raw ($cols)" >/dev/null
        timed "ceiling.pg_$s" 0 psql -q -h "$PGHOST" -U postgres -d "$PGDB" -v ON_ERROR_STOP=1 \
            -c "\\copy raw FROM '$file' WITH (FORMAT csv, HEADER true, DELIMITER ';')"
        put "ceiling.pg_$s.rows" "$(psql -h "$PGHOST" -U postgres -d "$PGDB" -Atc 'SELECT count(*) FROM raw')"
    done
    for s in small big; do
        pg_fresh
        DATABASE_URL=$PGURL timed "pg.members_siret_$s" 0 "$BIN" import membres "$WORK/gen/members_$s.csv" --campus demo
    done
    psql -q -h "$PGHOST" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
fi
rm -rf "$WORK/db" "$WORK"/raw*.db "$WORK"/rawm*.db
log "done: $FIG"
