#!/usr/bin/python3
"""Reference vectors for the tutorial's MAE family (engine/tutorial).

Needs only PyTorch (Debian's python3-torch); safetensors files are written
and read by hand (8-byte little-endian header length, JSON header, raw
little-endian data), since python3-safetensors is not packaged.

  make_reference.py convert PTH OUT.safetensors
      every entry of a torch.save(state_dict) as float32 safetensors, the
      patch_to_emb aliases included (as separate copies).
  make_reference.py second OUTDIR
      builds a second random model (heads == 1 and dim_head == dim, so
      to_out is the identity, and dim == decoder_dim, so enc_to_dec is the
      identity) and writes OUTDIR/tutorial_mae_identity.{config.json,
      safetensors,pth,io.safetensors}: its float64 forward/backward with
      the names of tutorial_mae.io.safetensors.
  make_reference.py check CONFIG WEIGHTS.safetensors IO.safetensors
      loads WEIGHTS (e.g. a webmae export) into the tutorial's module with
      mae.load_state_dict(..., strict=False), runs the inputs of IO in
      float64 and prints the loss and logits differences; exits 1 when the
      loss differs by 1e-5 relative or the logits by 1e-4.

The module definitions below are the tutorial's (seed article) MAE over the
ViT of FrancoisPorcher/vit-pytorch (lucidrains' ViT), written without
einops; `noise` replaces torch.rand in the masking.
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F
from torch import nn


class Patchify(nn.Module):
    """Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)')."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        b, c, hh, ww = x.shape
        p = self.p
        x = x.reshape(b, c, hh // p, p, ww // p, p)
        return x.permute(0, 2, 4, 3, 5, 1).reshape(b, (hh // p) * (ww // p), p * p * c)


class FeedForward(nn.Module):
    def __init__(self, dim, hidden_dim):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden_dim), nn.GELU(), nn.Dropout(0.0),
                                 nn.Linear(hidden_dim, dim), nn.Dropout(0.0))

    def forward(self, x):
        return self.net(x)


class Attention(nn.Module):
    def __init__(self, dim, heads, dim_head):
        super().__init__()
        inner = dim_head * heads
        project_out = not (heads == 1 and dim_head == dim)
        self.heads = heads
        self.scale = dim_head ** -0.5
        self.norm = nn.LayerNorm(dim)
        self.attend = nn.Softmax(dim=-1)
        self.dropout = nn.Dropout(0.0)
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(0.0)) if project_out else nn.Identity()

    def forward(self, x):
        x = self.norm(x)
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in self.to_qkv(x).chunk(3, dim=-1))
        attn = self.dropout(self.attend(torch.matmul(q, k.transpose(-1, -2)) * self.scale))
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, -1)
        return self.to_out(out)


class Transformer(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, mlp_dim_ratio):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.layers = nn.ModuleList([nn.ModuleList([Attention(dim, heads, dim_head), FeedForward(dim, dim * mlp_dim_ratio)])
                                     for _ in range(depth)])

    def forward(self, x):
        for attn, ff in self.layers:
            x = attn(x) + x
            x = ff(x) + x
        return self.norm(x)


class ViT(nn.Module):
    def __init__(self, *, image_size, patch_size, num_classes, dim, depth, heads, mlp_dim_ratio, pool="cls",
                 channels=3, dim_head=64):
        super().__init__()
        n = (image_size // patch_size) ** 2
        patch_dim = channels * patch_size * patch_size
        self.to_patch_embedding = nn.Sequential(Patchify(patch_size), nn.LayerNorm(patch_dim), nn.Linear(patch_dim, dim),
                                                nn.LayerNorm(dim))
        self.pos_embedding = nn.Parameter(torch.randn(1, n + 1, dim))
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.transformer = Transformer(dim, depth, heads, dim_head, mlp_dim_ratio)
        self.pool = pool
        self.mlp_head = nn.Linear(dim, num_classes)


class MAE(nn.Module):
    def __init__(self, *, encoder, decoder_dim, masking_ratio=0.75, decoder_depth=1, decoder_heads=8, decoder_dim_head=64):
        super().__init__()
        assert 0 < masking_ratio < 1
        self.masking_ratio = masking_ratio
        self.encoder = encoder
        num_patches, encoder_dim = encoder.pos_embedding.shape[-2:]
        self.to_patch = encoder.to_patch_embedding[0]
        self.patch_to_emb = nn.Sequential(*encoder.to_patch_embedding[1:])
        pixel_values_per_patch = encoder.to_patch_embedding[2].weight.shape[-1]
        self.decoder_dim = decoder_dim
        self.enc_to_dec = nn.Linear(encoder_dim, decoder_dim) if encoder_dim != decoder_dim else nn.Identity()
        self.mask_token = nn.Parameter(torch.randn(decoder_dim))
        self.decoder = Transformer(decoder_dim, decoder_depth, decoder_heads, decoder_dim_head, 4)
        self.decoder_pos_emb = nn.Embedding(num_patches, decoder_dim)
        self.to_pixels = nn.Linear(decoder_dim, pixel_values_per_patch)

    def forward(self, img, noise):
        """Returns (loss, logits of every token (B, L, P*P*C), mask (B, L))."""
        patches = self.to_patch(img)
        batch, num_patches, *_ = patches.shape
        tokens = self.patch_to_emb(patches)
        tokens = tokens + self.encoder.pos_embedding[:, 1:num_patches + 1]
        num_masked = int(self.masking_ratio * num_patches)
        rand_indices = noise.argsort(dim=-1)
        masked_indices, unmasked_indices = rand_indices[:, :num_masked], rand_indices[:, num_masked:]
        batch_range = torch.arange(batch)[:, None]
        tokens = tokens[batch_range, unmasked_indices]
        masked_patches = patches[batch_range, masked_indices]
        encoded = self.encoder.transformer(tokens)
        decoder_tokens = self.enc_to_dec(encoded)
        unmasked_decoder_tokens = decoder_tokens + self.decoder_pos_emb(unmasked_indices)
        mask_tokens = self.mask_token[None, None, :].expand(batch, num_masked, -1)
        mask_tokens = mask_tokens + self.decoder_pos_emb(masked_indices)
        seq = torch.zeros(batch, num_patches, self.decoder_dim, dtype=img.dtype)
        seq[batch_range, unmasked_indices] = unmasked_decoder_tokens
        seq[batch_range, masked_indices] = mask_tokens
        decoded = self.decoder(seq)
        pred = self.to_pixels(decoded[batch_range, masked_indices])
        loss = F.mse_loss(pred, masked_patches)
        mask = torch.zeros(batch, num_patches)
        mask[batch_range, masked_indices] = 1
        return loss, self.to_pixels(decoded), mask


def build(cfg):
    vit = ViT(image_size=cfg["image_size"], patch_size=cfg["patch_size"], num_classes=cfg["num_classes"], dim=cfg["dim"],
              depth=cfg["depth"], heads=cfg["heads"], mlp_dim_ratio=cfg["mlp_dim_ratio"], pool=cfg.get("pool", "cls"),
              channels=cfg.get("channels", 3), dim_head=cfg.get("dim_head", 64))
    return MAE(encoder=vit, decoder_dim=cfg["decoder_dim"], masking_ratio=cfg.get("masking_ratio", 0.75),
               decoder_depth=cfg.get("decoder_depth", 1), decoder_heads=cfg.get("decoder_heads", 8),
               decoder_dim_head=cfg.get("decoder_dim_head", 64))


DTYPES = {torch.float32: ("F32", "<f"), torch.float64: ("F64", "<d"), torch.int64: ("I64", "<q")}
FROM_CODE = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I64": (torch.int64, 8)}


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        code, fmt = DTYPES[t.dtype]
        flat = t.reshape(-1).tolist()
        data = struct.pack("<%d%s" % (len(flat), fmt[1]), *flat)
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] == "F16":
            a, b = e["data_offsets"]
            vals = struct.unpack("<%de" % ((b - a) // 2), body[a:b])
            out[name] = torch.tensor(vals, dtype=torch.float32).reshape(e["shape"])
            continue
        dt, size = FROM_CODE[e["dtype"]]
        a, b = e["data_offsets"]
        vals = struct.unpack("<%d%s" % ((b - a) // size, DTYPES[dt][1][1]), body[a:b])
        out[name] = torch.tensor(vals, dtype=dt).reshape(e["shape"])
    return out


def run_reference(mae, pixel_values, noise):
    mae = mae.double()
    mae.zero_grad()
    loss, logits, mask = mae(pixel_values.double(), noise)
    loss.backward()
    out = {"pixel_values": pixel_values.float(), "noise": noise.float(), "loss": loss.detach().reshape(1),
           "logits": logits.detach(), "mask": mask}
    for name, p in mae.named_parameters():  # shared tensors appear once, under the encoder's name
        if p.grad is not None:
            out["grad." + name] = p.grad.detach()
    return out


def second(outdir):
    torch.manual_seed(1234)
    cfg = {"architecture": "vit-pytorch-mae", "image_size": 24, "patch_size": 4, "channels": 2, "num_classes": 5, "dim": 32,
           "depth": 2, "heads": 1, "dim_head": 32, "mlp_dim_ratio": 2, "pool": "cls", "decoder_dim": 32,
           "decoder_depth": 1, "decoder_heads": 1, "decoder_dim_head": 32, "masking_ratio": 0.6}
    mae = build(cfg)
    with torch.no_grad():  # LayerNorms away from the identity, so their gradients are checked
        for name, p in mae.named_parameters():
            if "norm" in name or "to_patch_embedding.1" in name or "to_patch_embedding.3" in name:
                p.add_(0.1 * torch.randn_like(p))
    base = outdir + "/tutorial_mae_identity"
    with open(base + ".config.json", "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    torch.save(mae.state_dict(), base + ".pth")
    save_safetensors(base + ".safetensors", {k: v.float() for k, v in mae.state_dict().items()})
    b, l = 2, (cfg["image_size"] // cfg["patch_size"]) ** 2
    pixel_values = torch.randn(b, cfg["channels"], cfg["image_size"], cfg["image_size"])
    noise = torch.rand(b, l)
    save_safetensors(base + ".io.safetensors", run_reference(mae, pixel_values, noise))


def check(config_path, weights_path, io_path):
    with open(config_path) as f:
        cfg = json.load(f)
    mae = build(cfg)
    res = mae.load_state_dict(load_safetensors(weights_path), strict=False)
    print("missing keys:", res.missing_keys)
    print("unexpected keys:", res.unexpected_keys)
    io = load_safetensors(io_path)
    mae = mae.double()
    with torch.no_grad():
        loss, logits, mask = mae(io["pixel_values"].double(), io["noise"])
    rel = abs(loss.item() - io["loss"].item()) / abs(io["loss"].item())
    err = (logits - io["logits"].double()).abs().max().item()
    print("loss %.9g vs %.9g: relative %.3g; logits max abs %.3g; mask equal %s" %
          (loss.item(), io["loss"].item(), rel, err, bool((mask == io["mask"]).all())))
    ok = rel < 1e-5 and err < 1e-4 and bool((mask == io["mask"]).all()) and not res.unexpected_keys
    ok = ok and all(k.startswith("patch_to_emb.") for k in res.missing_keys)
    sys.exit(0 if ok else 1)


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "convert":
        sd = torch.load(args[1], map_location="cpu")
        save_safetensors(args[2], {k: v.float() for k, v in sd.items()})
    elif len(args) == 2 and args[0] == "second":
        second(args[1])
    elif len(args) == 4 and args[0] == "check":
        check(args[1], args[2], args[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
