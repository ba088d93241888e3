#!/usr/bin/env python3
"""The CUDA bundle that travels to the device in parts (scripts/gpu/pack-cuda.sh); stdlib only.

  cuda_bundle.py check DEVICE_DIR          which parts have arrived, each part's sha256 checked
  cuda_bundle.py assemble DEVICE_DIR DEST  all parts, joined, the whole sha256 checked, unpacked
                                           (tar.xz) into DEST; prints JSON {"files": [...]}
Exit 1 on a damaged or inconsistent part, 2 (assemble) when parts are missing.
"""
import glob
import hashlib
import io
import json
import lzma
import os
import sys
import tarfile


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parts(device_dir):
    """{index: (dir, meta)} of the parts present, each checked; raises SystemExit(1) on damage."""
    found = {}
    for meta_path in sorted(glob.glob(os.path.join(device_dir, "cuda-*", "part.json"))):
        part_dir = os.path.dirname(meta_path)
        with open(meta_path) as f:
            meta = json.load(f)
        data = os.path.join(part_dir, "bundle.part")
        if not os.path.isfile(data):
            print(f"cuda bundle: {data} missing (part.json without its data)")
            raise SystemExit(1)
        got = sha256(data)
        if got != meta["sha256"]:
            print(f"cuda bundle: part {meta['index']} damaged: sha256 {got[:16]}..., expected {meta['sha256'][:16]}...")
            raise SystemExit(1)
        found[meta["index"]] = (part_dir, meta)
    bundles = {m["bundle_sha256"] for _, m in found.values()}
    if len(bundles) > 1:
        print(f"cuda bundle: parts of {len(bundles)} different bundles present (pack-cuda was rerun between calls): start over")
        raise SystemExit(1)
    return found


def check(device_dir):
    found = parts(device_dir)
    if not found:
        print(f"cuda bundle: no parts in {device_dir}/cuda-*")
        return 0
    count = next(iter(found.values()))[1]["count"]
    missing = [i for i in range(1, count + 1) if i not in found]
    sizes = sum(os.path.getsize(os.path.join(d, "bundle.part")) for d, _ in found.values())
    print(f"cuda bundle: parts {sorted(found)} of {count} present and intact ({sizes / 2**20:.1f} MiB)"
          + (f"; still to come: {missing}" if missing else "; complete"))
    return 0


def assemble(device_dir, dest):
    found = parts(device_dir)
    if not found:
        print(json.dumps({"error": "no CUDA bundle carried"}))
        return 2
    meta0 = next(iter(found.values()))[1]
    missing = [i for i in range(1, meta0["count"] + 1) if i not in found]
    if missing:
        print(json.dumps({"error": f"CUDA bundle parts missing: {missing} of {meta0['count']}"}))
        return 2
    joined = io.BytesIO()
    for i in range(1, meta0["count"] + 1):
        with open(os.path.join(found[i][0], "bundle.part"), "rb") as f:
            joined.write(f.read())
    data = joined.getvalue()
    if hashlib.sha256(data).hexdigest() != meta0["bundle_sha256"]:
        print(json.dumps({"error": "joined CUDA bundle does not match its sha256"}))
        return 1
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(data)), mode="r:") as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        for m in members:
            if m.name.startswith("/") or ".." in m.name.split("/"):
                raise SystemExit(f"unsafe path in bundle: {m.name}")
        tar.extractall(dest, members=members)
    files = sorted(os.path.relpath(os.path.join(r, f), dest) for r, _, fs in os.walk(dest) for f in fs)
    print(json.dumps({"files": files, "bytes": len(data)}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) >= 4 and sys.argv[1] == "assemble":
        sys.exit(assemble(sys.argv[2], sys.argv[3]))
    print(__doc__)
    sys.exit(2)
