"""Check helpers.gru.gru_forward_pytorch_form against torch.nn.GRU with the same weights, and show
that the lecture's GRU (helpers.gru.gru_forward) gives different outputs for those weights.

    python tools/compare_pytorch_gru.py          (needs PyTorch; the course itself never does)

Prints the largest absolute difference of the hidden states in float64 and float32.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.gru import gru_forward, gru_forward_pytorch_form, init_gru, pytorch_gru_weights  # noqa: E402


def compare(torch, dtype, D=5, H=7, N=3, T=6, seed=0):
    rng = np.random.default_rng(seed)
    params = init_gru(D, H, rng, dtype)
    params = {k: (v + 0.5 * rng.standard_normal(v.shape)).astype(dtype) for k, v in params.items()}  # biases too
    b_hn = rng.standard_normal((H, 1)).astype(dtype)
    xs = rng.standard_normal((T, D, N)).astype(dtype)
    h0 = rng.standard_normal((H, N)).astype(dtype)

    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    module = torch.nn.GRU(D, H).to(tdtype)
    module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in
                            pytorch_gru_weights(params, b_hn).items()})
    with torch.no_grad():
        out, _ = module(torch.from_numpy(xs.transpose(0, 2, 1).copy()), torch.from_numpy(h0.T.copy())[None])
    torch_hs = out.numpy().transpose(0, 2, 1)

    ours = gru_forward_pytorch_form(xs, h0, params, b_hn)
    lecture, _ = gru_forward(xs, h0, params)
    return float(np.abs(ours - torch_hs).max()), float(np.abs(lecture - torch_hs).max()), ours.dtype


def main():
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is not installed: nothing to compare with")
    for dtype in (np.float64, np.float32):
        same, lecture, out_dtype = compare(torch, dtype)
        print(f"{np.dtype(dtype).name}: max |gru_forward_pytorch_form - nn.GRU| = {same:.2e} ({out_dtype}); "
              f"max |lecture GRU - nn.GRU| = {lecture:.2f}")


if __name__ == "__main__":
    main()
