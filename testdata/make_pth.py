#!/usr/bin/python3
"""Writes the PyTorch checkpoint fixtures of testdata/pth/ from the reference
parameters in testdata/reference/ (run once; CI does not have PyTorch):

    /usr/bin/python3 testdata/make_pth.py     # Debian's python3-torch (1.13)

Every fixture holds the exact reference parameters of mae_tiny (or
mae_tiny_normpix), so `webmae forward` on it must reproduce the reference
vectors; bfloat16 rounds them, so only the loss is compared (within 2%).

  mae_tiny.official.pth    {'model', 'epoch', 'args': argparse.Namespace, 'optimizer'}
                           (official names, torch's zip format; the layout main_pretrain.py saves)
  mae_tiny_normpix.legacy.pth  the same layout, _use_new_zipfile_serialization=False
  mae_tiny.bf16.pth        {'model': official names in bfloat16}
  mae_tiny.f16.pth         bare state_dict, official names in float16
  hf/pytorch_model.bin     bare state_dict under Hugging Face names (+ config.json), as
                           transformers' save_pretrained(safe_serialization=False) writes
  mae_tiny.strided.pth     every tensor a view of ONE shared storage at its own offset,
                           2-D weights stored transposed (non-contiguous strides)
  mae_tiny.encoder.pth     encoder only (no decoder weights), like mae_pretrain_vit_*.pth
  evil.zip.pth             {'model': {'w': os.system('touch ...')}} in the zip format
  evil.legacy.pth          {'model': {'w': builtins.eval('...')}} in the legacy format
  evil_optimizer.pth       a valid model plus os.system(...) inside 'optimizer' (skipped, inert)
"""
import argparse
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "reference")
OUT = os.path.join(HERE, "pth")
# The file the malicious fixtures would create if anything ran them.
PWNED = "/tmp/webmae-pwned-by-pickle"

DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8)}


def read_safetensors(path):
    """Reads a safetensors file: 8-byte LE header length, JSON header, raw data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype, _ = DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        raw = bytearray(body[b:end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out


def official_args(norm_pix):
    """The argparse.Namespace main_pretrain.py stores under 'args'."""
    return argparse.Namespace(batch_size=64, epochs=400, accum_iter=1, model="mae_vit_tiny_patch8",
                              input_size=32, mask_ratio=0.75, norm_pix_loss=norm_pix, weight_decay=0.05,
                              lr=None, blr=1.5e-4, min_lr=0.0, warmup_epochs=40, data_path="/datasets01/imagenet_full_size/061417/",
                              output_dir="./output_dir", device="cuda", seed=0, resume="", start_epoch=0,
                              num_workers=10, pin_mem=True, world_size=8, local_rank=-1, dist_on_itp=False,
                              dist_url="env://", distributed=True, rank=0, gpu=0, dist_backend="nccl")


def optimizer_state(state_dict):
    """A real AdamW state_dict after one step over the model's parameters."""
    params = [torch.nn.Parameter(t.clone()) for n, t in state_dict.items() if n != "pos_embed" and n != "decoder_pos_embed"]
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05)
    for p in params:
        p.grad = torch.full_like(p, 1e-3)
    opt.step()
    return opt.state_dict()


def official_layout(sd, norm_pix):
    return {"model": sd, "optimizer": optimizer_state(sd), "epoch": 399,
            "scaler": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000, "_growth_tracker": 1200},
            "args": official_args(norm_pix)}


def shared_strided(sd):
    """Every tensor a view into one flat storage at its own offset; 2-D
    tensors are stored transposed and viewed back with .t(), so their
    strides are not row-major."""
    total = sum(t.numel() for t in sd.values())
    flat = torch.zeros(total, dtype=torch.float32)
    out, off = {}, 0
    for name, t in sd.items():
        n = t.numel()
        if t.dim() == 2:
            flat[off:off + n] = t.t().contiguous().flatten()
            out[name] = flat[off:off + n].view(t.shape[1], t.shape[0]).t()
        else:
            flat[off:off + n] = t.flatten()
            out[name] = flat[off:off + n].view(t.shape)
        assert torch.equal(out[name], t)
        off += n
    return out


class Evil:
    """Unpickling this runs fn(arg): what a malicious checkpoint does."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def save(obj, name, legacy=False):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    torch.manual_seed(0)
    tiny = read_safetensors(os.path.join(REF, "mae_tiny.timm.safetensors"))
    normpix = read_safetensors(os.path.join(REF, "mae_tiny_normpix.timm.safetensors"))
    hf = read_safetensors(os.path.join(REF, "mae_tiny.safetensors"))

    save(official_layout(tiny, False), "mae_tiny.official.pth")
    save(official_layout(normpix, True), "mae_tiny_normpix.legacy.pth", legacy=True)
    save({"model": {n: t.to(torch.bfloat16) for n, t in tiny.items()}}, "mae_tiny.bf16.pth")
    save({n: t.to(torch.float16) for n, t in tiny.items()}, "mae_tiny.f16.pth")
    save(hf, "hf/pytorch_model.bin")
    with open(os.path.join(REF, "mae_tiny.config.json")) as f:
        cfg = f.read()
    with open(os.path.join(OUT, "hf", "config.json"), "w") as f:
        f.write(cfg)
    save({"model": shared_strided(tiny)}, "mae_tiny.strided.pth")
    enc = {n: t for n, t in tiny.items() if not (n.startswith("decoder") or n == "mask_token")}
    save({"model": enc, "epoch": 399, "args": official_args(False)}, "mae_tiny.encoder.pth")

    save({"model": {"w": Evil(os.system, "touch " + PWNED)}}, "evil.zip.pth")
    save({"model": {"w": Evil(eval, "__import__('os').system('touch %s')" % PWNED)}}, "evil.legacy.pth", legacy=True)
    save({"model": tiny, "optimizer": Evil(os.system, "touch " + PWNED)}, "evil_optimizer.pth")
    if os.path.exists(PWNED):
        sys.exit(f"{PWNED} exists: remove it (the tests check that loading never creates it)")


if __name__ == "__main__":
    main()
