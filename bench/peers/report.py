#!/usr/bin/python3
"""Folds the peer comparisons into one markdown table and a JSON copy.

Inputs: JSON-lines files from torch_peers, dendrite_peers hand and pytorch_peers.py, and
optionally gemm_bench's JSON output (--gemm). Ratios are always ours/peer in speed: above 1 means
ours is faster.
"""

import argparse
import datetime
import json
import re

# The nominal FMA peak of one core in single precision (AVX-512 at the base clock).
PEAK_FLOPS_PER_CORE = 171e9
MLP_FLOPS_PER_SAMPLE = 2.0 * (784 * 256 + 256 * 128 + 128 * 10) * 2 + 2.0 * (256 * 128 + 128 * 10)

ORDER_LSTM = "LSTM LM step (emb 64, hidden 256, batch 32, seq 64)"
ORDER_TRANSFORMER = "Transformer block LM step (d 128, 4 heads, FF 512, batch 32, ctx 64)"
ORDER = ["MLP 784-256-128-10 step", "MLP Hessian-vector product", "MLP epoch", "LeNet-5 step",
         ORDER_LSTM, ORDER_TRANSFORMER, "activation fwd+bwd", "XOR 2-8-1 step", "sgemm"]
PEER_ORDER = ["LibTorch", "PyTorch", "hand-written", "OpenBLAS"]


def size_key(text):
    numbers = [float(n) for n in re.findall(r"[\d.]+", text)]
    scale = 1 << 20 if "M" in text else 1
    return numbers[0] * scale if numbers else 0


def human_rate(v):
    return f"{v / 1e3:.1f}k" if v >= 1e3 else f"{v:.0f}"


def human_time(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def rows_from_lines(paths):
    rows, info = [], []
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                d = json.loads(line)
                if "info" in d:
                    info.append(d)
                    continue
                work = d["work"]
                row = dict(d)
                row["ratio"] = d["peer_s"] / d["ours_s"]
                if work:
                    row["unit"] = "samples/s"
                    row["ours_value"], row["peer_value"] = work / d["ours_s"], work / d["peer_s"]
                    row["ours_text"] = human_rate(row["ours_value"]) + " samples/s"
                    row["peer_text"] = human_rate(row["peer_value"]) + " samples/s"
                else:
                    row["unit"] = "s"
                    row["ours_value"], row["peer_value"] = d["ours_s"], d["peer_s"]
                    row["ours_text"], row["peer_text"] = human_time(d["ours_s"]), human_time(d["peer_s"])
                rows.append(row)
    return rows, info


def rows_from_gemm(path, peer_name):
    with open(path) as f:
        data = json.load(f)
    found = {}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") != "median":
            continue
        m = re.match(r"sgemm/(ours|openblas)/n:(\d+)/threads:(\d+)", b["run_name"])
        if m:
            found.setdefault((int(m.group(2)), int(m.group(3))), {})[m.group(1)] = b["GFLOP/s"]
    rows = []
    for (n, threads), v in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if "ours" not in v or "openblas" not in v:
            continue
        rows.append({
            "workload": "sgemm", "threads": threads, "size": f"n = {n}", "unit": "GFLOP/s",
            "ours_value": v["ours"], "peer_value": v["openblas"], "ratio": v["ours"] / v["openblas"],
            "ours_text": f"{v['ours']:.0f} GFLOP/s", "peer_text": f"{v['openblas']:.0f} GFLOP/s",
            "peer_family": "OpenBLAS", "peer": peer_name, "note": "",
        })
    return rows


def sort_key(row):
    w = ORDER.index(row["workload"]) if row["workload"] in ORDER else len(ORDER)
    p = next((i for i, f in enumerate(PEER_ORDER) if row["peer_family"].startswith(f)), len(PEER_ORDER))
    return (w, row["threads"], size_key(row["size"]), p)


def find(rows, workload, threads, size, family):
    for r in rows:
        if r["workload"] == workload and r["threads"] == threads and r["size"] == size and r["peer_family"] == family:
            return r
    return None


def verdict(ok):
    return "**met**" if ok else "**missed**"


def targets(rows):
    """The performance targets (ratios ours/peer), each with what this run measured."""
    lines = []
    mlp_targets = {"batch 32": 3.0, "batch 128": 1.5, "batch 512": 1.25}
    for threads in sorted({r["threads"] for r in rows if r["workload"] == ORDER[0]}):
        for size, goal in mlp_targets.items():
            peers = [r for r in (find(rows, ORDER[0], threads, size, f) for f in ("LibTorch", "PyTorch")) if r]
            if not peers:
                continue
            fastest = min(peers, key=lambda r: r["ratio"])
            lines.append(f"- MLP step, {size}, {threads} thread(s): {fastest['ratio']:.2f}x the faster peer "
                         f"({fastest['peer_family']}), target >= {goal}x: {verdict(fastest['ratio'] >= goal)}")
        r512 = [r for r in rows if r["workload"] == ORDER[0] and r["threads"] == threads and r["size"] == "batch 512"]
        if r512:
            # Each pairing measures ours afresh: the slowest and the fastest of those measurements.
            rates = sorted(r["ours_value"] for r in r512)
            gflops = [rate * MLP_FLOPS_PER_SAMPLE / 1e9 for rate in (rates[0], rates[-1])]
            spread = f"{gflops[0]:.0f}" if len(rates) == 1 else f"{gflops[0]:.0f}-{gflops[1]:.0f}"
            text = (f"- MLP step, batch 512, {threads} thread(s): ours at {spread} GFLOP/s "
                    f"({MLP_FLOPS_PER_SAMPLE / 1e6:.2f} MFLOP per sample) = "
                    f"{gflops[0] / (PEAK_FLOPS_PER_CORE * threads / 1e9) * 100:.0f}-"
                    f"{gflops[1] / (PEAK_FLOPS_PER_CORE * threads / 1e9) * 100:.0f}% of the nominal FMA peak "
                    f"({PEAK_FLOPS_PER_CORE / 1e9:.0f} GFLOP/s per core)")
            sgemm = [r["ours_value"] for r in rows if r["workload"] == "sgemm" and r["threads"] == threads]
            if sgemm:
                text += (f", {gflops[0] / max(sgemm) * 100:.0f}-{gflops[1] / max(sgemm) * 100:.0f}% of our best "
                         f"square sgemm in this run ({max(sgemm):.0f} GFLOP/s; the clock varies with load)")
            lines.append(text)
    epoch_sizes = sorted({r["size"] for r in rows if r["workload"] == "MLP epoch"}, key=size_key)
    for threads in sorted({r["threads"] for r in rows if r["workload"] == "MLP epoch"}):
        for size in epoch_sizes:
            epochs = [r for r in rows if r["workload"] == "MLP epoch" and r["threads"] == threads
                      and r["size"] == size]
            if not epochs:
                continue
            fastest = min(epochs, key=lambda r: r["ratio"])
            text = (f"- MLP epoch, {size}, {threads} thread(s): {fastest['ratio']:.2f}x the faster peer "
                    f"({fastest['peer_family']})")
            steps = [r["ours_value"] for r in rows if r["workload"] == ORDER[0] and r["threads"] == threads
                     and r["size"] == size]
            if steps:
                # Medians of separate comparisons minutes apart: bench/train_bench interleaves the two.
                loop = min(r["ours_value"] for r in epochs) / max(steps)
                text += (f"; train::fit at {loop:.2f}-{max(r['ours_value'] for r in epochs) / min(steps):.2f} "
                         f"of our bare step's rate on a fixed batch (target >= 0.95)")
            lines.append(text)
    for threads, goal in ((1, 2.0), (2, 3.5)):
        r = find(rows, "LeNet-5 step", threads, "batch 128", "PyTorch")
        if r:
            lines.append(f"- LeNet step, {threads} thread(s): {r['ratio']:.2f}x PyTorch, target >= {goal}x: "
                         f"{verdict(r['ratio'] >= goal)}")
    for size in ("1M floats", "16M floats"):
        for threads in (1, 2):
            h = find(rows, "activation fwd+bwd", threads, size, "hand-written")
            p = find(rows, "activation fwd+bwd", threads, size, "PyTorch")
            if h:
                lines.append(f"- activation, {size}, {threads} thread(s): {h['ratio']:.2f} of the hand-written "
                             f"loop's speed, target >= 0.9: {verdict(h['ratio'] >= 0.9)}")
            if p:
                lines.append(f"- activation, {size}, {threads} thread(s): {p['ratio']:.1f}x PyTorch eager, "
                             f"target >= 8x: {verdict(p['ratio'] >= 8)}")
    for workload, name in ((ORDER_LSTM, "LSTM LM step"), (ORDER_TRANSFORMER, "Transformer LM step")):
        for threads, goal in ((1, 1.5), (2, 2.0)):
            peers = [r for r in (find(rows, workload, threads, "batch 32", f) for f in ("LibTorch", "PyTorch")) if r]
            if peers:
                fastest = min(peers, key=lambda r: r["ratio"])
                lines.append(f"- {name}, {threads} thread(s): {fastest['ratio']:.2f}x the faster peer "
                             f"({fastest['peer_family']}), target >= {goal}x: {verdict(fastest['ratio'] >= goal)}")
    h = find(rows, "XOR 2-8-1 step", 1, "batch 4", "hand-written")
    if h:
        lines.append(f"- XOR step: {1 / h['ratio']:.1f}x the hand-written time, target <= 3x: "
                     f"{verdict(1 / h['ratio'] <= 3)}")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("lines", nargs="*", help="JSON-lines files")
    p.add_argument("--gemm", help="gemm_bench --benchmark_out JSON")
    p.add_argument("--gemm-log", help="gemm_bench's console output (its first line names OpenBLAS's core)")
    p.add_argument("--command", default="bench/run-peers")
    p.add_argument("--load-start", help="the load average when the measurements began")
    p.add_argument("--json-out", help="where to write the machine-readable copy")
    args = p.parse_args()

    rows, info = rows_from_lines(args.lines)
    if args.gemm:
        peer_name = "OpenBLAS (gemm_bench)"
        if args.gemm_log:
            with open(args.gemm_log) as f:
                for line in f:
                    m = re.match(r"OpenBLAS core: (\S+) \(config: OpenBLAS (\S+)", line)
                    if m:
                        peer_name = f"OpenBLAS {m.group(2)} {m.group(1)} (gemm_bench)"
                        info.append({"info": "gemm_bench", "openblas_core": m.group(1)})
        rows += rows_from_gemm(args.gemm, peer_name)
    rows.sort(key=sort_key)

    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = open("/proc/cpuinfo").read().count("processor\t:")
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    cores_used = sorted({i.get("openblas_core") for i in info if i.get("openblas_core")})
    versions = sorted({v for i in info for k, v in i.items() if k in ("libtorch", "pytorch")})
    notes = sorted({(r["workload"], r["note"]) for r in rows if r.get("note")},
                   key=lambda wn: (ORDER.index(wn[0]) if wn[0] in ORDER else len(ORDER), wn[1]))

    with open("/proc/loadavg") as f:
        load_end = " ".join(f.read().split()[:3])
    load = (f"load average {args.load_start} at the start, {load_end} at the end" if args.load_start
            else f"load average {load_end} at the end")
    out = []
    out.append(f"Measured {date} on {cpu} ({cores} logical CPUs; {load}), with `{args.command}`.")
    out.append(f"OpenBLAS core in use: {', '.join(cores_used) or 'n/a'}; torch {', '.join(versions) or 'n/a'}. "
               "Medians of interleaved blocks (ours, peer, ours, peer ...); ratio = ours/peer in speed "
               "(> 1: ours faster). On 2 threads the peer runs both ways of splitting its two pools and the "
               "faster is shown.")
    out.append("")
    out.append("| workload | threads | batch/size | ours | peer | peer name | ratio (ours/peer) |")
    out.append("|---|---:|---|---:|---:|---|---:|")
    for r in rows:
        out.append(f"| {r['workload']} | {r['threads']} | {r['size']} | {r['ours_text']} | {r['peer_text']} | "
                   f"{r['peer']} | {r['ratio']:.2f} |")
    out.append("")
    for workload, note in notes:
        out.append(f"Data of the epoch: {note}" if workload == "MLP epoch" else f"{workload}: {note}")
        out.append("")
    out.append("Targets (ours/peer):")
    out.extend(targets(rows))
    print("\n".join(out))

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"date": date, "cpu": cpu, "load": load, "command": args.command, "info": info, "rows": rows,
                       "targets": targets(rows)}, f, indent=1)


if __name__ == "__main__":
    main()
