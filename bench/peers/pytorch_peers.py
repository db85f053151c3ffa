#!/usr/bin/python3
"""Ours against PyTorch eager, block by block (ours, peer, ours, peer ...).

Our side runs in a dendrite_peers process started by this script ("serve" mode): it times one
block per request while this process waits on the pipe, then PyTorch times one block here while
that process waits on its stdin, so only one side ever uses the cores. One JSON line per
comparison, in the format of bench/peers/harness.hpp (bench/peers/report.py makes the table).

Run it with Debian's interpreter (/usr/bin/python3), which is the one python3-torch is built for,
with OPENBLAS_CORETYPE=SkylakeX and OMP_WAIT_POLICY=PASSIVE in the environment (bench/run-peers
does all of that).
"""

import argparse
import ctypes
import gzip
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MLP_LR, MLP_MOMENTUM = 0.01, 0.9
XOR_LR, XOR_MOMENTUM = 0.5, 0.9
LM_LR, LM_WEIGHT_DECAY = 1e-3, 0.01
LM_VOCABULARY, LM_CONTEXT = 96, 64
LSTM_LABEL = "LSTM LM step (emb 64, hidden 256, batch 32, seq 64)"
TRANSFORMER_LABEL = "Transformer block LM step (d 128, 4 heads, FF 512, batch 32, ctx 64)"
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
VERSION = "PyTorch " + ".".join(torch.__version__.split(".")[:2])


def load_openblas():
    """The OpenBLAS instance torch uses: Debian's libblas.so.3 forwards to libopenblas.so.0."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib
    except OSError:
        return None


OPENBLAS = load_openblas()
_torch_threads = [None]


def set_threads(torch_threads, blas_threads):
    # set_num_threads also rebuilds torch's pthreadpool: only on a change.
    if _torch_threads[0] != torch_threads:
        torch.set_num_threads(torch_threads)
        _torch_threads[0] = torch_threads
    if OPENBLAS is not None:
        OPENBLAS.openblas_set_num_threads(blas_threads)


def time_block(step, min_time, warmup):
    """Seconds per iteration: warm-up, then batches of 1, 2, 4 ... until min_time has passed."""
    for _ in range(warmup):
        step()
    iterations, chunk = 0, 1
    start = time.perf_counter()
    while True:
        for _ in range(chunk):
            step()
        iterations += chunk
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / iterations
        per = elapsed / iterations
        chunk = max(1, min(chunk * 2, int((min_time - elapsed) / per) + 1))


class Ours:
    """A dendrite_peers process in serve mode."""

    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError("dendrite_peers: " + answer["error"])
        return answer

    def prepare(self, workload, size):
        return self.ask(f"prepare {workload} {size}")

    def block(self, workload, size, threads, min_time, warmup):
        return self.ask(f"{workload} {size} {threads} {min_time} {warmup}")["s"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


class Side:
    def __init__(self, name, enter, block, leaves_spinning_threads=False):
        self.name, self.enter, self.block = name, enter, block
        self.leaves_spinning_threads = leaves_spinning_threads


def interleave(sides, repetitions, settle):
    samples = [[] for _ in sides]
    spinning = False
    for r in range(repetitions + 1):  # round 0: first touch, untimed
        for i, side in enumerate(sides):
            if spinning:
                time.sleep(settle)
            side.enter()
            s = side.block(first_touch=(r == 0))
            if r > 0:
                samples[i].append(s)
            spinning = side.leaves_spinning_threads
    if spinning:
        time.sleep(settle)
    return samples


def report(out, workload, threads, size, work, sides, samples, note=""):
    medians = [statistics.median(s) for s in samples]
    best = min(range(1, len(sides)), key=lambda i: medians[i])
    line = {
        "workload": workload, "threads": threads, "size": size, "work": work,
        "ours": sides[0].name, "ours_s": medians[0], "peer_family": "PyTorch",
        "peer": sides[best].name, "peer_s": medians[best], "ours_samples": samples[0],
        "peer_samples": samples[best],
        "peer_configs": {sides[i].name: medians[i] for i in range(1, len(sides))}, "note": note,
    }
    print(json.dumps(line), file=out, flush=True)


# --- PyTorch's side, written the usual way --------------------------------------------------

def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(),
                         nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class Classifier:
    def __init__(self, model, lr=MLP_LR, momentum=MLP_MOMENTUM):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss.item()


def random_batch(batch, shape):
    g = torch.Generator().manual_seed(7)
    return torch.rand((batch, *shape), generator=g), torch.randint(0, 10, (batch,), generator=g)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist_or_random():
    images = os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")
    labels = os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz")
    if os.path.exists(images) and os.path.exists(labels):
        x = torch.from_numpy(read_idx(images).reshape(-1, 784).astype(np.float32) / 255.0)
        y = torch.from_numpy(read_idx(labels).astype(np.int64))
        return x, y, f"Fashion-MNIST train ({len(y)} images, {FASHION_DIR})"
    x, y = random_batch(60000, (784,))
    return x, y, "random data of Fashion-MNIST's shape (60000 x 784; dataset-fashion-mnist not installed)"


def epoch_runner(x, y, batch):
    model = Classifier(mlp())
    n = x.shape[0]

    def run():
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            model.step(x.index_select(0, idx), y.index_select(0, idx))
    return run


def swish_runner(n):
    x = (torch.rand(n) * 8 - 4).requires_grad_()
    g = torch.rand(n) * 2 - 1

    def run():
        x.grad = None
        y = x * torch.sigmoid(1.702 * x)
        y.backward(g)
    return run


def hvp_runner(batch):
    """A Hessian-vector product of the MLP's loss by double backward, PyTorch's way."""
    model, (x, y) = mlp(), random_batch(batch, (784,))
    params = list(model.parameters())
    v = [torch.randn_like(p) for p in params]

    def run():
        loss = F.cross_entropy(model(x), y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * d).sum() for g, d in zip(grads, v))
        torch.autograd.grad(dot, params)
    return run


def xor_runner():
    model = Classifier(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)), XOR_LR, XOR_MOMENTUM)
    x = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    y = torch.tensor([[0.], [1.], [1.], [0.]])

    def run():
        model.opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(model.model(x), y)
        loss.backward()
        model.opt.step()
        loss.item()
    return run


class LstmLM(nn.Module):
    """nn.LSTM runs the whole sequence in one call, its cell fused."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(LM_VOCABULARY, 64)
        self.lstm = nn.LSTM(64, 256, batch_first=True)
        self.head = nn.Linear(256, LM_VOCABULARY)

    def forward(self, ids):
        return self.head(self.lstm(self.embed(ids))[0])


class TransformerLM(nn.Module):
    """The block written out as minGPT does (torch 1.13 has no scaled_dot_product_attention)."""

    def __init__(self, dim=128, heads=4):
        super().__init__()
        self.dim, self.heads = dim, heads
        self.embed = nn.Embedding(LM_VOCABULARY, dim)
        self.positions = nn.Parameter(torch.randn(LM_CONTEXT, dim) * 0.02)
        # GPT-2's scale for token vectors, as ours: N(0, 1) would swamp the positions.
        nn.init.normal_(self.embed.weight, std=0.02)
        self.ln_1, self.ln_2, self.ln_f = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc, self.proj = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.head = nn.Linear(dim, LM_VOCABULARY)
        self.register_buffer("future", torch.ones(LM_CONTEXT, LM_CONTEXT, dtype=torch.bool).triu(1))

    def forward(self, ids):
        b, t = ids.shape
        x = self.embed(ids) + self.positions[:t]
        q, k, v = (m.view(b, t, self.heads, -1).transpose(1, 2)
                   for m in self.qkv(self.ln_1(x)).split(self.dim, dim=2))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        weights = F.softmax(scores.masked_fill(self.future[:t, :t], float("-inf")), dim=-1)
        x = x + self.out((weights @ v).transpose(1, 2).reshape(b, t, self.dim))
        x = x + self.proj(F.gelu(self.fc(self.ln_2(x))))
        return self.head(self.ln_f(x))


class LmStep:
    """A language model's step on one fixed batch of random text: gradients set to none, AdamW
    decaying the parameters ours decays (weights and the embedding, not biases, norms or
    positions), as GPT-style training sets up its two groups."""

    def __init__(self, model, batch):
        self.model = model
        named = list(model.named_parameters())
        decayed = [p for n, p in named if p.dim() >= 2 and n != "positions"]
        plain = [p for n, p in named if not (p.dim() >= 2 and n != "positions")]
        self.opt = torch.optim.AdamW([{"params": decayed, "weight_decay": LM_WEIGHT_DECAY},
                                      {"params": plain, "weight_decay": 0.0}], lr=LM_LR)
        g = torch.Generator().manual_seed(7)
        tokens = torch.randint(0, LM_VOCABULARY, (batch, LM_CONTEXT + 1), generator=g)
        self.ids, self.targets = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(self.ids).reshape(-1, LM_VOCABULARY), self.targets.reshape(-1))
        loss.backward()
        self.opt.step()
        return loss.item()

    def note(self, ours_note, steps=3):
        """Both sides' sizes and PyTorch's first losses (from its own weights and batch)."""
        count = sum(p.numel() for p in self.model.parameters())
        losses = " ".join(f"{self.step():.4f}" for _ in range(steps))
        return f"{ours_note}, PyTorch {count}; PyTorch's losses of its first {steps} steps: {losses}"


# --- the comparisons ------------------------------------------------------------------------

def compare(out, ours, args, workload, size_arg, threads, label, size_text, work, peer_step,
            repetitions, min_time, warmup, note=""):
    def ours_block(first_touch=False):
        return ours.block(workload, size_arg, threads, min_time, 1 if first_touch else warmup)

    def peer_block(first_touch=False):
        return time_block(peer_step, min_time, 1 if first_touch else warmup)

    sides = [Side("dendrite", lambda: None, ours_block)]
    if threads == 1:
        sides.append(Side(VERSION, lambda: set_threads(1, 1), peer_block))
    else:
        t = threads
        sides.append(Side(f"{VERSION} (intra-op {t}t, OpenBLAS 1t)", lambda: set_threads(t, 1), peer_block))
        sides.append(Side(f"{VERSION} (intra-op 1t, OpenBLAS {t}t)", lambda: set_threads(1, t), peer_block, True))
    samples = interleave(sides, repetitions, args.settle)
    report(out, label, threads, size_text, work, sides, samples, note)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ours", required=True, help="the dendrite_peers binary")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.2)
    p.add_argument("--epoch-batches", default="128")
    p.add_argument("--epoch-reps", type=int, default=5)
    p.add_argument("--settle", type=float, default=0.15,
                   help="seconds to let OpenBLAS's spinning threads park after a threaded BLAS block")
    p.add_argument("--only", default="mlp,hvp,epoch,lenet,lstm,transformer,swish,xor")
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    only = set(args.only.split(","))
    out = sys.stdout
    torch.manual_seed(1)
    core = OPENBLAS.openblas_get_corename().decode() if OPENBLAS is not None else "not OpenBLAS"
    print(json.dumps({"info": "pytorch_peers", "openblas_core": core, "pytorch": torch.__version__,
                      "python": sys.executable}), file=out, flush=True)

    ours = Ours(args.ours)
    try:
        common = dict(repetitions=args.reps, min_time=args.min_time, warmup=2)
        if "mlp" in only:
            for t in threads:
                for batch in (32, 128, 512):
                    ours.prepare("mlp_step", batch)
                    model, (x, y) = Classifier(mlp()), random_batch(batch, (784,))
                    compare(out, ours, args, "mlp_step", batch, t, "MLP 784-256-128-10 step", f"batch {batch}",
                            batch, lambda: model.step(x, y), **common)
        if "hvp" in only:
            for t in threads:
                ours.prepare("mlp_hvp", 128)
                compare(out, ours, args, "mlp_hvp", 128, t, "MLP Hessian-vector product", "batch 128", 128,
                        hvp_runner(128), **common)
        if "epoch" in only:
            x, y, description = fashion_mnist_or_random()
            for t in threads:
                for batch in (int(b) for b in args.epoch_batches.split(",")):
                    note = ours.prepare("mlp_epoch", batch)["note"]
                    if note != description:
                        note = f"ours: {note}; PyTorch: {description}"
                    compare(out, ours, args, "mlp_epoch", batch, t, "MLP epoch", f"batch {batch}", len(y),
                            epoch_runner(x, y, batch), args.epoch_reps, 0.0, 0, note=note)
        if "lenet" in only:
            for t in threads:
                try:
                    ours.prepare("lenet_step", 128)
                except RuntimeError as e:  # built without our LeNet side
                    print(json.dumps({"info": "skipped", "workload": "LeNet-5 step", "why": str(e)}), file=out)
                    break
                model, (x, y) = Classifier(lenet()), random_batch(128, (1, 28, 28))
                compare(out, ours, args, "lenet_step", 128, t, "LeNet-5 step", "batch 128", 128,
                        lambda: model.step(x, y), **common)
        for name, workload, label, make in (("lstm", "lstm_step", LSTM_LABEL, LstmLM),
                                            ("transformer", "transformer_step", TRANSFORMER_LABEL, TransformerLM)):
            if name not in only:
                continue
            note = None
            for t in threads:
                ours_note = ours.prepare(workload, 32)["note"]
                lm = LmStep(make(), 32)
                note = note or lm.note(ours_note)
                compare(out, ours, args, workload, 32, t, label, "batch 32", 0, lm.step, note=note, **common)
        if "swish" in only:
            for n, text in ((1 << 20, "1M floats"), (1 << 24, "16M floats")):
                for t in threads:
                    ours.prepare("swish", n)
                    compare(out, ours, args, "swish", n, t, "activation fwd+bwd", text, 0, swish_runner(n),
                            **common)
        if "xor" in only:
            ours.prepare("xor", 4)
            compare(out, ours, args, "xor", 4, 1, "XOR 2-8-1 step", "batch 4", 0, xor_runner(), **common)
    finally:
        ours.close()


if __name__ == "__main__":
    main()
