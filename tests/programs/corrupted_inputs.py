#!/usr/bin/env python3
"""Runs every program that reads data on corrupted MNIST-format directories.

Usage: corrupted_inputs.py PROGRAM...

Each program is run as `PROGRAM --data DIR --epochs 1 --out OUT` on each directory. A directory
that cannot be read must make the program exit 1 with a message on stderr that starts with the
program's name ("fashion_mnist: ..."): no "terminate called", no signal, no sanitizer report.
Directories that stay readable (a flipped pixel, smaller images) may also train; they must then
exit 0. Standard library only; a few seconds for the whole set.
"""
import concurrent.futures
import gzip
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


def idx_images(count, rows=28, cols=28, rng=None, claimed=None):
    """An IDX3 unsigned-byte file of `count` images (`claimed` in the header if given)."""
    rng = rng or random.Random(1)
    header = struct.pack(">IIII", 0x00000803, count if claimed is None else claimed, rows, cols)
    return header + bytes(rng.randrange(256) for _ in range(count * rows * cols))


def idx_labels(count, rng=None, classes=10):
    rng = rng or random.Random(2)
    return struct.pack(">II", 0x00000801, count) + bytes(rng.randrange(classes) for _ in range(count))


def valid_files():
    rng = random.Random(7)
    return {
        TRAIN_IMAGES: idx_images(60, rng=rng),
        TRAIN_LABELS: idx_labels(60, rng=rng),
        TEST_IMAGES: idx_images(20, rng=rng),
        TEST_LABELS: idx_labels(20, rng=rng),
    }


def flip(data, offset, bit):
    b = bytearray(data)
    b[offset] ^= 1 << bit
    return bytes(b)


def gz(data):
    # mtime=0: the same bytes on every run, so a failure reproduces.
    return gzip.compress(data, compresslevel=6, mtime=0)


def cases():
    """(name, {file name: bytes or None for a directory}, expectation, substring of the message).

    Files not named keep their valid contents (raw). Expectation: 'fail' (exit 1 with the
    program's message) or 'any' (exit 0, or exit 1 with the program's message)."""
    base = valid_files()
    img, lab = base[TRAIN_IMAGES], base[TRAIN_LABELS]
    out = [("valid", {}, "ok", "")]
    for name, data in ((TRAIN_IMAGES, img), (TRAIN_LABELS, lab), (TEST_IMAGES, base[TEST_IMAGES])):
        for cut in sorted({0, 1, 3, 4, 7, 8, 15, len(data) // 2, len(data) - 1}):
            out.append((f"{name}-truncated-at-{cut}", {name: data[:cut]}, "fail", name))
        packed = gz(data)
        for cut in sorted({2, 10, 20, len(packed) // 2, len(packed) - 8, len(packed) - 1}):
            out.append((f"{name}.gz-truncated-at-{cut}", {name + ".gz": packed[:cut], name: None},
                        "fail", name))
        # Deflate data and trailer (the 10-byte gzip header's time and OS fields are not checked).
        for off in (12, len(packed) // 3, len(packed) // 2, len(packed) - 6, len(packed) - 2):
            out.append((f"{name}.gz-bit-flip-at-{off}", {name + ".gz": flip(packed, off, 3),
                                                         name: None}, "fail", name))
    for off, bit in ((0, 0), (2, 1), (3, 0), (3, 2), (4, 7), (5, 0), (7, 0), (11, 4), (14, 1)):
        out.append((f"images-header-bit-flip-{off}.{bit}", {TRAIN_IMAGES: flip(img, off, bit)},
                    "fail", TRAIN_IMAGES))
    for off, bit in ((2, 3), (3, 1), (4, 7), (7, 0)):
        out.append((f"labels-header-bit-flip-{off}.{bit}", {TRAIN_LABELS: flip(lab, off, bit)},
                    "fail", TRAIN_LABELS))
    out += [
        ("labels-payload-bit-flip", {TRAIN_LABELS: flip(lab, 8 + 17, 7)}, "fail", "out of range"),
        ("images-payload-bit-flip", {TRAIN_IMAGES: flip(img, 16 + 1000, 5)}, "ok", ""),
        ("2^31-images-in-100-bytes", {TRAIN_IMAGES: idx_images(0, claimed=1 << 31) + bytes(84)},
         "fail", "byte"),
        ("2^32-1-images-rows-cols", {TRAIN_IMAGES: struct.pack(">IIII", 0x803, 2**32 - 1,
                                                                2**32 - 1, 2**32 - 1)},
         "fail", TRAIN_IMAGES),
        ("2^31-labels", {TRAIN_LABELS: struct.pack(">II", 0x801, 1 << 31) + bytes(92)}, "fail",
         "byte"),
        ("not-gzip-at-all", {TRAIN_IMAGES + ".gz": b"this is not gzip data\n" * 8,
                             TRAIN_IMAGES: None}, "fail", "gzip"),
        ("gzip-of-garbage", {TRAIN_IMAGES + ".gz": gz(bytes(random.Random(3).randrange(256)
                                                            for _ in range(5000))),
                             TRAIN_IMAGES: None}, "fail", TRAIN_IMAGES),
        ("gzip-of-nothing", {TRAIN_LABELS + ".gz": gz(b""), TRAIN_LABELS: None}, "fail",
         TRAIN_LABELS),
        ("wrong-magic-labels-as-images", {TRAIN_IMAGES: lab}, "fail", "magic"),
        ("wrong-magic-images-as-labels", {TRAIN_LABELS: img}, "fail", "magic"),
        ("wrong-magic-int32-elements", {TRAIN_IMAGES: b"\0\0\x0c\x03" + img[4:]}, "fail", "magic"),
        ("label-count-mismatch", {TRAIN_LABELS: idx_labels(59)}, "fail", "labels"),
        ("image-count-mismatch", {TEST_IMAGES: idx_images(21)}, "fail", "labels"),
        ("empty-images", {TRAIN_IMAGES: b""}, "fail", "empty"),
        ("empty-labels", {TEST_LABELS: b""}, "fail", "empty"),
        ("empty-gzip-file", {TRAIN_IMAGES + ".gz": b"", TRAIN_IMAGES: None}, "fail", "empty"),
        ("directory-instead-of-images", {TRAIN_IMAGES: None}, "fail", TRAIN_IMAGES),
        ("directory-instead-of-labels", {TEST_LABELS: None}, "fail", TEST_LABELS),
        ("trailing-bytes", {TRAIN_LABELS: lab + b"\0"}, "fail", "longer"),
        ("label-of-class-200", {TEST_LABELS: struct.pack(">II", 0x801, 20) + bytes(19) + b"\xc8"}, "fail",
         "out of range"),
        ("zero-images", {TRAIN_IMAGES: idx_images(0), TRAIN_LABELS: idx_labels(0)}, "fail",
         "holds no images"),
        ("zero-test-images", {TEST_IMAGES: idx_images(0), TEST_LABELS: idx_labels(0)}, "fail",
         "holds no images"),
        ("images-of-0x0", {TRAIN_IMAGES: idx_images(60, 0, 0), TEST_IMAGES: idx_images(20, 0, 0)},
         "fail", "0 pixels"),
        ("images-of-one-size-and-another", {TEST_IMAGES: idx_images(20, 14, 14)}, "fail",
         "the test images have 196 pixels"),
        # Readable, and a network that takes 196 inputs trains on it: only dendrite-train has one.
        ("images-of-14x14", {TRAIN_IMAGES: idx_images(60, 14, 14),
                             TEST_IMAGES: idx_images(20, 14, 14)}, "any", ""),
    ]
    return out


def write_case(root, name, changes):
    d = os.path.join(root, name)
    os.makedirs(d)
    files = valid_files()
    for fname, data in files.items():
        if fname not in changes and fname + ".gz" not in changes:
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
    for fname, data in changes.items():
        path = os.path.join(d, fname)
        if data is None:
            if not fname.endswith(".gz") and fname + ".gz" in changes:
                continue  # only the .gz version of this file
            os.makedirs(path)
        else:
            with open(path, "wb") as f:
                f.write(data)
    return d


def run(program, case_dir, out_dir, expectation, needle):
    name = os.path.basename(program)
    cmd = [program, "--data", case_dir, "--epochs", "1", "--threads", "1", "--out", out_dir]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
    except subprocess.TimeoutExpired:
        return "timed out after 120 s"
    err = p.stderr.decode(errors="replace")
    problems = []
    if p.returncode < 0:
        problems.append(f"killed by signal {-p.returncode}")
    for bad in ("terminate called", "AddressSanitizer", "runtime error:", "LeakSanitizer"):
        if bad in err:
            problems.append(f'"{bad}" on stderr')
    if p.returncode == 0:
        if expectation == "fail":
            problems.append("exit 0, expected 1")
    elif p.returncode == 1:
        if expectation == "ok":
            problems.append("exit 1, expected 0")
        lines = err.strip().splitlines()
        if not lines or not lines[-1].startswith(name + ": "):
            problems.append(f'last line of stderr does not start with "{name}: "')
        elif needle and needle not in lines[-1]:
            problems.append(f'message does not mention "{needle}"')
    elif p.returncode > 0:
        problems.append(f"exit {p.returncode}, expected 1")
    if problems:
        tail = "\n      ".join(err.strip().splitlines()[-3:])
        return "; ".join(problems) + (f"\n      stderr: {tail}" if tail else "")
    return None


def main():
    programs = [os.path.abspath(p) for p in sys.argv[1:]]
    if not programs:
        print("corrupted_inputs.py: usage: corrupted_inputs.py PROGRAM...", file=sys.stderr)
        return 1
    root = tempfile.mkdtemp(prefix="dendrite-corrupted-")
    try:
        jobs = []
        for name, changes, expectation, needle in cases():
            d = write_case(root, name, changes)
            for prog in programs:
                out_dir = os.path.join(root, "out", os.path.basename(prog), name)
                jobs.append((prog, name, d, out_dir, expectation, needle))
        failures = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda j: (j, run(j[0], j[2], j[3], j[4], j[5])), jobs)
            for (prog, name, *_), problem in results:
                if problem:
                    failures += 1
                    print(f"FAIL {os.path.basename(prog)} on {name}: {problem}")
        print(f"{len(jobs) - failures} passed, {failures} failed "
              f"({len(jobs) // len(programs)} directories x {len(programs)} programs)")
        return 1 if failures else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
