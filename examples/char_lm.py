#!/usr/bin/python3
"""examples/char_lm.cpp's models, data, initialisation and schedule in PyTorch: what the same
model reaches in the same number of steps, to hold dendrite's validation bits per character
against.

    /usr/bin/python3 examples/char_lm.py [--model lstm|transformer] [--epochs N] [--steps N]
                                         [--batch N] [--context N] [--layers N] [--lr X]
                                         [--threads N] [--seed N] [--text FILE]

Needs python3-torch. Prints one line per epoch and ends with `validation bpc: X.XXX`, as
char_lm does. The batches are drawn by numpy, not by dendrite's generator: compare across seeds.
"""
import argparse
import math
import os
import sys
import time


def best_openblas_kernel():
    """Debian's OpenBLAS 0.3.21 does not recognise recent CPUs and falls back to an old kernel;
    torch's products run on it, so name the fastest one this CPU runs (as bench/run-peers does)."""
    # torch splits work over its own threads; OpenBLAS's would only compete with them.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read().split()
    except OSError:
        return
    if "avx512f" in flags:
        os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    elif "avx2" in flags:
        os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")


best_openblas_kernel()
import numpy as np  # noqa: E402 (after the kernel is named)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VOCABULARY = 96
FORTUNES = "/usr/share/games/fortunes"


def encode(text):
    """'\\n' -> 0, printable ASCII -> 1..95, tabs as spaces, anything else as '?' (char_lm's)."""
    data = np.frombuffer(text, dtype=np.uint8).copy()
    data[data == ord("\t")] = ord(" ")
    newline = data == ord("\n")
    data[(data < 32) | (data > 126)] = ord("?")
    ids = data.astype(np.int64) - 31
    ids[newline] = 0
    return ids


def load_corpus(path):
    if path:
        with open(path, "rb") as f:
            return encode(f.read()), path
    if not os.path.isdir(FORTUNES):
        sys.exit("char_lm.py: no text: install fortunes or pass --text FILE")
    names = sorted(n for n in os.listdir(FORTUNES)
                   if "." not in n and os.path.isfile(os.path.join(FORTUNES, n)))
    text = bytearray()
    for n in names:
        with open(os.path.join(FORTUNES, n), "rb") as f:
            lines = f.read().split(b"\n")
        if lines[-1] == b"":  # a final newline ends the last line, as getline reads it
            lines.pop()
        for line in lines:
            text += b"\n" if line == b"%" else line + b"\n"
    return encode(bytes(text)), f"Debian's fortunes ({len(names)} files)"


def glorot_(w):
    # dendrite's weights are [in, out]; torch's Linear holds [out, in]: the bound is symmetric.
    torch.nn.init.xavier_uniform_(w)


class LSTMModel(torch.nn.Module):
    def __init__(self, layers, hidden=256):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCABULARY, 64)
        self.lstm = torch.nn.LSTM(64, hidden, num_layers=layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, VOCABULARY)
        torch.nn.init.normal_(self.embed.weight)
        bound = 1 / math.sqrt(hidden)
        for p in self.lstm.parameters():
            torch.nn.init.uniform_(p, -bound, bound)
        glorot_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)

    def forward(self, ids):
        return self.head(self.lstm(self.embed(ids))[0])


class Block(torch.nn.Module):
    def __init__(self, dim, heads, ff):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.out = torch.nn.Linear(dim, dim)
        self.norm2 = torch.nn.LayerNorm(dim)
        self.fc = torch.nn.Linear(dim, ff)
        self.proj = torch.nn.Linear(ff, dim)
        for lin in (self.qkv, self.out, self.fc, self.proj):
            glorot_(lin.weight)
            torch.nn.init.zeros_(lin.bias)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(d, dim=2)
        split = lambda m: m.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = q @ k.transpose(2, 3) / math.sqrt(d // self.heads)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        weights = scores.masked_fill(causal, float("-inf")).softmax(dim=3)
        x = x + self.out((weights @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.proj(F.gelu(self.fc(self.norm2(x))))


class TransformerModel(torch.nn.Module):
    def __init__(self, layers, context, dim=128):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCABULARY, dim)
        self.positions = torch.nn.Parameter(torch.empty(context, dim))
        self.blocks = torch.nn.ModuleList(Block(dim, 4, 4 * dim) for _ in range(layers))
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, VOCABULARY)
        torch.nn.init.normal_(self.embed.weight, std=0.02)
        torch.nn.init.normal_(self.positions, std=0.02)
        glorot_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)

    def forward(self, ids):
        h = self.embed(ids) + self.positions[: ids.shape[1]]
        for b in self.blocks:
            h = b(h)
        return self.head(self.norm(h))


def validate(model, text, batch, context, max_windows=512):
    windows = min(max_windows, (len(text) - 1) // context)
    total, correct = 0.0, 0
    with torch.no_grad():
        for first in range(0, windows, batch):
            rows = min(batch, windows - first)
            starts = (np.arange(rows) + first) * context
            x = torch.from_numpy(np.stack([text[s:s + context] for s in starts]))
            y = torch.from_numpy(np.stack([text[s + 1:s + context + 1] for s in starts]))
            logits = model(x)
            total += F.cross_entropy(logits.reshape(-1, VOCABULARY), y.reshape(-1)).item() * rows
            correct += (logits.argmax(2) == y).sum().item()
    return total / windows / math.log(2), correct / (windows * context)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["lstm", "transformer"], default="lstm")
    p.add_argument("--text", default="")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--steps", type=int, default=250)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--layers", type=int, default=0)
    p.add_argument("--lr", type=float, default=0)
    # One: at these sizes torch's step is slower on two threads than on one.
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    ids, description = load_corpus(a.text)
    split = len(ids) * 9 // 10
    train, valid = ids[:split], ids[split:]
    print(f"text: {description}, {len(ids)} characters")
    lstm = a.model == "lstm"
    model = LSTMModel(a.layers or 1) if lstm else TransformerModel(a.layers or 4, a.context)
    print(f"model: {a.model}, {sum(p.numel() for p in model.parameters())} parameters")
    peak = a.lr or (3e-3 if lstm else 1e-3)
    # char_lm decays weights and embeddings, not biases, norms or positions: two groups.
    named = list(model.named_parameters())
    decayed = [p for n, p in named if p.dim() >= 2 and n != "positions"]
    plain = [p for n, p in named if not (p.dim() >= 2 and n != "positions")]
    opt = torch.optim.AdamW([{"params": decayed, "weight_decay": 0.01},
                             {"params": plain, "weight_decay": 0.0}], lr=peak)
    total = a.epochs * a.steps
    warmup = min(100, total // 10)

    def rate(step):  # char_lm's: a linear warm-up, then cosine decay to 5% of the peak
        if step < warmup:
            return peak * (step + 1) / warmup
        phase = (step - warmup) / max(1, total - warmup)
        return peak * (0.05 + 0.95 * (1 + math.cos(math.pi * phase)) / 2)

    offsets = np.arange(a.context)
    bpc = float("nan")
    for epoch in range(1, a.epochs + 1):
        start, loss_sum = time.time(), 0.0
        model.train()
        for s in range(a.steps):
            starts = rng.integers(0, len(train) - a.context, size=a.batch)
            x = torch.from_numpy(train[starts[:, None] + offsets])
            y = torch.from_numpy(train[starts[:, None] + offsets + 1])
            loss = F.cross_entropy(model(x).reshape(-1, VOCABULARY), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            for g in opt.param_groups:
                g["lr"] = rate((epoch - 1) * a.steps + s)
            opt.step()
            loss_sum += loss.item()
        model.eval()
        bpc, accuracy = validate(model, valid, a.batch, a.context)
        print(f"epoch {epoch}: train bpc {loss_sum / a.steps / math.log(2):.3f}, "
              f"validation bpc {bpc:.3f}, accuracy {accuracy:.3f}, {time.time() - start:.1f} s",
              flush=True)
    print(f"validation bpc: {bpc:.3f}")


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as e:  # an unreadable text, a bad argument value
        sys.exit(f"char_lm.py: {e}")
