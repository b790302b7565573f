"The SinGAN-GIF benchmark times the real training step: rows for both variants at every scale, FLOPs that follow the architecture."
import numpy as np
import torch

import singan_gif_lib.singan_gif as sg
from singan_gif_lib.bench import benchmark_singan_gif, benchmark_markdown, count_flops
from singan_gif_lib.singan_gif import SinGANGIFConfig


def test_count_flops_matmul_and_penalty():
    assert count_flops(lambda: torch.randn(5, 7) @ torch.randn(7, 3)) == 2 * 5 * 7 * 3
    from singan_gif_lib.losses import pixel_gradient_penalty
    D = torch.nn.Conv2d(3, 1, 3)                                              # the penalty's autograd.grad on a leaf works
    assert count_flops(lambda: pixel_gradient_penalty(D, torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)).backward()) > 0


def test_benchmark_calls_the_training_step(monkeypatch):
    calls = []
    real_step = sg.ScaleRun.step
    def counting(self, i):
        calls.append((self.n, i)); return real_step(self, i)
    monkeypatch.setattr(sg.ScaleRun, 'step', counting)
    clip = (np.random.default_rng(0).random((6, 30, 40, 3)) * 255).astype(np.uint8)
    cfg = SinGANGIFConfig.from_preset('ci', max_size=40, min_size=20, scale_factor=0.6, nfc=4, max_nfc=4, n_3d_scales=1, chunk_frames=4, chunk_frames_fine=3)
    res = benchmark_singan_gif(cfg, clip, repeats=2, device='cpu')
    n_scales = len({r['scale'] for r in res['rows']})
    assert n_scales >= 2 and len(res['rows']) == 2 * n_scales
    assert len(calls) == n_scales * 2 * (2 + 2)                               # warm-up, counted, 2 timed; 2 variants
    by = {(r['scale'], r['variant']): r for r in res['rows']}
    assert by[1, 'preset']['is_3d'] is False and by[1, 'full 3D']['is_3d'] is True
    assert by[1, 'full 3D']['gflop'] > by[1, 'preset']['gflop'] > 0           # k^3 convs and every frame in one volume cost more
    assert all(r['ms'] > 0 for r in res['rows']) and res['matmul_gflops'] > 0
    md = benchmark_markdown(res)
    assert md.count('\n| ') == 2 + n_scales - 1 and 'full 3D / preset' in md
