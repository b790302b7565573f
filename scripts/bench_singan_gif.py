"""Benchmark SinGAN-GIF's real training step (`ScaleRun.step`, the code `train_singan_gif` runs) at every scale of a preset.

For each scale: ms per iteration of the preset as configured (separable 3D at the coarse scales, hybrid 2D at the fine
ones) and of the same preset with regular (full) 3D generators at every scale (the Sec. 3.3 ablation), their ratio,
the floating-point operations of one iteration (counted by `torch.utils.flop_counter`, forward and backward, gradient
penalty included), and what share of this machine's fp32 matrix-multiply rate, measured in the same run, that is.
Variants are timed interleaved (A, B, A, B, ...) after a warm-up and the median is kept, so the ratios share whatever
load the machine had. The generators of the coarser scales are untrained: the cost does not depend on their weights.

Usage: python scripts/bench_singan_gif.py [--preset small] [--clip data/clouds.gif] [--max-size 64] [--frames 20]
"""
import argparse, platform, statistics, sys, time
from datetime import date
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from singan_gif_lib.core import get_device
from singan_gif_lib.singan_gif import SinGANGIF, SinGANGIFConfig, ScaleRun, check_config, load_clip, pyramid_sizes
from singan_gif_lib.video import resize_video


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def matmul_gflops(dev, n: int = 1024, repeats: int = 20) -> float:
    "fp32 matrix-multiply rate of this device now (GFLOP/s), the median of `repeats` n x n products."
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    for _ in range(3): a @ b
    times = []
    for _ in range(repeats):
        sync(dev); t0 = time.perf_counter(); a @ b; sync(dev); times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times) / 1e9


class _GlobalOnly:
    "Stands in for FlopCounterMode's module tracker, whose backward hooks break autograd.grad on leaf inputs (the gradient penalty)."
    parents = {'Global'}
    def __enter__(self): return self
    def __exit__(self, *exc): return False


def count_flops(fn) -> int:
    "Floating-point operations of fn() (forward, backward and double backward of convolutions and matmuls)."
    fc = FlopCounterMode(display=False); fc.mod_tracker = _GlobalOnly()
    with fc: fn()
    return fc.get_total_flops()


def build(cfg: SinGANGIFConfig, clip, dev) -> SinGANGIF:
    "An untrained pyramid on the clip (the reals filled in), as train_singan_gif builds it."
    x, fps, _ = load_clip(clip, cfg)
    T, H, W = x.shape[2:]
    sizes, f = pyramid_sizes(H, W, cfg.max_size, cfg.min_size, cfg.scale_factor)
    m = SinGANGIF(cfg, sizes, T, f, fps)
    for i, (h, w) in enumerate(sizes): getattr(m, f'real_{i}').copy_(resize_video(x, (T, h, w)))
    return m.to(dev)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='small', help='SinGAN-GIF preset (default small)')
    ap.add_argument('--clip', default=str(Path(__file__).resolve().parents[1] / 'data' / 'clouds.gif'), help='training clip')
    ap.add_argument('--max-size', type=int, default=0, help="longer side of the finest scale (default: the preset's)")
    ap.add_argument('--frames', type=int, default=0, help='use at most this many frames of the clip (default: all)')
    ap.add_argument('--repeats', type=int, default=5, help='timed iterations per variant and scale (median kept)')
    ap.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: torch default)')
    ap.add_argument('--device', default=None, help='cpu, cuda or mps (default: cuda > mps > cpu)')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    dev = get_device(a.device)
    over = {k: v for k, v in dict(max_size=a.max_size, max_frames=a.frames).items() if v}
    cfg = check_config(SinGANGIFConfig.from_preset(a.preset, **over))
    variants = {'preset': cfg, 'full 3D': cfg.replace(conv3d='3d', n_3d_scales=99)}
    models = {k: build(c, a.clip, dev) for k, c in variants.items()}
    m0 = models['preset']
    rate0 = matmul_gflops(dev)
    rows, t_start = [], time.time()
    for n, (h, w) in enumerate(m0.sizes):
        runs = {k: ScaleRun(m, n) for k, m in models.items()}
        flops, times = {}, {k: [] for k in runs}
        for k, run in runs.items():                                          # warm-up, then one counted iteration
            run.step(0)
            flops[k] = count_flops(lambda: run.step(1))
        for i in range(a.repeats):
            for k, run in runs.items():                                      # interleaved
                sync(dev); t0 = time.perf_counter(); run.step(2 + i); sync(dev); times[k].append(time.perf_counter() - t0)
        for k, run in runs.items():
            rows.append(dict(scale=n, h=h, w=w, kind=k, is3d=models[k].is_3d(n), chunk=run.chunk, ms=1000 * statistics.median(times[k]),
                             gflop=flops[k] / 1e9))
            run.finish()
        print(f'scale {n + 1}/{m0.n_scales} {h}x{w}: ' + ', '.join(f"{r['kind']} {r['ms']:.0f} ms" for r in rows[-2:]), file=sys.stderr, flush=True)
    rate = (rate0 + matmul_gflops(dev)) / 2                                  # before and after, averaged
    by = {(r['scale'], r['kind']): r for r in rows}
    cpu = platform.processor() or platform.machine()
    print(f"### SinGAN-GIF training step benchmark\n\n`python scripts/bench_singan_gif.py --preset {a.preset}` on {dev.type} "
          f"(torch threads={torch.get_num_threads()}, {cpu}), torch {torch.__version__}, {date.today()}; clip {Path(a.clip).name}, "
          f"{m0.n_frames} frames; one iteration = `ScaleRun.step`: {cfg.critic_steps} critic step(s) (image + video critic, "
          f"{cfg.gp_form} gradient penalty) + {cfg.gen_steps} generator step(s); median of {a.repeats} interleaved repeats.\n")
    print(f"fp32 matrix-multiply rate measured in the same run: {rate:.1f} GFLOP/s (1024 x 1024 products).\n")
    print('| scale | size (h x w), chunk | generator | ms / iteration | GFLOP / iteration | GFLOP/s | share of matmul rate | full 3D ms | full 3D / preset time |')
    print('|---|---|---|---|---|---|---|---|---|')
    for n, (h, w) in enumerate(m0.sizes):
        p, f = by[n, 'preset'], by[n, 'full 3D']
        gs = p['gflop'] / (p['ms'] / 1000)
        print(f"| {n + 1} | {h}x{w}, {p['chunk']} frames | {'separable 3D' if p['is3d'] else 'hybrid 2D'} | {p['ms']:.0f} | {p['gflop']:.1f} | "
              f"{gs:.1f} | {100 * gs / rate:.0f}% | {f['ms']:.0f} | {f['ms'] / p['ms']:.2f}x |")
    total = sum(by[n, 'preset']['ms'] for n in range(m0.n_scales)); total_f = sum(by[n, 'full 3D']['ms'] for n in range(m0.n_scales))
    print(f"\nOne iteration at every scale: {total:.0f} ms (preset), {total_f:.0f} ms (full 3D everywhere): {total_f / total:.2f}x. "
          f"At {cfg.iters} iterations per scale: about {total * cfg.iters / 60000:.1f} min of training steps.")
    print(f"\nWall time {time.time() - t_start:.0f} s.")
    return 0


if __name__ == '__main__':
    sys.exit(main())
