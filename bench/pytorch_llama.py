"""PyTorch yardstick for `npm run bench`: the same Llama (GQA, RoPE, RMSNorm, SwiGLU), AdamW and
top-k% SLM selection, written the idiomatic nanoGPT way, timed on this CPU (or a GPU).

Usage: python3 bench/pytorch_llama.py '<json>' where the JSON holds
  {"config": {Hugging Face Llama fields}, "batch": B, "positions": T, "threads": n,
   "steps": s, "ratio": 0.6, "device": "cpu"}
("device" is optional: "cpu" by default, or a torch device such as "cuda", float32 either way;
"skipMatMul" skips the matMul rate).
Prints one JSON line: train and scoring tokens/s (median of `steps` timed steps after two warm-up
steps) and the 2048² float32 matMul rate at the same thread count, on that device.
With "startup": true it only builds the model, scores one batch (the first forward, timed as it
is, with the wall-clock time its losses exist) and then draws N(0, 0.02²) weights as transformers
does, timing each, and prints those figures.
"""

import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        D, H, KV, I = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["intermediate_size"]
        self.H, self.KV, self.hd, self.eps = H, KV, D // H, c["rms_norm_eps"]
        self.norm1 = nn.Parameter(torch.ones(D))
        self.norm2 = nn.Parameter(torch.ones(D))
        self.q = nn.Linear(D, H * self.hd, bias=False)
        self.k = nn.Linear(D, KV * self.hd, bias=False)
        self.v = nn.Linear(D, KV * self.hd, bias=False)
        self.o = nn.Linear(H * self.hd, D, bias=False)
        self.gate = nn.Linear(D, I, bias=False)
        self.up = nn.Linear(D, I, bias=False)
        self.down = nn.Linear(I, D, bias=False)

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def forward(self, x, cos, sin):
        B, T, D = x.shape
        h = self.rms(x, self.norm1)
        q = self.q(h).view(B, T, self.H, self.hd).transpose(1, 2)  # (B, H, T, hd)
        k = self.k(h).view(B, T, self.KV, self.hd).transpose(1, 2)  # (B, KV, T, hd)
        v = self.v(h).view(B, T, self.KV, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)  # (B, H, T, hd)
        x = x + self.o(y.transpose(1, 2).reshape(B, T, D))
        h = self.rms(x, self.norm2)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["num_hidden_layers"]))
        self.norm = nn.Parameter(torch.ones(c["hidden_size"]))
        self.head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        if c["tie_word_embeddings"]:
            self.head.weight = self.embed.weight
        self.eps = c["rms_norm_eps"]
        hd = c["hidden_size"] // c["num_attention_heads"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
        angles = torch.outer(torch.arange(c["max_position_embeddings"]).float(), inv)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, self.cos[:T], self.sin[:T])
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.norm
        return self.head(x)  # (B, T, V)


def median_seconds(work, steps, device):
    def timed():
        start = time.perf_counter()
        work()
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # GPU work is asynchronous: wait for it
        return time.perf_counter() - start

    timed()
    timed()
    return statistics.median(timed() for _ in range(steps))


def main():
    settings = json.loads(sys.argv[1])
    torch.set_num_threads(settings["threads"])
    torch.manual_seed(0)
    c = settings["config"]
    B, T, steps, ratio = settings["batch"], settings["positions"], settings["steps"], settings["ratio"]
    device = torch.device(settings.get("device", "cpu"))
    created = time.perf_counter()
    model = Llama(c).to(device)
    create_seconds = time.perf_counter() - created
    ids = torch.randint(0, c["vocab_size"], (B, T)).to(device)
    labels = torch.randint(0, c["vocab_size"], (B, T)).to(device)

    def score():
        with torch.no_grad():
            logits = model(ids)
            return F.cross_entropy(logits.view(-1, c["vocab_size"]), labels.view(-1), reduction="none")

    startup = {}
    if settings.get("startup", False):
        forward = time.perf_counter()
        score().sum().item()  # the losses exist (and are read) here
        startup = {"firstForwardSeconds": time.perf_counter() - forward, "firstLossAt": time.time()}
    # What transformers' LlamaForCausalLM(config) does next (post_init → _init_weights): every
    # Linear and Embedding weight drawn again from N(0, initializer_range²), the distribution
    # LlamaModel.create draws. Module construction alone gives Linears kaiming-uniform weights.
    initialised = time.perf_counter()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                module.weight.normal_(0.0, 0.02)  # transformers' initializer_range
    normal_init_seconds = time.perf_counter() - initialised
    if startup:
        print(json.dumps({"torch": torch.__version__, "createSeconds": create_seconds, "normalInitSeconds": normal_init_seconds, **startup}))
        return
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    ref_loss = torch.full((B * T,), 4.0, device=device)
    k = max(1, math.floor(ratio * B * T + 0.5))

    def train_step():
        logits = model(ids)
        token_loss = F.cross_entropy(logits.view(-1, c["vocab_size"]), labels.view(-1), reduction="none")
        selected = torch.topk(token_loss.detach() - ref_loss, k).indices  # top k% by excess loss
        loss = token_loss[selected].mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    train = median_seconds(train_step, steps, device)
    scoring = median_seconds(score, steps, device)
    matmul = math.nan
    if not settings.get("skipMatMul", False):
        a = torch.randn(2048, 2048, device=device)
        b = torch.randn(2048, 2048, device=device)
        matmul = median_seconds(lambda: a @ b, 10, device)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": settings["threads"],
                "device": str(device),
                "trainTokensPerSecond": B * T / train,
                "scoreTokensPerSecond": B * T / scoring,
                "matMulFlops": 2 * 2048**3 / matmul if matmul == matmul else None,
                "createSeconds": create_seconds,
                "normalInitSeconds": normal_init_seconds,
                "peakBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
