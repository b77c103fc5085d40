#!/usr/bin/env python3
"""ui_tree.py OUT: a registry tree as another registry publishes it (the
CNCF distribution layout), for tests/e2e/ui.sh to add with `ipfs add -r`
and publish under a second key, so the registry serves it as a read-only
root. It holds names no push could make, since a UnixFS name may hold
anything but '/': a repository and tags with HTML in them; and the
pagination loads: 1,000 repositories under many/ and one repository,
tags5k, with 5,000 tags. Every tag points at one small image whose blobs
are in the tree too. Prints the names of the hostile repository and tag
as JSON."""
import hashlib
import json
import os
import sys

out = sys.argv[1]
v2 = os.path.join(out, "docker", "registry", "v2")


def blob(data):
    dg = hashlib.sha256(data).hexdigest()
    d = os.path.join(v2, "blobs", "sha256", dg[:2], dg)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "data"), "wb") as f:
        f.write(data)
    return "sha256:" + dg, len(data)


def link(path, dg):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "link"), "w") as f:
        f.write(dg)


cfg, csize = blob(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
layer, lsize = blob(b"a layer of the read-only root\n")
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": csize},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": lsize}],
    "annotations": {"org.opencontainers.image.title": "<b>read-only</b>"},
}, separators=(",", ":")).encode()
mdg, _ = blob(manifest)
# what the API would refuse (not an RFC 6838 type), as a mirrored root may hold it
bad = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/<img src=x onerror=alert(5)>",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": csize},
    "layers": [],
}, separators=(",", ":")).encode()
bdg, _ = blob(bad)


def repo(name, tags, layers=False, extra=None):
    """Only what the pages read: tag and revision links (the blob links for
    the manifest page where asked; no tag history)."""
    r = os.path.join(v2, "repositories", name)
    for b in (cfg, layer) if layers else ():
        link(os.path.join(r, "_layers", "sha256", b[7:]), b)
    link(os.path.join(r, "_manifests", "revisions", "sha256", mdg[7:]), mdg)
    for t in tags:
        link(os.path.join(r, "_manifests", "tags", t, "current"), mdg)
    for t, dg in (extra or {}).items():
        link(os.path.join(r, "_manifests", "revisions", "sha256", dg[7:]), dg)
        link(os.path.join(r, "_manifests", "tags", t, "current"), dg)


HOSTILE_REPO = "ro/<svg onload=alert(document.domain)>"
HOSTILE_TAG = "\"><img src=x onerror=alert(1)>"
repo(HOSTILE_REPO, [HOSTILE_TAG, "latest"], layers=True, extra={"badtype": bdg})
for i in range(1000):
    repo("many/r%04d" % i, ["v1"])
repo("tags5k", ["t%04d" % i for i in range(5000)])
print(json.dumps({"repo": HOSTILE_REPO, "tag": HOSTILE_TAG, "manifest": mdg}))
