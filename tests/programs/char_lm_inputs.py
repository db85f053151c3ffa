#!/usr/bin/env python3
"""Runs examples/char_lm on bad text files and bad checkpoints.

Usage: char_lm_inputs.py CHAR_LM

Each bad input must make char_lm exit 1 with one message on stderr that starts with "char_lm: "
and names what was wrong: no "terminate called", no signal. A good checkpoint must resume.
Standard library only; a few seconds.
"""
import os
import subprocess
import sys
import tempfile

TINY = ["--steps", "2", "--batch", "2", "--context", "8", "--sample", "0", "--threads", "1"]


def run(program, *args, epochs=1):
    return subprocess.run([program, *TINY, "--epochs", str(epochs), *args], capture_output=True,
                          text=True, timeout=120)


def main():
    program = sys.argv[1]
    failures = []
    cases = 0

    def expect(what, result, code, *needles):
        nonlocal cases
        cases += 1
        problems = []
        if result.returncode != code:
            problems.append(f"exit code {result.returncode}, expected {code}")
        if code != 0 and not result.stderr.startswith("char_lm: "):
            problems.append("stderr does not start with 'char_lm: '")
        for n in needles:
            if n not in result.stderr + result.stdout:
                problems.append(f"no '{n}' in the output")
        if "terminate called" in result.stderr:
            problems.append("an uncaught exception")
        if problems:
            failures.append(f"{what}: {'; '.join(problems)}\n  stderr: {result.stderr.strip()}")

    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "text.txt")
        with open(text, "w") as f:
            f.write("the quick brown fox jumps over the lazy dog.\n" * 40)
        short = os.path.join(tmp, "short.txt")
        with open(short, "w") as f:
            f.write("too short\n")
        out = os.path.join(tmp, "out")

        missing = os.path.join(tmp, "no-such-file.txt")
        expect("a missing text", run(program, "--text", missing, "--out", out), 1,
               "cannot open", missing)
        expect("a text too short for one window",
               run(program, "--text", short, "--out", out), 1, "too few")
        expect("--resume without a checkpoint",
               run(program, "--text", text, "--out", os.path.join(tmp, "empty"),
                   "--resume"), 1, "no checkpoint")

        expect("a first run", run(program, "--text", text, "--out", out), 0,
               "validation bpc: ")
        checkpoint = os.path.join(out, "checkpoint.safetensors")
        expect("a resumed run", run(program, "--text", text, "--out", out, "--resume",
                                    epochs=2), 0, "resumed from", "epoch 2")
        expect("a checkpoint of the other model",
               run(program, "--text", text, "--model", "transformer", "--layers", "1",
                   "--out", out, "--resume"), 1, "holds a lstm model")
        with open(checkpoint, "rb") as f:
            whole = f.read()
        for cut in (4, 12, len(whole) // 2, len(whole) - 1):
            with open(checkpoint, "wb") as f:
                f.write(whole[:cut])
            expect(f"a checkpoint cut to {cut} bytes",
                   run(program, "--text", text, "--out", out, "--resume", epochs=3),
                   1, "checkpoint.safetensors")

    for f in failures:
        print(f, file=sys.stderr)
    print(f"{cases - len(failures)} of {cases} cases behave")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
