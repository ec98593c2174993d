#!/usr/bin/python3
"""Attention probabilities of the reference MAE, for engine/explore's tests.

Runs the forward pass of Hugging Face's ViTMAEForPreTraining (the official
facebookresearch/mae computation) in float64 with PyTorch on
testdata/reference/NAME.safetensors and the pixel_values and noise of
NAME.io.safetensors, and stores what `output_attentions=True` returns: the
softmax probabilities (B, heads, T, T) of every encoder layer (T = 1 + kept
patches: CLS, then the kept patches in ids_shuffle order) and every decoder
layer (T = 1 + L: CLS, then every patch in original order after
ids_restore), as float32, under enc.N and dec.N in
NAME.attention.safetensors. The logits are checked against the stored
reference logits first, so the forward is the reference one.

Usage: /usr/bin/python3 testdata/make_attention_ref.py [NAME]   (default mae_tiny)
Needs only torch (no transformers, no safetensors package).
"""
import json
import math
import struct
import sys
from pathlib import Path

import torch

DIR = Path(__file__).resolve().parent / "reference"
DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        buf = bytearray(data[8 + n + lo : 8 + n + hi])
        t = torch.frombuffer(buf, dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = t.clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def layer(x, w, prefix, heads, eps, attn_prefix):
    """One ViTLayer (pre-norm); returns the output and the probabilities."""
    def lin(v, name):
        return v @ w[name + ".weight"].T + w[name + ".bias"]

    def ln(v, name):
        return torch.nn.functional.layer_norm(v, v.shape[-1:], w[name + ".weight"], w[name + ".bias"], eps)

    b, t, d = x.shape
    hd = d // heads
    h = ln(x, prefix + "layernorm_before")

    def split(v):
        return v.reshape(b, t, heads, hd).permute(0, 2, 1, 3)

    q = split(lin(h, prefix + attn_prefix + "query"))
    k = split(lin(h, prefix + attn_prefix + "key"))
    v = split(lin(h, prefix + attn_prefix + "value"))
    probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
    ctx = (probs @ v).permute(0, 2, 1, 3).reshape(b, t, d)
    x = x + lin(ctx, prefix + "attention.output.dense")
    m = torch.nn.functional.gelu(lin(ln(x, prefix + "layernorm_after"), prefix + "intermediate.dense"))
    return x + lin(m, prefix + "output.dense"), probs


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "mae_tiny"
    cfg = json.loads((DIR / f"{name}.config.json").read_text())
    w = {k: v.double() for k, v in read_safetensors(DIR / f"{name}.safetensors").items()}
    io = read_safetensors(DIR / f"{name}.io.safetensors")
    x, noise = io["pixel_values"].double(), io["noise"].double()
    eps, p = cfg["layer_norm_eps"], cfg["patch_size"]
    b = x.shape[0]

    emb = torch.nn.functional.conv2d(x, w["vit.embeddings.patch_embeddings.projection.weight"],
                                     w["vit.embeddings.patch_embeddings.projection.bias"], stride=p)
    emb = emb.flatten(2).transpose(1, 2)
    pos = w["vit.embeddings.position_embeddings"]
    emb = emb + pos[:, 1:]
    l, d = emb.shape[1], emb.shape[2]
    keep = int(l * (1 - cfg["mask_ratio"]))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    kept = torch.gather(emb, 1, ids_shuffle[:, :keep, None].expand(-1, -1, d))
    cls = (w["vit.embeddings.cls_token"] + pos[:, :1]).expand(b, -1, -1)
    h = torch.cat([cls, kept], dim=1)

    out = {}
    for i in range(cfg["num_hidden_layers"]):
        h, out[f"enc.{i}"] = layer(h, w, f"vit.encoder.layer.{i}.", cfg["num_attention_heads"], eps, "attention.attention.")
    h = torch.nn.functional.layer_norm(h, (d,), w["vit.layernorm.weight"], w["vit.layernorm.bias"], eps)

    z = h @ w["decoder.decoder_embed.weight"].T + w["decoder.decoder_embed.bias"]
    dd = z.shape[-1]
    mask_tokens = w["decoder.mask_token"].expand(b, l + 1 - z.shape[1], -1)
    z_ = torch.cat([z[:, 1:], mask_tokens], dim=1)
    z_ = torch.gather(z_, 1, ids_restore[:, :, None].expand(-1, -1, dd))
    z = torch.cat([z[:, :1], z_], dim=1) + w["decoder.decoder_pos_embed"]
    for i in range(cfg["decoder_num_hidden_layers"]):
        z, out[f"dec.{i}"] = layer(z, w, f"decoder.decoder_layers.{i}.", cfg["decoder_num_attention_heads"], eps, "attention.attention.")
    z = torch.nn.functional.layer_norm(z, (dd,), w["decoder.decoder_norm.weight"], w["decoder.decoder_norm.bias"], eps)
    logits = (z @ w["decoder.decoder_pred.weight"].T + w["decoder.decoder_pred.bias"])[:, 1:]

    err = (logits - io["logits"].double()).abs().max().item()
    if err > 1e-5:
        sys.exit(f"logits differ from the stored reference by {err:.3g}: not the reference forward")
    if not torch.equal(ids_restore, io["ids_restore"]):
        sys.exit("ids_restore differs from the stored reference")
    dst = DIR / f"{name}.attention.safetensors"
    write_safetensors(dst, out)
    print(f"{dst}: {', '.join(f'{k} {tuple(v.shape)}' for k, v in out.items())}; logits within {err:.2g} of the reference")


if __name__ == "__main__":
    main()
