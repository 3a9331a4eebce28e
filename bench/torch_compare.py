#!/usr/bin/env python3
"""Loss-curve check of `moeplan train` against the PyTorch reference model
(bench/ref/torch_moe_ref.py, a copy of shared/bench/torch_moe_ref.py): same initial weights, same
batches, same optimizer and schedule; writes the curves and their relative differences.

Inputs, all written by one `moeplan train` run:
  --init FILE     its --save-init safetensors: the initial weights under the parameter names,
                  and metadata "architecture" and "train_config" (batch, steps, peak_lr,
                  warmup_fraction, final_lr_fraction, adamw), so the reference is configured
                  from what the trainer actually used
  --batches FILE  its --dump-batches: int32 little-endian, (steps, batch, context+1) windows
  --log FILE      its --log JSON lines: train_loss, grad_norm and lr per step

The reference is torch_moe_ref.Model(grouped=False) with every RMSNorm's eps set to 1e-6
(moeplan's kRmsNormEps; nn.RMSNorm's default is finfo.eps), trained in bf16 autocast with
torch.optim.AdamW and clip_grad_norm_, the learning rate set per step by moeplan's schedule
(verify/lr_schedule.h): linear warm-up over W = round(w*S) steps, then cosine to f*peak.

Two PyTorch arms from the same initial weights and batches:
  torch       bf16 autocast on CUDA (off on CPU, where it is fp32), the arm moeplan is compared to
  torch_fp32  no autocast, TF32 off (matmul and cuDNN): the yardstick. How far the bf16 arm drifts
              from it is the size of bf16 noise on this chaotic trajectory; moeplan drifting by
              about as much, with a mean signed difference near zero, is noise, not a bias.
              --no-fp32 skips it (then the keys below that name fp32 are absent).

Output (--out, JSON; one line without the curves on stdout). Relative differences are
(a - b) / |b|, step numbers 1-based; "last half" is steps floor(S/2)+1 .. S of the S compared:
  steps_compared, max_rel_diff_loss, max_rel_diff_loss_step, mean_rel_diff_loss,
  rel_diff_loss_step1, mean_signed_rel_diff_loss_last_half, final_loss {moeplan, torch,
  torch_fp32}, max_rel_diff_grad_norm, max_rel_diff_grad_norm_step, mean_rel_diff_grad_norm,
  max_abs_lr_diff, within_1pct       moeplan vs the torch (bf16) arm
  torch_bf16_vs_fp32, moeplan_vs_torch_fp32   each {max_rel_diff_loss, max_rel_diff_loss_step,
                                    mean_rel_diff_loss, mean_signed_rel_diff_loss_last_half}
  architecture, train_config        as read from --init
  torch, torch_fp32                 version, device, GPU, seconds, autocast, tf32
  curves                            moeplan_train_loss, torch_train_loss, torch_fp32_train_loss,
                                    moeplan_grad_norm, torch_grad_norm, torch_fp32_grad_norm, lr

  python3 bench/torch_compare.py --init I --batches B --log L --out compare.json [--no-fp32]
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "ref"))


def read_safetensors(path):
    """(metadata dict, {name: np.float32 array})."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    kinds = {"F32": np.float32, "F16": np.float16}
    tensors = {}
    for name, v in header.items():
        a, b = v["data_offsets"]
        raw = data[a:b]
        if v["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif v["dtype"] in kinds:
            arr = np.frombuffer(raw, dtype=kinds[v["dtype"]]).astype(np.float32)
        else:
            raise SystemExit(f"{path}: tensor {name} has unsupported dtype {v['dtype']}")
        tensors[name] = arr.reshape(v["shape"]).copy()
    return meta, tensors


def lr_at(step, peak, warmup_fraction, final_fraction, total):
    """moeplan's LrSchedule::at (verify/lr_schedule.cpp); round half away from zero as llround."""
    w = int(math.floor(warmup_fraction * total + 0.5))
    if step < w:
        return peak * (step + 1) / w
    progress = min(1.0, (step - w) / max(1, total - w))
    final = final_fraction * peak
    return final + (peak - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def read_log(path):
    """{step: record} of the records with a train_loss (step 0 holds only val_loss)."""
    records = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if "train_loss" in r:
                records[int(r["step"])] = r
    return records


def max_rel(a, b):
    """(largest |a-b|/|b| over the common indices, its step (1-based), mean of the same)."""
    rel = [abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b)]
    if not rel:
        return None, None, None
    i = int(np.argmax(rel))
    return rel[i], i + 1, float(np.mean(rel))


def mean_signed_last_half(a, b):
    """Mean of (a-b)/|b| over the last half of the common steps: > 0 when a is higher there."""
    n = min(len(a), len(b))
    rel = [(x - y) / max(abs(y), 1e-12) for x, y in zip(a[n // 2:n], b[n // 2:n])]
    return float(np.mean(rel)) if rel else None


def loss_stats(a, b):
    """Loss curve a against curve b."""
    rel, step, mean = max_rel(a, b)
    return {"max_rel_diff_loss": rel, "max_rel_diff_loss_step": step, "mean_rel_diff_loss": mean,
            "mean_signed_rel_diff_loss_last_half": mean_signed_last_half(a, b)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--init", required=True)
    ap.add_argument("--batches", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--steps", type=int, default=0, help="steps to compare (default: all)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--no-fp32", action="store_true", help="skip the fp32 (no autocast, no TF32) arm")
    ap.add_argument("--out", required=True, help="compare.json")
    a = ap.parse_args()

    import torch
    import torch_moe_ref as ref

    meta, init = read_safetensors(a.init)
    if "train_config" not in meta:
        raise SystemExit(f"{a.init} was not written by moeplan train --save-init (no train_config)")
    arch = json.loads(meta["architecture"])
    tc = json.loads(meta["train_config"])
    d, L, H = arch["d_model"], arch["n_layers"], arch["n_heads"]
    E, K, G = arch["experts"], arch["active_experts"], arch["granularity"]
    V, T, B = arch["vocab_size"], arch["context"], tc["batch_sequences"]
    if arch.get("expert_hidden", 4 * d // G) != 4 * d // G:
        raise SystemExit(f"expert_hidden {arch['expert_hidden']} != 4*d/G: torch_moe_ref cannot build it")
    if arch.get("tied_embeddings"):
        raise SystemExit("torch_moe_ref has untied embeddings only")
    total_steps = tc["steps"]
    adamw = tc["adamw"]

    windows = np.fromfile(a.batches, dtype="<i4")
    if windows.size % (B * (T + 1)):
        raise SystemExit(f"{a.batches}: {windows.size} tokens is not a whole number of ({B}, {T + 1}) batches")
    windows = windows.reshape(-1, B, T + 1)
    ours = read_log(a.log)
    steps = min(len(windows), len(ours), a.steps or len(windows))
    if steps == 0:
        raise SystemExit("no steps to compare (empty batch dump or log)")

    dev = a.device if (a.device == "cpu" or torch.cuda.is_available()) else "cpu"
    cfg = dict(name="compare", d=d, L=L, H=H, E=E, K=K, G=G, V=V, T=T, B=B)
    clip = adamw["grad_clip"]

    def train(autocast):
        """One arm from the initial weights: (train losses, grad norms, lrs, seconds)."""
        model = ref.Model(cfg, grouped=False)
        for m in model.modules():  # moeplan's kRmsNormEps
            if isinstance(m, torch.nn.RMSNorm):
                m.eps = 1e-6
        params = dict(model.named_parameters())
        missing = sorted(set(params) - set(init))
        if missing:
            raise SystemExit(f"{a.init} lacks {missing[:5]}")
        with torch.no_grad():
            for name, p in params.items():
                if tuple(p.shape) != init[name].shape:
                    raise SystemExit(f"{name}: shape {tuple(p.shape)} in torch, {init[name].shape} in {a.init}")
                p.copy_(torch.from_numpy(init[name]))
        model.to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=tc["peak_lr"], betas=(adamw["beta1"], adamw["beta2"]),
                                eps=adamw["eps"], weight_decay=adamw["weight_decay"])
        losses, gns, lrs = [], [], []
        start = time.perf_counter()
        for s in range(steps):
            lr = lr_at(s, tc["peak_lr"], tc["warmup_fraction"], tc["final_lr_fraction"], total_steps)
            for g in opt.param_groups:
                g["lr"] = lr
            w = torch.from_numpy(windows[s].astype(np.int64)).to(dev)
            x, y = w[:, :-1].contiguous(), w[:, 1:].contiguous()
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=autocast):
                ce, loss = model(x, y)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip > 0 else float("inf"))
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(float(ce.detach()))
            gns.append(float(gn))
            lrs.append(lr)
        return losses, gns, lrs, time.perf_counter() - start

    def arm_info(seconds, autocast):
        return {"version": torch.__version__, "device": dev,
                "gpu": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu", "seconds": seconds,
                "autocast": "bf16" if autocast else "off (fp32)",
                "tf32": {"matmul": torch.backends.cuda.matmul.allow_tf32,
                         "cudnn": torch.backends.cudnn.allow_tf32}}

    torch_loss, torch_gn, lrs, seconds = train(autocast=dev == "cuda")
    torch_info = arm_info(seconds, dev == "cuda")
    fp32 = None
    if not a.no_fp32:
        tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        try:
            fp32_loss, fp32_gn, _, fp32_seconds = train(autocast=False)
            fp32 = {"loss": fp32_loss, "grad_norm": fp32_gn, "info": arm_info(fp32_seconds, False)}
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32

    our_loss = [float(ours[s + 1]["train_loss"]) for s in range(steps)]
    our_gn = [float(ours[s + 1]["grad_norm"]) for s in range(steps)]
    our_lr = [float(ours[s + 1]["lr"]) for s in range(steps)]
    loss = loss_stats(our_loss, torch_loss)
    gn_rel, gn_step, gn_mean = max_rel(our_gn, torch_gn)
    res = {
        "steps_compared": steps,
        **loss,
        "rel_diff_loss_step1": abs(our_loss[0] - torch_loss[0]) / torch_loss[0],
        "final_loss": {"moeplan": our_loss[-1], "torch": torch_loss[-1]},
        "max_rel_diff_grad_norm": gn_rel,
        "max_rel_diff_grad_norm_step": gn_step,
        "mean_rel_diff_grad_norm": gn_mean,
        "max_abs_lr_diff": max(abs(p - q) for p, q in zip(our_lr, lrs)),
        "within_1pct": loss["max_rel_diff_loss"] is not None and loss["max_rel_diff_loss"] <= 0.01,
        "architecture": arch,
        "train_config": tc,
        "torch": torch_info,
        "curves": {"moeplan_train_loss": our_loss, "torch_train_loss": torch_loss,
                   "moeplan_grad_norm": our_gn, "torch_grad_norm": torch_gn, "lr": lrs},
    }
    if fp32 is not None:
        res["final_loss"]["torch_fp32"] = fp32["loss"][-1]
        res["torch_bf16_vs_fp32"] = loss_stats(torch_loss, fp32["loss"])
        res["moeplan_vs_torch_fp32"] = loss_stats(our_loss, fp32["loss"])
        res["torch_fp32"] = fp32["info"]
        res["curves"]["torch_fp32_train_loss"] = fp32["loss"]
        res["curves"]["torch_fp32_grad_norm"] = fp32["grad_norm"]
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=1)
    os.replace(tmp, a.out)
    print(json.dumps({k: v for k, v in res.items() if k not in ("curves", "train_config", "architecture")}))


if __name__ == "__main__":
    main()
