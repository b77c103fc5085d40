#!/usr/bin/env python3
"""mkimage.py OUTDIR TOTAL_BYTES LAYERS SEED: an OCI image layout (tag "bench")
with LAYERS layers of seeded pseudo-random (incompressible) bytes summing to
TOTAL_BYTES, for skopeo to push. Each benchmark repetition uses a new SEED so
no registry (or skopeo's blob-info cache) already knows its blobs. The layer
bytes are not a tar: skopeo copies layers as opaque blobs."""
import hashlib, json, os, random, sys

CHUNK = 4 << 20


def blob(out, data_iter):
    h, n = hashlib.sha256(), 0
    tmp = os.path.join(out, "blobs", "sha256", "tmp")
    with open(tmp, "wb") as f:
        for part in data_iter:
            h.update(part)
            f.write(part)
            n += len(part)
    d = h.hexdigest()
    os.replace(tmp, os.path.join(out, "blobs", "sha256", d))
    return "sha256:" + d, n


def randbytes(rng, size):
    while size > 0:
        k = min(CHUNK, size)
        yield rng.randbytes(k)
        size -= k


def main():
    out, total, nlayers, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    rng = random.Random(seed)
    layers = []
    for i in range(nlayers):
        size = total // nlayers + (total % nlayers if i == 0 else 0)
        d, n = blob(out, randbytes(rng, size))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n})
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]},
                         "config": {"Labels": {"bench.seed": seed}}}).encode()
    cd, cn = blob(out, [config])
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": cd, "size": cn},
                           "layers": layers}).encode()
    md, mn = blob(out, [manifest])
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
            "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


main()
