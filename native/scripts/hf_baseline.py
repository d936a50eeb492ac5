#!/usr/bin/env python3
# Copied unchanged (below this comment) from the team's shared GPU anchors, shared/gpu/hf_baseline.py, so that a
# clone alone has it; gpu-check.sh runs it with fixtures/seed-oss/config.json (the same config).
"""GPU anchors for Seed-OSS-36B on one device, in one run (for a lent GPU machine; needs torch + transformers):
  1. the physical limits: device-to-device copy bandwidth, bf16 GEMM rate;
  2. the seed's own path: transformers generate (greedy, sdpa) on SeedOssForCausalLM with random bf16 weights
     of the real shape (shared/reference/seed-oss/config.json), decode tok/s at batch 1 and 64 after a 1k prompt.
  python3 hf_baseline.py [--layers N] [--config config.json] [--json OUT]
  (--layers shrinks the model: on an 80 GB H100 use --layers 40 so weights and batch-64 KV fit; compare
  tpserve on the same layer count)"""
import argparse, json, os, time
import torch

def timed(fn, reps=10, warm=3):
    for _ in range(warm): fn()
    torch.cuda.synchronize(); s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
    ts = []
    for _ in range(reps):
        s.record(); fn(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e) / 1e3)
    ts.sort(); return ts[len(ts) // 2]

def limits():
    n = 1 << 30  # 2 GiB of bf16 per buffer
    a = torch.randn(n, dtype=torch.bfloat16, device="cuda"); b = torch.empty_like(a)
    t = timed(lambda: b.copy_(a)); bw = 2 * a.numel() * 2 / t
    del a, b
    m = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda"); k = torch.randn_like(m)
    t = timed(lambda: m @ k); fl = 2 * 8192 ** 3 / t
    return {"copy_bytes_per_s": bw, "bf16_gemm_flops": fl}

def hf_decode(cfg_path, layers, batch, prompt_len=1024, new=64):
    from transformers import AutoConfig, AutoModelForCausalLM
    raw = {k: v for k, v in json.load(open(cfg_path)).items() if k not in ("architectures",)}
    try:
        cfg = AutoConfig.for_model(**raw)
    except (KeyError, ValueError):  # a transformers without SeedOss: Llama with q/k/v(/o) bias has the same cost
        cfg = AutoConfig.for_model(**dict(raw, model_type="llama", attention_bias=True))
    if layers: cfg.num_hidden_layers = layers
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16, attn_implementation="sdpa").eval()
    nbytes = sum(p.numel() * p.element_size() for p in model.parameters())
    ids = torch.randint(3, 150000, (batch, prompt_len), device="cuda")
    kw = dict(do_sample=False, min_new_tokens=new, max_new_tokens=new, eos_token_id=None, pad_token_id=1)
    with torch.no_grad():
        model.generate(ids, **dict(kw, min_new_tokens=4, max_new_tokens=4))  # warm-up
        torch.cuda.synchronize(); t0 = time.time(); model.generate(ids, **dict(kw, min_new_tokens=1, max_new_tokens=1)); torch.cuda.synchronize(); t_pre = time.time() - t0
        t0 = time.time(); model.generate(ids, **kw); torch.cuda.synchronize(); t_all = time.time() - t0
    del model; torch.cuda.empty_cache()
    per_tok = (t_all - t_pre) / (new - 1)
    return {"batch": batch, "weight_bytes": nbytes, "prefill_s": t_pre, "decode_s_per_step": per_tok, "decode_tok_per_s": batch / per_tok}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(); ap.add_argument("--layers", type=int, default=0); ap.add_argument("--json")
    ap.add_argument("--config", default=os.path.join(os.path.dirname(__file__), "..", "reference", "seed-oss", "config.json"))
    a = ap.parse_args()
    out = {"device": torch.cuda.get_device_name(), "limits": limits(), "hf": []}
    print(json.dumps(out["limits"]), flush=True)
    for b in (1, 64):
        r = hf_decode(a.config, a.layers, b); out["hf"].append(r); print(json.dumps(r), flush=True)
    L = out["limits"]; w = out["hf"][0]["weight_bytes"]
    floor = L["copy_bytes_per_s"] / w  # copy throughput counts bytes read + written; a decode step reads the weights once
    print(f"copy {L['copy_bytes_per_s']/1e12:.2f} TB/s  gemm {L['bf16_gemm_flops']/1e12:.0f} TFLOP/s  weights {w/1e9:.1f} GB  floor {floor:.1f} tok/s")
    for r in out["hf"]: print(f"transformers batch {r['batch']}: {r['decode_tok_per_s']:.1f} tok/s  ({100*r['decode_tok_per_s']/r['batch']/floor:.0f}% of floor per stream)  prefill {r['prefill_s']:.2f} s")
    if a.json: json.dump(out, open(a.json, "w"), indent=1)
