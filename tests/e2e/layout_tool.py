#!/usr/bin/env python3
"""layout_tool: edits OCI image layouts for tests/e2e/layout.sh, the way
other tools write them (image indexes over umoci-built images, nested
indexes, referrers, several named images in one layout).

  layout_tool.py index   LAYOUT NEWREF REF...   an image index of the images tagged REF...
                                                (platform from each config), tagged NEWREF;
                                                the REF entries leave index.json
  layout_tool.py wrap    LAYOUT REF NEWREF      an index holding the entry REF, tagged NEWREF
                                                (REF leaves index.json): a nested index
  layout_tool.py retag   LAYOUT REF NEWREF      renames a ref.name
  layout_tool.py artifact LAYOUT REF            an artifact manifest whose subject is REF, listed
                                                in index.json without a name; prints its digest
  layout_tool.py digest  LAYOUT REF             prints the digest REF names
  layout_tool.py blobs   LAYOUT REF             prints every blob digest of image REF (config, layers)
  layout_tool.py variant LAYOUT REF NEWREF TEXT  a new image: REF's layers under a config that
                                                carries the label TEXT, tagged NEWREF; prints its digest
  layout_tool.py cycle   LAYOUT REF             two index blobs that name each other (so their
                                                file names can't be their digests), tagged REF
"""
import hashlib
import json
import os
import sys

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REF = "org.opencontainers.image.ref.name"


def load(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)


def save(layout, idx):
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(idx, f)


def blob_path(layout, digest):
    alg, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", alg, hexd)


def read_blob(layout, digest):
    with open(blob_path(layout, digest), "rb") as f:
        return f.read()


def put_blob(layout, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(blob_path(layout, d), "wb") as f:
        f.write(data)
    return d


def entry(idx, ref):
    for e in idx["manifests"]:
        if e.get("annotations", {}).get(REF) == ref:
            return e
    sys.exit("no entry named %s" % ref)


def desc(e):
    return {k: e[k] for k in ("mediaType", "digest", "size") if k in e}


def cmd_index(layout, newref, *refs):
    idx = load(layout)
    children = []
    for r in refs:
        e = entry(idx, r)
        m = json.loads(read_blob(layout, e["digest"]))
        cfg = json.loads(read_blob(layout, m["config"]["digest"]))
        d = desc(e)
        d["platform"] = {"architecture": cfg.get("architecture", "amd64"), "os": cfg.get("os", "linux")}
        children.append(d)
        idx["manifests"].remove(e)
    body = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": children}).encode()
    d = put_blob(layout, body)
    idx["manifests"].append({"mediaType": MT_INDEX, "digest": d, "size": len(body),
                             "annotations": {REF: newref}})
    save(layout, idx)


def cmd_wrap(layout, ref, newref):
    idx = load(layout)
    e = entry(idx, ref)
    idx["manifests"].remove(e)
    body = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [desc(e)]}).encode()
    d = put_blob(layout, body)
    idx["manifests"].append({"mediaType": MT_INDEX, "digest": d, "size": len(body),
                             "annotations": {REF: newref}})
    save(layout, idx)


def cmd_retag(layout, ref, newref):
    idx = load(layout)
    entry(idx, ref)["annotations"][REF] = newref
    save(layout, idx)


def cmd_artifact(layout, ref):
    idx = load(layout)
    e = entry(idx, ref)
    empty = put_blob(layout, b"{}")
    body = json.dumps({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "artifactType": "application/vnd.example.sbom.v1",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2}],
        "subject": desc(e),
    }).encode()
    d = put_blob(layout, body)
    idx["manifests"].append({"mediaType": MT_MANIFEST, "digest": d, "size": len(body)})
    save(layout, idx)
    print(d)


def cmd_digest(layout, ref):
    print(entry(load(layout), ref)["digest"])


def cmd_blobs(layout, ref):
    m = json.loads(read_blob(layout, entry(load(layout), ref)["digest"]))
    print(m["config"]["digest"])
    for l in m["layers"]:
        print(l["digest"])


def cmd_variant(layout, ref, newref, text):
    idx = load(layout)
    e = entry(idx, ref)
    m = json.loads(read_blob(layout, e["digest"]))
    cfg = json.loads(read_blob(layout, m["config"]["digest"]))
    cfg.setdefault("config", {}).setdefault("Labels", {})["variant"] = text
    body = json.dumps(cfg).encode()
    m["config"] = dict(m["config"], digest=put_blob(layout, body), size=len(body))
    body = json.dumps(m).encode()
    d = put_blob(layout, body)
    idx["manifests"].append({"mediaType": MT_MANIFEST, "digest": d, "size": len(body),
                             "annotations": {REF: newref}})
    save(layout, idx)
    print(d)


def cmd_cycle(layout, ref):
    a = "sha256:" + "a" * 64
    b = "sha256:" + "b" * 64
    for name, other in ((a, b), (b, a)):
        body = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX,
                           "manifests": [{"mediaType": MT_INDEX, "digest": other, "size": 200}]}).encode()
        os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
        with open(blob_path(layout, name), "wb") as f:
            f.write(body)
    idx = load(layout)
    idx["manifests"].append({"mediaType": MT_INDEX, "digest": a, "size": 200, "annotations": {REF: ref}})
    save(layout, idx)


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
