#!/usr/bin/python3
"""Reads a safetensors file with only the standard library (and numpy when present) and checks
the contents that write_sample.cpp writes. Exit 0: pass, 1: fail, 77: skipped (no file given)."""
import json
import struct
import sys

if len(sys.argv) != 2:
    sys.exit(77)
with open(sys.argv[1], "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
header = json.loads(blob[8 : 8 + n].decode("utf-8"))
data = blob[8 + n :]
codes = {"F32": "f", "F64": "d", "I32": "i", "I64": "q"}


def read(name):
    entry = header[name]
    begin, end = entry["data_offsets"]
    count = 1
    for d in entry["shape"]:
        count *= d
    code = codes[entry["dtype"]]
    assert end - begin == count * struct.calcsize(code), name + ": size disagrees with shape"
    return entry["shape"], list(struct.unpack("<%d%s" % (count, code), data[begin:end]))


assert header["__metadata__"] == {"format": "pt", "epoch": "7"}, header["__metadata__"]
assert read("weight") == ([2, 3], [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]), read("weight")
shape, bias = read("bias")
assert shape == [3] and bias == [0.1, -0.2, 0.3], bias
assert read("ids") == ([2, 2], [1, -2, 3, 2147483647]), read("ids")
assert read("step") == ([], [1234567890123]), read("step")
spans = sorted(tuple(e["data_offsets"]) for k, e in header.items() if k != "__metadata__")
assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "overlapping tensors"
assert spans[-1][1] == len(data), "data section has unindexed bytes"

try:
    import numpy as np
except ImportError:
    np = None
if np is not None:
    e = header["weight"]
    w = np.frombuffer(data[e["data_offsets"][0] : e["data_offsets"][1]], dtype="<f4").reshape(e["shape"])
    assert w[1, 2] == np.float32(1.5)
print("ok: %d tensors%s" % (len(spans), "" if np is not None else " (numpy not installed: checked with struct)"))
