"""Turn one run's results into `results.json`, `REPORT.md` and one PNG plot per benchmark.

The budgets are DESIGN.md's "Performance budgets"; each row says measured / budget and, when missed,
by how much. Plots need matplotlib (Agg backend, no display); without it the report says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _f(x: Any, nd: int = 1) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return str(x)


def budgets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Every budget with its measured figure, `ratio` = measured/budget (>1 misses a max budget)."""
    rows: list[dict[str, Any]] = []

    def add(name: str, budget: float, measured: float | None, unit: str, kind: str, how: str) -> None:
        ok = None if measured is None else (measured <= budget if kind == "max" else measured >= budget)
        ratio = None if measured is None else (measured / budget if kind == "max" else budget / measured)
        rows.append(
            {
                "budget": name,
                "limit": budget,
                "measured": measured,
                "unit": unit,
                "met": ok,
                "miss_factor": None if ok or ratio is None else ratio,
                "how": how,
            }
        )

    op = r.get("order_path")
    if op:
        est = op["estimate_in_host_us"]
        add(
            "intent -> signed frame on socket, p50",
            50,
            est["p50"],
            "µs",
            "max",
            "outside-in less WS floor less half a native ping (estimate)",
        )
        add(
            "intent -> signed frame on socket, p99",
            250,
            est["p99"],
            "µs",
            "max",
            "outside-in less WS floor less half a native ping (estimate)",
        )
    rt = r.get("roundtrip")
    if rt:
        add(
            "intent -> exchange ack pushed to the extension, p50",
            1.0,
            rt["latency_ms"]["sidedesk host (native in -> ack out)"]["p50"],
            "ms",
            "max",
            "stdin frame -> stdout reply, loopback simulator",
        )
    tk = r.get("ticks")
    if tk:
        rate = tk["ticks_per_s"]["spread/10"]["production (orjson for market frames)"]
        add(
            "mark-price tick -> parsed, P&L, ASL (ticks/s, one core)",
            100_000,
            rate,
            "ticks/s",
            "min",
            "production pipeline, 10 positions on 10 symbols",
        )
    su = r.get("startup")
    if su:
        frozen = su.get("frozen")
        src = frozen or su["source"]
        label = "frozen" if frozen else "source (no frozen build)"
        add(
            f"host start -> ready reply ({label}), p50",
            150,
            src["hello_ms"]["p50"],
            "ms",
            "max",
            "process start -> hello reply over the pipes",
        )
        add(f"idle RSS ({label})", 60, src["idle_rss_mib"], "MiB", "max", "VmRSS 0.5 s after hello")
    px = r.get("proxy")
    if px:
        frozen = px.get("frozen")
        label = f"frozen {px.get('frozen_exe', '')}".strip() if frozen else "source (no frozen build)"
        start = (frozen or px["source"])["first_reply_ms"]["p50"]
        add(f"proxy start -> first reply ({label}), p50", 60, start, "ms", "max", "service already running")
        rss = (frozen or px["source"])["idle_rss_mib"]
        add(f"proxy idle RSS ({label})", 20, rss, "MiB", "max", "VmRSS 0.5 s after its first reply")
        add(
            "proxy hop added per direction, p50",
            50,
            px["added_per_direction_us"]["p50"],
            "µs",
            "max",
            "half the ping round trip through proxy + service less the in-process host's",
        )
    ui = r.get("ui_load")
    if ui and "max_pushes_per_s_any_topic" in ui:
        add(
            f"UI pushes per topic at {ui['rate_asked']:,} ticks/s",
            10,
            ui["max_pushes_per_s_any_topic"],
            "pushes/s",
            "max",
            "busiest topic on the host's stdout",
        )
    return rows


def markdown(r: dict[str, Any], plots: dict[str, str]) -> str:
    m = r["machine"]
    out = [
        "# Sidedesk benchmarks",
        "",
        f"Mode: **{r['mode']}** · {r['started']} · {r['elapsed_s']:.0f} s · command: `{r['command']}`",
        "",
        f"Machine: {m['cpu']} ({m['cpus']} CPUs), {m['memory_mib']} MiB, {m['platform']}, "
        f"Python {m['python']}; commit {m['commit']}; load average at start {m.get('load_average_1m')}.",
        "Packages: "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
        + f", official SDK {m['official_sdk']}.",
        "",
        "All figures come from this one run on this machine; peers ran against the same simulator "
        "process. Latencies are medians (p50) unless marked.",
        "",
        "## Budgets (DESIGN.md)",
        "",
        "| Budget | Limit | Measured | Met | Miss | How |",
        "|---|---|---|---|---|---|",
    ]
    for b in r["budgets"]:
        miss = "" if b["miss_factor"] is None else f"{b['miss_factor']:.1f}x"
        met = {True: "yes", False: "**no**", None: "n/a"}[b["met"]]
        out.append(
            f"| {b['budget']} | {_f(float(b['limit']), 0)} {b['unit']} | {_f(b['measured'])} {b['unit']} "
            f"| {met} | {miss} | {b['how']} |"
        )
    op = r.get("order_path")
    if op:
        out += [
            "",
            "## 1. Order path inside the host",
            "",
            f"![order path]({plots.get('order_path', '')})",
            "",
        ]
        out += ["| View | n | p50 µs | p99 µs | p99.9 µs |", "|---|---|---|---|---|"]
        views = (
            ("outside-in: stdin write -> signed frame at the simulator", op["intent_to_socket_us"]),
            ("host-reported host_us (place_ticket -> frame to the ws socket)", op["host_reported_us"]),
            ("floor: bare websockets send -> simulator stamp", op["floor_us"]),
            ("native ping round trip (both pipe hops)", op["native_ping_rtt_us"]),
        )
        for name, s in views:
            out.append(
                f"| {name} | {s['n']} | {_f(s.get('p50'))} | {_f(s.get('p99'))} | {_f(s.get('p99.9'))} |"
            )
        if op.get("intent_to_socket_asl_on_us"):
            s = op["intent_to_socket_asl_on_us"]
            out.append(
                f"| outside-in, ASL on | {s['n']} | {_f(s['p50'])} | {_f(s['p99'])} | {_f(s['p99.9'])} |"
            )
        est = op["estimate_in_host_us"]
        out += [
            "",
            f"{op['orders']:,} orders at {op['orders_per_s']:,.0f}/s; "
            f"in-host estimate p50 {_f(est['p50'])} µs, "
            f"p99 {_f(est['p99'])} µs.",
            "",
            "Breakdown: the host's own functions called in-process (µs):",
            "",
            "| Stage | p50 | p99 |",
            "|---|---|---|",
        ]
        bd = op["breakdown"]
        for group in ("intent", "ack", "detail"):
            for name, s in bd[group].items():
                out.append(f"| {group}: {name} | {_f(s['p50'], 2)} | {_f(s['p99'], 2)} |")
        out.append(f"| **intent path sum of p50** | **{_f(bd['intent_sum_p50_us'], 1)}** | |")
        out.append(f"| **ack path sum of p50** | **{_f(bd['ack_sum_p50_us'], 1)}** | |")
        prof = op.get("profile", {})
        if "by_cumulative_time" in prof:
            out += [
                "",
                f"Hot spots, cProfile of the host over {prof['ops']} orders (µs per order, "
                "inflated by the profiler; functions called at least every other order):",
                "",
                "| Function | Where | calls/order | own µs | cumulative µs |",
                "|---|---|---|---|---|",
            ]
            seen = set()
            for row in prof["by_own_time"][:8] + prof["by_cumulative_time"][:8]:
                if row["where"] in seen:
                    continue
                seen.add(row["where"])
                out.append(
                    f"| {row['function']} | {row['where']} | {row['calls_per_op']:.1f} | "
                    f"{row['own_us_per_op']:.0f} | {row['cum_us_per_op']:.0f} |"
                )
    rt = r.get("roundtrip")
    if rt:
        out += [
            "",
            "## 2. Round trip against the loopback simulator",
            "",
            f"![round trip]({plots.get('roundtrip', '')})",
            "",
            "| Client | n | p50 ms | p99 ms | p99.9 ms | p50 / host p50 |",
            "|---|---|---|---|---|---|",
        ]
        for name, s in rt["latency_ms"].items():
            out.append(
                f"| {name} | {s['n']} | {_f(s['p50'], 3)} | {_f(s['p99'], 3)} | {_f(s['p99.9'], 3)} | "
                f"{rt['peer_p50_over_host_p50'][name]:.2f} |"
            )
        for name, err in rt.get("errors", {}).items():
            out.append(f"\n{name} could not run: {err}")
    tk = r.get("ticks")
    if tk:
        out += ["", "## 3. Tick throughput (one core)", "", f"![ticks]({plots.get('ticks', '')})", ""]
        out += ["Ticks per CPU-second of the benchmark thread (robust to other load on the machine):", ""]
        variants = list(next(iter(tk["ticks_per_s"].values())))
        out += ["| Positions | " + " | ".join(variants) + " |", "|---" * (len(variants) + 1) + "|"]
        for cfg, row in tk["ticks_per_s"].items():
            out.append(f"| {cfg} | " + " | ".join(f"{row[v]:,.0f}" for v in variants) + " |")
        out += [
            "",
            "Speed-up over `json` (median over configurations): "
            + ", ".join(f"{k} {v:.2f}x" for k, v in tk["speedup_vs_json_median"].items()),
            "",
            "Per-stage cost (CPU ns per tick, 10 positions): "
            + ", ".join(f"{k} {v:,.0f}" for k, v in tk["stage_ns_per_tick"].items()),
            "",
            "Over a loopback websocket (parse + book + ASL per frame, per CPU-second): "
            + ", ".join(f"{k} {v:,.0f} ticks/s" for k, v in tk["loopback_ws_ticks_per_s"].items())
            + f"; uvloop/asyncio = {tk['uvloop_over_asyncio']:.2f}x.",
        ]
    ui = r.get("ui_load")
    if ui:
        out += ["", "## 4. UI load", "", f"![ui load]({plots.get('ui_load', '')})", ""]
        if "error" in ui:
            out.append(ui["error"])
        else:
            d, b = ui["tick_to_push_ms"], ui["ticks_behind_newest_at_push"]
            out += [
                f"{ui['ticks_sent']:,} ticks at {ui['rate_achieved']:,.0f}/s (asked {ui['rate_asked']:,}). "
                "Pushes/s: " + ", ".join(f"{k} {v:.1f}" for k, v in ui["pushes_per_s"].items()) + ".",
                f"Tick -> first push showing it: p50 {_f(d.get('p50'), 2)} ms, p99 {_f(d.get('p99'), 2)} ms "
                f"(n={d['n']}); a push is p50 {_f(b.get('p50'), 0)} / max {_f(b.get('max'), 0)} ticks behind "
                f"the newest; last tick shown {ui['last_tick_shown']:,} of {ui['ticks_sent']:,}; host CPU "
                f"{_f(ui['host_cpu_pct'])} %; "
                f"RSS loaded {_f((ui['host_rss_mib_loaded'] or {}).get('rss'))} MiB.",
            ]
    mem = r.get("memory")
    if mem and "mib_per_hour_of_real_load" in mem:
        out += [
            "",
            "## 6. Memory over a long run",
            "",
            f"{mem['cycles']:,} order cycles (a far limit order, then cancel-all) with {mem['tick_rate']:,} "
            f"mark ticks/s: RSS {_f(mem['rss_mib_start'])} -> {_f(mem['rss_mib_end'])} MiB, "
            f"{mem['mib_per_1000_cycles']} MiB per 1 000 cycles, about "
            f"{mem['mib_per_hour_of_real_load']} MiB per hour of the real load (a cycle every 2 s).",
        ]
    su = r.get("startup")
    if su:
        out += [
            "",
            "## 5. Start-up and memory",
            "",
            f"![startup]({plots.get('startup', '')})",
            "",
            "| Process | start -> ready p50 ms | p99 ms | RSS MiB |",
            "|---|---|---|---|",
        ]
        for name in ("source", "frozen"):
            s = su.get(name)
            if s:
                h = s["hello_ms"]
                out.append(
                    f"| host ({name}) -> hello | {_f(h['p50'])} | {_f(h['p99'])} | "
                    f"{_f(s['idle_rss_mib'])} idle |"
                )
        for name, s in su["peers"].items():
            w = s["wall_ms"]
            out.append(f"| {name} | {_f(w['p50'])} | {_f(w['p99'])} | {_f(s['peak_rss_mib'])} peak |")
        if su.get("frozen_note"):
            out.append(f"\n{su['frozen_note']}.")
        if su.get("imports"):
            out += [
                "",
                "Largest imports before `hello` (`-X importtime`, cumulative, inflated by the "
                "instrumentation): "
                + ", ".join(f"{i['module']} {i['cum_ms']:.0f} ms" for i in su["imports"][:6]),
            ]
        if r.get("loaded_rss_mib"):
            out.append(
                f"\nHost RSS after the order and tick load: {_f(r['loaded_rss_mib'].get('rss'))} MiB "
                f"(peak {_f(r['loaded_rss_mib'].get('peak'))} MiB)."
            )
    px = r.get("proxy")
    if px:
        rt = px["ping_rtt_us"]
        out += [
            "",
            "## 7. The proxy hop (`sidedesk native` -> `sidedesk service`)",
            "",
            "| | p50 | p99 | idle RSS MiB |",
            "|---|---|---|---|",
        ]
        for name in ("source", "frozen"):
            s = px.get(name)
            if s:
                f = s["first_reply_ms"]
                out.append(
                    f"| proxy start -> first reply ({name}), ms | {_f(f['p50'])} | {_f(f['p99'])} | "
                    f"{_f(s['idle_rss_mib'])} |"
                )
        bare = px.get("python -c pass")
        if bare:
            w = bare["wall_ms"]
            out.append(f"| python -c pass (the interpreter alone), ms | {_f(w['p50'])} | {_f(w['p99'])} | |")
        for name, s in rt.items():
            out.append(f"| ping round trip, {name}, µs | {_f(s['p50'])} | {_f(s['p99'])} | |")
        added = px["added_per_direction_us"]
        out += [
            "",
            f"Added per direction: p50 {_f(added['p50'])} µs, p99 {_f(added['p99'])} µs; proxied over "
            f"in-process round trip at p50: {_f(px['proxy_over_direct_p50'], 2)}x. The service's own "
            f"idle RSS: {_f(px.get('service_idle_rss_mib'))} MiB. CPU time of a proxy's start (source): "
            f"{_f(px['source'].get('start_cpu_ms'))} ms."
            + (f" {px['frozen_note']}." if px.get("frozen_note") else ""),
        ]
    if r.get("errors"):
        out += ["", "## Benchmarks that failed", ""] + [f"- {k}: {v}" for k, v in r["errors"].items()]
    return "\n".join(out) + "\n"


def plots(r: dict[str, Any], out: Path) -> dict[str, str]:
    """One PNG per benchmark; {} if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    made: dict[str, str] = {}

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=90)
        plt.close(fig)
        made[name] = f"{name}.png"

    op = r.get("order_path")
    if op:
        fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
        for label, key in (("outside-in", "intent_to_socket_us"), ("host_us", "host_reported_us")):
            xs = sorted(op.get("samples", {}).get(key, []))
            if xs:
                a.plot(xs, [i / len(xs) for i in range(len(xs))], label=label)
        a.axvline(50, color="g", ls="--", label="budget p50 50 µs")
        a.axvline(250, color="r", ls="--", label="budget p99 250 µs")
        a.set_xscale("log")
        a.set(xlabel="µs", ylabel="fraction of orders", title="intent -> signed frame on socket (CDF)")
        a.legend()
        names = list(op["breakdown"]["intent"])
        b.barh(names, [op["breakdown"]["intent"][n]["p50"] for n in names])
        b.invert_yaxis()
        b.set(xlabel="µs (p50)", title="intent path breakdown (in-process)")
        save(fig, "order_path")
    rt = r.get("roundtrip")
    if rt:
        fig, ax = plt.subplots(figsize=(11, 4.5))
        names = list(rt["latency_ms"])
        p50 = [rt["latency_ms"][n]["p50"] for n in names]
        p99 = [rt["latency_ms"][n]["p99"] for n in names]
        ax.barh(names, p50, label="p50")
        ax.scatter(p99, names, color="k", marker="|", s=200, label="p99")
        ax.axvline(1.0, color="r", ls="--", label="budget p50 1 ms")
        ax.set_xscale("log")
        ax.invert_yaxis()
        ax.set(xlabel="ms", title="order round trip, loopback simulator")
        ax.legend()
        save(fig, "roundtrip")
    tk = r.get("ticks")
    if tk:
        fig, ax = plt.subplots(figsize=(11, 4.5))
        cfgs = list(tk["ticks_per_s"])
        variants = list(tk["ticks_per_s"][cfgs[0]])
        w = 0.8 / len(variants)
        for i, v in enumerate(variants):
            ax.bar([j + i * w for j in range(len(cfgs))], [tk["ticks_per_s"][c][v] for c in cfgs], w, label=v)
        ax.axhline(100_000, color="r", ls="--", label="budget 100 000/s")
        ax.set_xticks([j + 0.4 - w / 2 for j in range(len(cfgs))], cfgs)
        ax.set(ylabel="ticks per CPU-second", title="parse -> P&L -> ASL, one core (layout/positions)")
        ax.legend(fontsize=8)
        save(fig, "ticks")
    ui = r.get("ui_load")
    if ui and "pushes_per_s" in ui:
        fig, ax = plt.subplots(figsize=(8, 4))
        topics = list(ui["pushes_per_s"])
        ax.bar(topics, [ui["pushes_per_s"][t] for t in topics])
        ax.axhline(10, color="r", ls="--", label="budget 10/s")
        ax.set(ylabel="pushes/s", title=f"pushes per topic at {ui['rate_achieved']:,.0f} ticks/s")
        ax.legend()
        save(fig, "ui_load")
    su = r.get("startup")
    if su:
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
        rows = [
            (f"host {k}", su[k]["hello_ms"]["p50"], su[k]["idle_rss_mib"])
            for k in ("source", "frozen")
            if su.get(k)
        ]
        rows += [
            (k.replace("python -c ", ""), v["wall_ms"]["p50"], v["peak_rss_mib"])
            for k, v in su["peers"].items()
        ]
        a.barh([x[0] for x in rows], [x[1] for x in rows])
        a.axvline(150, color="r", ls="--", label="budget 150 ms (frozen)")
        a.set(xlabel="ms to ready", title="start-up")
        a.legend()
        b.barh([x[0] for x in rows], [x[2] or 0 for x in rows])
        b.axvline(60, color="r", ls="--", label="budget 60 MB idle")
        b.set(xlabel="MiB", title="memory (host idle RSS; peers peak RSS)")
        b.legend()
        for ax in (a, b):
            ax.invert_yaxis()
        save(fig, "startup")
    return made


def write(r: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    r["budgets"] = budgets(r)
    made = plots(r, out)
    r["plots"] = made
    # raw samples feed the plots; the JSON keeps the summaries (it stays small and diffable)
    slim = json.loads(json.dumps(r, default=str))
    for key in ("order_path", "roundtrip"):
        if isinstance(slim.get(key), dict):
            slim[key].pop("samples", None)
    (out / "results.json").write_text(json.dumps(slim, indent=1), encoding="utf-8")
    (out / "REPORT.md").write_text(markdown(r, made), encoding="utf-8")
