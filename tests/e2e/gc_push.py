#!/usr/bin/env python3
"""gc_push.py: a small OCI push client for tests/e2e/gc.sh, doing what
docker and skopeo do: HEAD each blob and upload only the missing ones
(POST, then PUT ?digest= with the bytes), then PUT the manifest. That
"HEAD says it is there, so skip it" step is what races with a garbage
collection, so the suite drives it directly rather than through a client
that may or may not make it.

  gc_push.py image BASE REPO TAG CONFIG_TEXT LAYER_FILE...
      prints "<status> <manifest digest>"; exit 0 on 201
  gc_push.py race BASE REPO CLIENT ROUNDS DIR
      round r pushes tag v<r> with DIR/base, DIR/u<client>-<r> and (r > 1)
      DIR/u<client>-<r-1>, the layer of the image the round before pushed,
      then deletes that image (by digest): so every round but the first
      names a layer that only a deleted manifest held. Prints one line per
      push, "push v<r> <status> <digest>", and per delete,
      "delete v<r-1> <status>". GC_RACE_PAUSE (seconds, default 0) between
      rounds. Every request is bounded (60 s).
"""
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


def req(method, url, data=None, headers=None):
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except OSError as e:  # connection reset, timeout: a failed request
        return 0, {}, str(e).encode()


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def put_blob(base, repo, data):
    d = digest(data)
    st, _, _ = req("HEAD", f"{base}/v2/{repo}/blobs/{d}")
    if st == 200:
        return d, True
    st, h, _ = req("POST", f"{base}/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"})
    if st != 202:
        return d, False
    loc = h.get("Location", "")
    if loc.startswith("/"):
        loc = base + loc
    sep = "&" if "?" in loc else "?"
    st, _, _ = req("PUT", f"{loc}{sep}digest={d}", data, {"Content-Type": "application/octet-stream"})
    return d, st == 201


def push_image(base, repo, tag, config_text, layers):
    """(status, manifest digest); status 0 when a blob could not be stored."""
    cfg = config_text.encode()
    cd, ok = put_blob(base, repo, cfg)
    descs = []
    for data in layers:
        ld, lok = put_blob(base, repo, data)
        ok = ok and lok
        descs.append({"mediaType": MT_LAYER, "digest": ld, "size": len(data)})
    man = json.dumps({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cd, "size": len(cfg)},
        "layers": descs,
    }).encode()
    md = digest(man)
    if not ok:
        return 0, md
    st, _, _ = req("PUT", f"{base}/v2/{repo}/manifests/{tag}", man, {"Content-Type": MT_MANIFEST})
    return st, md


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "image":
        base, repo, tag, cfg = sys.argv[2:6]
        st, md = push_image(base, repo, tag, cfg, [read(p) for p in sys.argv[6:]])
        print(st, md)
        return 0 if st == 201 else 1
    if len(sys.argv) == 7 and sys.argv[1] == "race":
        base, repo, client, rounds, d = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
        prev = None
        for r in range(1, rounds + 1):
            layers = [read(f"{d}/base"), read(f"{d}/u{client}-{r}")]
            if r > 1:
                layers.append(read(f"{d}/u{client}-{r - 1}"))
            cfg = json.dumps({"architecture": "amd64", "os": "linux", "client": client, "round": r,
                              "rootfs": {"type": "layers", "diff_ids": []}})
            st, md = push_image(base, repo, f"v{r}", cfg, layers)
            print(f"push v{r} {st} {md}", flush=True)
            if prev and st == 201:
                dst, _, _ = req("DELETE", f"{base}/v2/{repo}/manifests/{prev[1]}")
                print(f"delete v{prev[0]} {dst}", flush=True)
            prev = (r, md) if st == 201 else prev
            time.sleep(float(os.environ.get("GC_RACE_PAUSE", "0")))   # spread over the collections
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
