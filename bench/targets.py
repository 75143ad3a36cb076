#!/usr/bin/env python3
"""Print the Go-vs-Node targets table (markdown) from harness result JSONs.

    python3 bench/targets.py [--all] [--who go] results/a.json [results/b.json ...]

The first server of each run is the baseline (node); --who names the server
to check (default "go"). Ratios are the harness's per-rep ratios
(server/baseline within the same rep) and their median, as in its table.
With several files, a scenario is taken from the last file that has it (to
complete a run with a separate invocation for some scenarios; each ratio
still comes from one invocation). --all also prints every metric.
"""
import json
import statistics
import sys


def row(rows, scen, metric):
    for r in rows:
        if r["scenario"] == scen and r["metric"] == metric:
            return r
    return None


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if x == 0:
        return "0"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.2f}"


def load(paths):
    rows, derived, base = [], [], None
    for path in paths:
        d = json.load(open(path))
        base = d["meta"]["servers"][0]["name"]
        scen = {r["scenario"] for r in d["summary"]["rows"]}
        rows = [r for r in rows if r["scenario"] not in scen] + d["summary"]["rows"]
        if d["summary"]["derived"]:
            derived = d["summary"]["derived"]
    return rows, derived, base


def table(rows, base):
    names = list(rows[0]["servers"].keys())
    print("| scen | metric | " + " | ".join(f"{n} median [min..max]" for n in names) + " | "
          + " | ".join(f"{n}/{base} per rep (median)" for n in names[1:]) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " | " + " | ".join("---" for _ in names[1:]) + " |")
    for r in rows:
        cells = []
        for n in names:
            v = r["servers"].get(n)
            cells.append(f"{fmt(v['median'])} [{fmt(v['min'])}..{fmt(v['max'])}] n={v['n']}" if v else "-")
        ratios = []
        for n in names[1:]:
            rv = (r["servers"].get(n) or {}).get("ratioVsFirst")
            if not rv or rv.get("median") is None:
                ratios.append("")
                continue
            vals = ", ".join("-" if x is None else f"{x:.3f}" for x in rv["values"])
            ratios.append(f"{vals} (**{rv['median']:.3f}**)")
        print(f"| {r['scenario']} | {r['metric']} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


def main():
    args = sys.argv[1:]
    who, show_all, paths = "go", False, []
    while args:
        a = args.pop(0)
        if a == "--who":
            who = args.pop(0)
        elif a == "--all":
            show_all = True
        else:
            paths.append(a)
    rows, derived, base = load(paths)
    if show_all:
        table(rows, base)
        print()
    # Issue 14's throughput goals and issue 19's moderate-load, fetchSockets
    # and memory goals (S3L at 20 and 500 broadcasts/s held to S3L's).
    targets = [
        ("S2", "server CPU us/delivery", "<=", 0.33),
        ("S2", "delivered msg/s", ">=", 1.8),
        ("S3L", "server CPU us/delivery", "<=", 0.5),
        ("S3L", "latency p99 ms", "<=", 0.5),
        ("S3L20", "server CPU us/delivery", "<=", 0.5),
        ("S3L20", "latency p99 ms", "<=", 0.5),
        ("S3L@raw", "server CPU us/delivery", "<=", 0.5),
        ("S3L500@raw", "server CPU us/delivery", "<=", 0.5),
        ("S3", "delivered msg/s", ">=", 1.5),
        ("S4", "delivered msg/s", ">=", 1.5),
        ("S6", "ms/call mean", "<=", 0.5),
        ("S7", "KB/conn (delta)", "<=", 0.7),
    ]
    print(f"| target | {base} median [min..max] | {who} median [min..max] | {who}/{base} per rep | median | goal | met |")
    print("| --- | --- | --- | --- | ---: | --- | --- |")
    for scen, metric, op, goal in targets:
        r = row(rows, scen, metric)
        if r is None or who not in r["servers"]:
            continue  # not in these runs
        b, s = r["servers"][base], r["servers"][who]
        ratio = s.get("ratioVsFirst") or {}
        med = ratio.get("median")
        if med is None:
            continue
        reps = ", ".join("-" if v is None else f"{v:.3f}" for v in ratio.get("values", []))
        ok = med is not None and (med <= goal if op == "<=" else med >= goal)
        extra = ""
        if scen in ("S3", "S4") and metric == "delivered msg/s":
            loss = row(rows, scen, "loss %")["servers"][who]
            extra = f" (loss {fmt(loss['median'])} %)"
            ok = ok and loss["max"] == 0
        print(f"| {scen} {metric} | {fmt(b['median'])} [{fmt(b['min'])}..{fmt(b['max'])}] | "
              f"{fmt(s['median'])} [{fmt(s['min'])}..{fmt(s['max'])}]{extra} | {reps} | "
              f"**{med:.3f}** | {op} {goal} | {'yes' if ok else 'no'} |")
    # S5R/S5: the adapter's own overhead on one node (derived by the harness).
    for dv in derived:
        if dv["server"] in (base, who) and dv["metric"].startswith("S5R/S5 server CPU"):
            vals = ", ".join(f"{v:.3f}" for v in dv["values"])
            goal = " | <= 1.05 | " + ("yes" if dv["median"] <= 1.05 else "no") if dv["server"] == who else " | (reference) | "
            print(f"| S5R/S5 server CPU us/delivery ({dv['server']}) | | | {vals} | **{dv['median']:.3f}**{goal} |")


if __name__ == "__main__":
    main()
