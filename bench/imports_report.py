#!/usr/bin/env python3
"""Writes the « National-scale writes » section of BENCHMARKS.md from the
results of bench/imports.sh (bench/work/imports/figures.tsv), between the
markers <!-- imports:start --> and <!-- imports:end --> (inserted before
« ## Notes » the first time).

Usage: imports_report.py [--work bench/work/imports] [--out BENCHMARKS.md]
"""

import argparse
import os

START, END = "<!-- imports:start -->", "<!-- imports:end -->"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="bench/work/imports")
    ap.add_argument("--out", default="BENCHMARKS.md")
    a = ap.parse_args()
    fig = {}
    with open(os.path.join(a.work, "figures.tsv"), encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            fig[k] = v
    big, small = int(fig["big"]), int(fig["small"])
    size = {"small": small, "big": big}

    def secs(key):
        v = fig.get(f"{key}.seconds")
        if v is None:
            return None
        return v if v.startswith(">") else float(v)

    def rss(key):
        kb = fig.get(f"{key}.peak_rss_kb")
        return f"{int(kb) // 1024} MiB" if kb else ""

    def cell(key, rows):
        s = secs(key)
        if s is None:
            return "not run", None
        if isinstance(s, str):
            return f"killed after {s[1:]} s", None
        return f"**{s:.2f} s** ({rows / s:,.0f} rows/s)", rows / s

    def plain(key, rows):
        s = secs(key)
        if s is None:
            return "not run"
        if isinstance(s, str):
            return f"killed after {s[1:]} s (> {s[1:]} s)"
        return f"{s:.2f} s ({rows / s:,.0f} rows/s, peak RSS {rss(key)})"

    def busy(key):
        b, st = fig.get(f"{key}.busy_cores_before"), fig.get(f"{key}.steal_s")
        return f"{b} / {st} s" if b is not None else ""

    before = "before_bin" in fig
    lines = [
        START,
        "## 5. National-scale writes — `bench/imports.sh`",
        "",
        f"Separate run: {fig['date']}, commit `{fig['commit']}`, {fig['cpu']}, {fig['memory_gib']} GiB, "
        f"sqlite3 {fig['sqlite3']}{', ' + fig['postgres'] if 'postgres' in fig else ''}. Every import starts from "
        "a copy of the same database (reference data and the demo campus: `passerelle demo --no-serve`; for "
        "formations, the 3,000 generated providers imported first). Files from `bench/gen_catalogue.py` "
        f"(seed 20240601): {big:,} formations ({fig.get('formations_csv_mb', '?')} MB of CSV), the first "
        f"{small:,} of them for the small size; {big:,} members (and their first {small:,}), also without "
        "their SIRET so that each is found by name; the LHÉO file is what `passerelle export lheo` writes of "
        "the imported catalogue. Raw results in `bench/work/imports/`; this section is written by "
        "`bench/imports_report.py`. "
        + (f"« before » is `{fig['before_bin']}`, the build of the commit before this change, run in the same "
           "session on its own copy of the base database. " if before else "")
        + fig.get("runs_note", ""),
        "",
        "| import | rows | this change | peak RSS | before (same run) | ceiling (same run, same CSV) |",
        "|---|---|---|---|---|---|",
    ]
    linear = []
    for label, key, ceiling in [
        ("members, spreadsheet, by SIRET", "members_siret", "ceiling.sqlite_members"),
        ("members, spreadsheet, by name (no SIRET)", "members_name", None),
        ("formations, spreadsheet", "formations", "ceiling.sqlite"),
        ("formations, LHÉO 2.3", "lheo", None),
    ]:
        for s in ("small", "big"):
            rows = size[s]
            if key == "lheo":
                rows = int(fig.get(f"new.lheo_{s}.offers", rows) or rows)
            text, rate = cell(f"new.{key}_{s}", rows)
            ceil = ""
            if ceiling and secs(f"{ceiling}_{s}") is not None:
                c = secs(f"{ceiling}_{s}")
                ceil = f"`sqlite3 .import`: {c:.2f} s ({rows / c:,.0f} rows/s)"
                if rate:
                    ceil += f"; Passerelle at **{100 * rate / (rows / c):.0f} %** of it"
            lines.append(
                f"| {label} | {rows:,} | {text} | {rss(f'new.{key}_{s}')} | "
                f"{plain(f'before.{key}_{s}', rows) if before else ''} | {ceil} |"
            )
            linear.append((label, s, rate))
        if key in ("formations", "lheo"):
            rows = big if key == "formations" else int(fig.get("new.lheo_big.offers", big) or big)
            text, _ = cell(f"new.{key}_again_big", rows)
            lines.append(
                f"| {label}: the big file again (nothing changes) | {rows:,} | {text} | "
                f"{rss(f'new.{key}_again_big')} | {plain(f'before.{key}_again_big', rows) if before else ''} | |"
            )
    if "pg.formations_big.seconds" in fig:
        for s in ("small", "big"):
            rows = size[s]
            text, rate = cell(f"pg.formations_{s}", rows)
            c = secs(f"ceiling.pg_{s}")
            ceil = f"`psql \\copy`: {c:.2f} s ({rows / c:,.0f} rows/s)" if isinstance(c, float) else ""
            if rate and ceil:
                ceil += f"; Passerelle at **{100 * rate / (rows / c):.0f} %** of it"
            lines.append(f"| formations, spreadsheet, **PostgreSQL** | {rows:,} | {text} | "
                         f"{rss(f'pg.formations_{s}')} | | {ceil} |")
            linear.append(("formations, spreadsheet, PostgreSQL", s, rate))
        text, _ = cell("pg.formations_again_big", big)
        lines.append(f"| formations, PostgreSQL: the big file again | {big:,} | {text} | "
                     f"{rss('pg.formations_again_big')} | | |")
        for s in ("small", "big"):
            text, rate = cell(f"pg.members_siret_{s}", size[s])
            lines.append(f"| members by SIRET, **PostgreSQL** | {size[s]:,} | {text} | "
                         f"{rss(f'pg.members_siret_{s}')} | | |")
            linear.append(("members by SIRET, PostgreSQL", s, rate))

    lines += ["", "Linearity (target: the rate at the big size within 20 % of the rate at the small size):", "",
              "| import | rows/s small | rows/s big | big ÷ small | target |", "|---|---|---|---|---|"]
    by = {}
    for label, s, rate in linear:
        by.setdefault(label, {})[s] = rate
    for label, r in by.items():
        if r.get("small") and r.get("big"):
            q = r["big"] / r["small"]
            lines.append(f"| {label} | {r['small']:,.0f} | {r['big']:,.0f} | {q:.2f} | "
                         f"{'met' if q >= 0.8 else 'missed'} |")

    f_big, f_again = secs("new.formations_big"), secs("new.formations_again_big")
    c_big = secs("ceiling.sqlite_big")
    lines += ["", "Targets on SQLite:", "",
              "| target | measured | verdict |", "|---|---|---|"]
    if isinstance(f_big, float):
        lines.append(f"| {big:,} formations in ≤ 6 s | {f_big:.2f} s | {'met' if f_big <= 6 else 'missed'} |")
        if isinstance(c_big, float):
            pct = 100 * c_big / f_big
            lines.append(f"| ≥ 10 % of the `sqlite3 .import` ceiling of the same CSV | {pct:.0f} % "
                         f"({c_big:.2f} s against {f_big:.2f} s) | {'met' if pct >= 10 else 'missed'} |")
    if "ceiling.sqlite_big.full_rows" in fig:
        lines.append(f"| the ceiling really splits the CSV: rows with their last column filled | "
                     f"{int(fig['ceiling.sqlite_big.full_rows']):,} of {int(fig.get('ceiling.sqlite_big.rows', 0)):,} | |")
    if isinstance(f_again, float):
        lines.append(f"| re-import of the unchanged file ≤ 3 s | {f_again:.2f} s | "
                     f"{'met' if f_again <= 3 else 'missed'} |")
    lines.append(
        f"| every import one transaction, with its change-log entries and audit entry | "
        f"after the big import: {fig.get('new.formations_big.change_log', '?')} `formation` change-log entries "
        f"(200,000 + the demo's) and {fig.get('new.formations_big.audit', '?')} `import.formations` audit entries "
        "(the demo's and this import's); a refused file leaves neither (contract and CLI tests) | |")
    lines += [
        "",
        "Machine load: before each measurement the script waits (up to 2 min) for other processes to use less "
        "than a quarter of a core; other engineers' builds share this machine, so some measurements ran on "
        "a busy machine. Cores busy before each step and CPU stolen during it:",
        "",
        "<details><summary>per step</summary>",
        "",
        "| step | cores busy before / stolen |",
        "|---|---|",
    ]
    for k in sorted(x[: -len(".seconds")] for x in fig if x.endswith(".seconds")):
        lines.append(f"| `{k}` | {busy(k)} |")
    lines += ["", "</details>", END]
    block = "\n".join(lines)
    with open(a.out, encoding="utf-8") as f:
        doc = f.read()
    s, e = doc.find(START), doc.find(END)
    if s >= 0 and e > s:
        doc = doc[:s] + block + doc[e + len(END):]
    else:
        i = doc.find("## Notes")
        doc = doc[:i] + block + "\n\n" + doc[i:] if i >= 0 else doc + "\n" + block + "\n"
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
