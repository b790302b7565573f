"""Benchmark SinGAN-GIF's real training step (`ScaleRun.step`) at every scale of a preset, against full 3D generators.

Prints a markdown table: ms per iteration, FLOPs per iteration, the rate reached as a share of this machine's fp32
matrix-multiply rate (measured in the same run), and the full-3D / preset time ratio. The functions are
`singan_gif_lib.bench.benchmark_singan_gif` and `benchmark_markdown` (notebook 13_singan_gif_benchmark).

Usage: python scripts/bench_singan_gif.py [--preset small] [--clip data/clouds.gif] [--repeats 5] [--threads 0] [--device cpu]
"""
import argparse, sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from singan_gif_lib.bench import benchmark_singan_gif, benchmark_markdown
from singan_gif_lib.singan_gif import SinGANGIFConfig


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='small', help='SinGAN-GIF preset (default small)')
    ap.add_argument('--clip', default=None, help='training clip (default: the bundled clouds.gif)')
    ap.add_argument('--max-size', type=int, default=0, help="longer side of the finest scale (default: the preset's)")
    ap.add_argument('--frames', type=int, default=0, help='use at most this many frames of the clip (default: all)')
    ap.add_argument('--repeats', type=int, default=5, help='timed iterations per variant and scale (median kept)')
    ap.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: torch default)')
    ap.add_argument('--device', default=None, help='cpu, cuda or mps (default: cuda > mps > cpu)')
    a = ap.parse_args()
    if a.repeats < 1: ap.error('--repeats must be >= 1')
    if a.threads: torch.set_num_threads(a.threads)
    over = {k: v for k, v in dict(max_size=a.max_size, max_frames=a.frames).items() if v}
    res = benchmark_singan_gif(SinGANGIFConfig.from_preset(a.preset, **over), a.clip, a.repeats, a.device)
    print(benchmark_markdown(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())
