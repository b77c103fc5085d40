#!/usr/bin/env python3
"""table.py RESULTS.tsv REPS: the medians of bench/run's samples as one
markdown table: case, ours, reference, ratio, the reference behind nginx,
ratio, the FastCGI edge ceiling, the issue's target, whether it is met."""
import statistics, sys
from collections import defaultdict

MB = 1e6
# case id: (label, unit kind, reference label, target text, target ratio or None)
CASES = [
    ("pull", "pull one 1 GiB blob through nginx -> worker", "bps", "Kubo gateway curl", ">= 0.90x", 0.90),
    ("pull_cpu", "worker CPU per GiB of that pull (utime+stime)", "ms", "-", "report", None),
    ("pull_offload", "same, X-Accel-Redirect offload on", "bps", "Kubo gateway curl", ">= 0.97x", 0.97),
    ("pull_redirect", "same, blob_redirect (307 to the gateway)", "bps", "Kubo gateway curl", "report", None),
    ("push", "push one 1 GiB blob (POST, streamed PATCH, PUT)", "bps", "ipfs add --cid-version 1 --raw-leaves (RPC)", ">= 0.80x", 0.80),
    ("skopeo_push", "skopeo copy, 5-layer image, push", "bps", "distribution", "report", None),
    ("skopeo_pull", "skopeo copy, 5-layer image, pull", "bps", "distribution", ">= 0.80x", 0.80),
    ("mget_tag", "manifest GET by tag (wrk -c32)", "rps", "distribution", ">= 1.0x", 1.0),
    ("mhead_digest", "manifest HEAD by digest (ab -c32 -k)", "rps", "distribution", ">= 1.0x", 1.0),
    ("bhead", "blob HEAD (ab -c32 -k)", "rps", "distribution", ">= 1.0x", 1.0),
    ("pull16", "16 concurrent pulls of 100 MiB blobs", "bps", "16 concurrent gateway GETs", ">= 0.85x", 0.85),
    ("rss", "worker peak RSS, 1 GiB up and down", "mib", "-", "<= 16 MiB", ("max", 16)),
    ("large", "many repos x tags, manifest GET by random tag", "rps", "ours, 1 repository", ">= 0.8x", 0.8),
    ("tags", "tags/list?n=100, many tags in one repo", "rps", "distribution", ">= 1.0x", 1.0),
    ("ui", "web view tags page (/ui/repo), each tag its own manifest, warm", "rps", "-", "report", None),
    # blob files (blobdir; bench/cases_files.sh)
    ("pull_files", "blob files: pull one 1 GiB blob, nginx sends the file (X-Accel-Redirect)", "bps",
     "nginx static, sendfile", ">= 0.90x", 0.90),
    ("pull_files_gw", "blob files: same pull", "bps", "Kubo gateway curl", "report", None),
    ("pull_files_worker", "blob files: same pull, the worker splices the file (no accel)", "bps",
     "nginx static, sendfile", "report", None),
    ("pull_files_cpu", "blob files: worker CPU per GiB, splice path (utime+stime)", "ms", "-",
     "<= 75 ms/GiB", ("max", 75)),
    ("pull16_files", "blob files: 16 concurrent pulls of 100 MiB blobs", "bps",
     "nginx static, 16 parallel GETs", ">= 0.85x", 0.85),
    ("pull16_files_gw", "blob files: same 16 pulls", "bps", "16 concurrent gateway GETs", "report", None),
    ("skopeo_push_files", "blob files: skopeo copy, 5-layer image, push", "bps", "distribution", ">= 0.85x", 0.85),
    ("skopeo_pull_files", "blob files: skopeo copy, 5-layer image, pull", "bps", "distribution", ">= 1.0x", 1.0),
    ("push_files", "blob files: push one 1 GiB blob (POST, streamed PATCH, PUT)", "bps",
     "ipfs add --cid-version 1 --raw-leaves (RPC, curl multipart)", ">= 0.90x", 0.90),
    ("push_files_put", "blob files: that push's final PUT (added during the PATCH: link + MFS)", "spg", "-",
     "report", None),
    ("push_files_put2", "blob files: final PUT of a two-PATCH session (re-read + add --nocopy)", "spg", "-",
     "report", None),
    ("push_files_mono", "blob files: one-request push of 1 GiB (POST ?digest=)", "bps",
     "ipfs add --cid-version 1 --raw-leaves (RPC, curl multipart)", "report", None),
    ("push_files_kubo", "blob files: the chunked push vs the same in Kubo-only mode", "bps",
     "Kubo-only mode push", "report", None),
    ("disk_files", "blob files: disk per GiB pushed (blob files + Kubo repo growth)", "gpg",
     "Kubo-only mode (repo growth)", "report", None),
    ("rss_files", "blob files: worker peak RSS, pulls and pushes", "mib", "-", "<= 16 MiB", ("max", 16)),
    # the pull-through mirror (bench/cases_mirror.sh)
    ("mirror_cold", "mirror: skopeo copy, 5-layer image, pull through the mirror, cold (fetched upstream)", "bps",
     "straight from the upstream (distribution)", ">= 0.6x", 0.6),
    ("mirror_warm", "mirror: same pull again, warm (blob files sent by nginx)", "bps",
     "straight from the upstream (distribution)", ">= 1.0x", 1.0),
    # garbage collection (bench/cases_gc.sh)
    ("gc_get", "gc: manifest GET + 4 KiB blob GET (wrk) while one collection runs", "rps",
     "the same load before it", ">= 0.8x", 0.8),
    ("gc_head", "gc: blob HEAD (ab -c32 -k) while the same collection runs", "rps",
     "the same load before it", ">= 0.8x", 0.8),
    ("gc_time", "gc: one collection, wall time", "sec", "-", "report", None),
    ("gc_rss", "gc: one collection, peak RSS", "mib", "-", "report", None),
    ("gc_cpu", "gc: one collection, its own CPU time (user + system; not Kubo's)", "sec", "-", "report", None),
]


def load(path):
    vals, extra, notes = defaultdict(list), defaultdict(list), {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            case, side, v = parts[0], parts[1], parts[2]
            try:
                vals[(case, side)].append(float(v))
            except ValueError:
                notes[(case, side)] = v
            if len(parts) > 3 and parts[3]:
                extra[(case, side)].append(parts[3])
    return vals, extra, notes


def ms(lat):
    """wrk latency text (850.00us, 1.20ms, 2.00s) in milliseconds."""
    for suf, mul in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if lat.endswith(suf):
            return float(lat[: -len(suf)]) * mul
    return float("nan")


def cell(kind, vals, extra):
    if not vals:
        return None, "-"
    # a peak (RSS high-water marks, read after each group) is the largest
    m = max(vals) if kind == "mib" else statistics.median(vals)
    if kind == "bps":
        return m, "%.0f MB/s" % (m / MB)
    if kind == "rps":
        text = "%.0f req/s" % m
        if extra:
            text += " (p99 %.1f ms)" % statistics.median(ms(e) for e in extra)
        return m, text
    if kind == "ms":
        return m, "%.1f ms/GiB" % m
    if kind == "spg":
        return m, "%.2f s/GiB" % m
    if kind == "sec":
        return m, "%.1f s" % m
    if kind == "gpg":
        return m, "%.3f GiB/GiB" % m
    return m, "%.1f MiB" % m


def main():
    vals, extra, notes = load(sys.argv[1])
    reps = sys.argv[2] if len(sys.argv) > 2 else "?"
    print("| case | ours | reference | ratio | reference behind nginx | ratio | FastCGI edge ceiling | target | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cid, label, kind, reflabel, target, goal in CASES:
        if (cid, "ours") in notes:
            print("| %s | %s | %s | | | | | %s | |" % (label, notes[(cid, "ours")], reflabel, target))
            continue
        row = {}
        for side in ("ours", "ref", "refng", "ceil"):
            row[side] = cell(kind, vals.get((cid, side), []), extra.get((cid, side), []))
        o = row["ours"][0]

        def ratio(side):
            r = row[side][0]
            return "%.2fx" % (o / r) if o is not None and r else "-"
        ref = row["ref"][1] + ("" if row["ref"][0] is None else " (%s)" % reflabel)
        if row["ref"][0] is None:
            ref = reflabel if reflabel == "-" else "- (%s)" % reflabel
        met = "-"
        if o is not None and isinstance(goal, tuple):
            met = "yes" if o <= goal[1] else "no"
        elif o is not None and goal is not None and row["ref"][0]:
            met = "yes" if o / row["ref"][0] >= goal else "no"
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, row["ours"][1], ref, ratio("ref"), row["refng"][1], ratio("refng"),
            row["ceil"][1], target, met))
    print("\nmedians of %s repetition(s); ratio = ours / reference (higher is better)" % reps)
    cold, warm = vals.get(("ui_rpc_cold", "ours")), vals.get(("ui_rpc_warm", "ours"))
    if cold and warm:
        print("web view tags page: %.2f Kubo RPCs per tag shown cold (target <= 3), %.2f warm (median)"
              % (statistics.median(cold), statistics.median(warm)))
    rpc = vals.get(("large_rpc", "ours"))
    if rpc:
        print("many repos x tags: %.2f Kubo RPCs per 1,000 manifest GETs while measured (median)"
              % statistics.median(rpc))


main()
