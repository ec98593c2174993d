#!/usr/bin/env python3
"""What app.wasm is made of: code bytes per Go package (from the function
bodies of the code section, named by the "name" section), and the size of
every other section (data: Go's read-only data, type information and
pclntab tables).

    GOOS=js GOARCH=wasm go build -trimpath -o /tmp/app.wasm ./wasm   # keep symbols (no -s)
    python3 scripts/wasm-size.py /tmp/app.wasm [top]

Packages are grouped by their import path up to the module or, for the
standard library, the first element; the top N (default 25) are listed.
"""
import sys
from collections import defaultdict


def uleb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def sections(b):
    if b[:4] != b"\0asm":
        raise SystemExit("wasm-size: not a WebAssembly module")
    i = 8
    while i < len(b):
        sid = b[i]
        size, j = uleb(b, i + 1)
        yield sid, b[j:j + size], j + size - i
        i = j + size


def group(name):
    # The linker writes "/" as "_": "github.com_a_b_pkg.Func" -> "github.com_a_b_pkg",
    # "net_http.(*Client).Do" -> "net_http".
    start = name.find("_") + 1 if name.split("_")[0].count(".") else 0
    dot = name.find(".", start)
    return name[:dot] if dot > 0 else name


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    b = open(path, "rb").read()
    imports = 0
    bodies, names, other = [], {}, defaultdict(int)
    for sid, data, total in sections(b):
        if sid == 2:  # imports: functions are numbered after them
            n, i = uleb(data, 0)
            for _ in range(n):
                for _ in range(2):
                    ln, i = uleb(data, i)
                    i += ln
                kind = data[i]
                i += 1
                if kind == 0:
                    _, i = uleb(data, i)
                    imports += 1
                elif kind == 1:
                    i += 1
                    flags, i = uleb(data, i)
                    _, i = uleb(data, i)
                    if flags & 1:
                        _, i = uleb(data, i)
                elif kind == 2:
                    flags, i = uleb(data, i)
                    _, i = uleb(data, i)
                    if flags & 1:
                        _, i = uleb(data, i)
                else:
                    i += 2
            other["import"] += total
        elif sid == 10:
            n, i = uleb(data, 0)
            for _ in range(n):
                size, j = uleb(data, i)
                bodies.append(size + j - i)
                i = j + size
            other["code (section overhead)"] += total - sum(bodies)
        elif sid == 0:
            ln, i = uleb(data, 0)
            cname = data[i:i + ln].decode()
            i += ln
            other["custom " + cname] += total
            if cname == "name":
                while i < len(data):
                    sub = data[i]
                    size, j = uleb(data, i + 1)
                    if sub == 1:
                        n, k = uleb(data, j)
                        for _ in range(n):
                            idx, k = uleb(data, k)
                            ln, k = uleb(data, k)
                            names[idx] = data[k:k + ln].decode(errors="replace")
                            k += ln
                    i = j + size
        else:
            other[{1: "type", 3: "function", 4: "table", 5: "memory", 6: "global", 7: "export",
                   9: "element", 11: "data", 12: "datacount"}.get(sid, str(sid))] += total
    per = defaultdict(int)
    for f, size in enumerate(bodies):
        per[group(names.get(imports + f, "(unnamed)"))] += size
    code = sum(bodies)
    print(f"{path}: {len(b)} bytes; code {code}, data {other.get('data', 0)}")
    for name, size in sorted(other.items(), key=lambda kv: -kv[1]):
        print(f"  section {name:32s} {size:10d}")
    print(f"code by package (top {top} of {len(per)}):")
    for pkg, size in sorted(per.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {size:10d} {100 * size / code:5.1f}%  {pkg}")
    mods = defaultdict(int)
    for pkg, size in per.items():
        parts = pkg.split("_")
        if "." in parts[0]:
            mod = "_".join(parts[:3])
        elif parts[0] in ("webmae", "type"):
            mod = pkg
        else:
            mod = "(std) " + parts[0]
        mods[mod] += size
    print("code by module:")
    for m, size in sorted(mods.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {size:10d} {100 * size / code:5.1f}%  {m}")


main()
