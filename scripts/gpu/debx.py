#!/usr/bin/env python3
"""`dpkg -x DEB DIR` for machines without dpkg: unpacks a .deb's data.tar.* into DIR.

    python3 scripts/gpu/debx.py DEB DIR

A .deb is an ar archive (magic "!<arch>\\n", then 60-byte member headers: name 16 bytes,
size as decimal at 48..58, data padded to an even length) holding debian-binary,
control.tar.* and data.tar.*; tarfile reads the gz/xz/bz2 data member.
"""
import io
import sys
import tarfile


def data_member(deb_bytes):
    if not deb_bytes.startswith(b"!<arch>\n"):
        raise SystemExit("not a .deb (ar) archive")
    offset = 8
    while offset + 60 <= len(deb_bytes):
        header = deb_bytes[offset:offset + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        start = offset + 60
        if name.startswith("data.tar"):
            return deb_bytes[start:start + size]
        offset = start + size + (size & 1)
    raise SystemExit("no data.tar member")


def main():
    deb, dest = sys.argv[1], sys.argv[2]
    with open(deb, "rb") as f:
        data = data_member(f.read())
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        archive.extractall(dest)


if __name__ == "__main__":
    main()
