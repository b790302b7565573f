"""Benchmark SinGAN-GIF's training step: ms per iteration at every scale of a pyramid for three generators
(separable 3D, full 3D, hybrid 2D with neighbouring frames), their ratios, the memory they need, and the paper's
Sec. 3.3 claim (hybrid 2D + separable 3D: about 20% less training time at 256x256) at the size given here.

One process; the variants are measured interleaved (A, B, C, A, B, C, ...) after a warm-up and the median is kept,
so the ratios share whatever load the machine had. An iteration is one critic step (both critics, WGAN-GP) and one
generator step (Eq. 3: both adversarial terms, reconstruction, colour statistics), as in `train_scale` with
critic_steps = gen_steps = 1. Memory: on CUDA the peak `torch.cuda.max_memory_allocated` of an iteration; on every
device the bytes of the tensors autograd saves for the generator's backward pass (`saved_tensors_hooks`), which is
what the generator's activations cost (it does not depend on the allocator); on CPU the process peak RSS (ru_maxrss)
is printed once for the whole run. Usage: python scripts/bench_singan_gif.py [--size 64] [--frames 8] [--device cpu]
"""
import argparse, platform, resource, statistics, sys, time
from datetime import date
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from singan_gif_lib.singan_gif import (Generator3D, Generator2D, ImageCritic, VideoCritic, ConvBlock, channels_at, pyramid_sizes,
                                       fold_time, reconstruction_loss, color_stats_loss, init_weights)
from singan_gif_lib.losses import wgan_critic_loss, wgan_generator_loss, wgan_gp_penalty
from singan_gif_lib.core import get_device


class FullGenerator3D(nn.Module):
    "Generator3D with regular (non-separable) k x k x k convolutions: the ablation of Sec. 3.3.1."
    def __init__(self, nfc: int = 32, n_body: int = 3, k: int = 3):
        super().__init__()
        self.head = ConvBlock(3, nfc, '3d', k)
        self.body = nn.Sequential(*[ConvBlock(nfc, nfc, '3d', k) for _ in range(n_body)])
        self.tail = nn.Sequential(nn.Conv3d(nfc, 3, k, padding=k // 2), nn.Tanh())
        self.apply(init_weights)

    def forward(self, z, prev): return prev + self.tail(self.body(self.head(prev + z)))


GENERATORS = {'sep3d': lambda c: Generator3D(c), 'full3d': lambda c: FullGenerator3D(c), '2d': lambda c: Generator2D(c)}


def saved_bytes(fn) -> int:
    "Bytes of the tensors autograd saves while running fn() (the activation memory of its backward)."
    total = [0]
    def pack(t):
        total[0] += t.numel() * t.element_size(); return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t): out = fn()
    return total[0], out


def make_iteration(kind: str, ch: int, T: int, h: int, w: int, dev: torch.device):
    "One SinGAN-GIF training iteration (critic step + generator step) with the generator `kind` at one scale."
    G, d_img, d_vid = GENERATORS[kind](ch).to(dev), ImageCritic(ch).to(dev), VideoCritic(ch).to(dev)
    opt_g = torch.optim.Adam(G.parameters(), 5e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*d_img.parameters(), *d_vid.parameters()], 5e-4, betas=(0.5, 0.999))
    real, prev = torch.rand(1, 3, T, h, w, device=dev) * 2 - 1, torch.rand(1, 3, T, h, w, device=dev) * 2 - 1
    zt = 1 if kind == '2d' else T                                            # hybrid 2D: one noise map for all frames
    def noise(): return 0.1 * torch.randn(1, 3, zt, h, w, device=dev)
    def g_loss():
        fake = G(noise(), prev)
        return (wgan_generator_loss(d_img(fold_time(fake))) + 5 * wgan_generator_loss(d_vid(fake))
                + 50 * reconstruction_loss(G(0.0, prev), real) + 2 * color_stats_loss(fake, real))
    def iteration() -> int:
        with torch.no_grad(): fake = G(noise(), prev)
        loss_d = wgan_critic_loss(d_img(fold_time(real)), d_img(fold_time(fake))) + wgan_critic_loss(d_vid(real), d_vid(fake))
        gp = wgan_gp_penalty(d_img, fold_time(real), fold_time(fake)) + wgan_gp_penalty(d_vid, real, fake)
        opt_d.zero_grad(set_to_none=True); (loss_d + 0.1 * gp).backward(); opt_d.step()
        for p in [*d_img.parameters(), *d_vid.parameters()]: p.requires_grad_(False)
        nbytes, loss = saved_bytes(g_loss)
        opt_g.zero_grad(set_to_none=True); loss.backward(); opt_g.step()
        for p in [*d_img.parameters(), *d_vid.parameters()]: p.requires_grad_(True)
        return nbytes
    return iteration


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', type=int, default=48, help='longer side of the finest scale (square clip), default 48')
    ap.add_argument('--frames', type=int, default=8, help='frames per training chunk (default 8)')
    ap.add_argument('--device', default=None, help='cpu, cuda or mps (default: cuda > mps > cpu)')
    ap.add_argument('--repeats', type=int, default=3, help='timed repeats per variant and scale (median kept)')
    ap.add_argument('--n-3d', type=int, default=4, help='coarsest scales that are 3D in SinGAN-GIF (Sec. 3.5: 4)')
    ap.add_argument('--nfc', type=int, default=32, help='channels at the coarsest scale (SinGAN: 32)')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1: stable timings on a shared 2-core machine; 0: torch default)')
    a = ap.parse_args()
    if a.size < 25 or a.frames < 1 or a.repeats < 1: ap.error('--size must be >= 25, --frames and --repeats >= 1')
    if a.threads: torch.set_num_threads(a.threads)
    dev = get_device(a.device); torch.manual_seed(0)
    sizes, f = pyramid_sizes(a.size, a.size, a.size)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows, t_start = [], time.time()
    for n, (h, w) in enumerate(sizes):
        ch = channels_at(n, a.nfc, 128)
        its = {k: make_iteration(k, ch, a.frames, h, w, dev) for k in GENERATORS}
        mem, times, peak = {}, {k: [] for k in its}, {}
        for k, it in its.items():                                            # warm-up (and memory)
            if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats()
            mem[k] = it(); sync(dev)
            if dev.type == 'cuda': peak[k] = torch.cuda.max_memory_allocated()
        for _ in range(a.repeats):
            for k, it in its.items():                                        # interleaved
                sync(dev); t0 = time.perf_counter(); it(); sync(dev); times[k].append(time.perf_counter() - t0)
        for k in its: rows.append(dict(scale=n, h=h, w=w, ch=ch, kind=k, ms=1000 * statistics.median(times[k]), mb=mem[k] / 2**20,
                                       peak=peak.get(k, float('nan')) / 2**20))
        print(f'scale {n + 1}/{len(sizes)} {h}x{w}: ' + ', '.join(f"{r['kind']} {r['ms']:.0f} ms" for r in rows[-3:]), file=sys.stderr, flush=True)
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    by = {(r['scale'], r['kind']): r for r in rows}
    cuda = dev.type == 'cuda'
    cpu = platform.processor() or platform.machine()
    print(f"### SinGAN-GIF training iteration benchmark\n\n`python scripts/bench_singan_gif.py --size {a.size} --frames {a.frames}"
          f"{' --device ' + a.device if a.device else ''}` on {dev.type} (torch threads={torch.get_num_threads()}, {cpu}), torch {torch.__version__}, "
          f"{date.today()}; {a.repeats} interleaved repeats, median; one iteration = 1 critic step (image + video critic, GP) + 1 generator step.\n")
    mem_col = 'peak CUDA MB' if cuda else 'G saved activations MB'
    print(f'| scale | size (h x w x T) | channels | sep. 3D ms | full 3D ms | hybrid 2D ms | sep/full time | 2D/sep time | sep. 3D {mem_col} | full 3D {mem_col} | 2D {mem_col} |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    m = (lambda r: r['peak']) if cuda else (lambda r: r['mb'])
    for n, (h, w) in enumerate(sizes):
        s, fu, d2 = by[n, 'sep3d'], by[n, 'full3d'], by[n, '2d']
        print(f"| {n + 1} | {h}x{w}x{a.frames} | {s['ch']} | {s['ms']:.1f} | {fu['ms']:.1f} | {d2['ms']:.1f} | {s['ms'] / fu['ms']:.2f} | "
              f"{d2['ms'] / s['ms']:.2f} | {m(s):.1f} | {m(fu):.1f} | {m(d2):.1f} |")
    gif = sum(by[n, 'sep3d' if n < a.n_3d else '2d']['ms'] for n in range(len(sizes)))
    full = sum(by[n, 'full3d']['ms'] for n in range(len(sizes)))
    sep_only = sum(by[n, 'sep3d']['ms'] for n in range(len(sizes)))
    print(f"\nWhole pyramid ({len(sizes)} scales, the coarsest {min(a.n_3d, len(sizes))} 3D), ms per iteration summed over scales: "
          f"all full 3D {full:.0f}, all separable 3D {sep_only:.0f}, SinGAN-GIF (separable 3D + hybrid 2D) {gif:.0f}.\n")
    print('| claim (Sec. 3.3) | paper | measured here |\n|---|---|---|')
    print(f"| training time saved by separable 3D + hybrid 2D vs full 3D | ~20% at 256x256 (Titan XP) | {100 * (1 - gif / full):.0f}% at "
          f"{sizes[-1][0]}x{sizes[-1][1]}x{a.frames} ({dev.type}) |")
    print(f"| separable vs full 3D at the finest scale (time) | not reported | {by[len(sizes) - 1, 'sep3d']['ms'] / by[len(sizes) - 1, 'full3d']['ms']:.2f}x |")
    print(f"| hybrid 2D vs separable 3D at the finest scale (time) | not reported | {by[len(sizes) - 1, '2d']['ms'] / by[len(sizes) - 1, 'sep3d']['ms']:.2f}x |")
    if not cuda: print(f"\nProcess peak RSS increase over the run (ru_maxrss): {rss:.0f} MB. Wall time {time.time() - t_start:.0f} s.")
    else: print(f"\nWall time {time.time() - t_start:.0f} s.")
    return 0


if __name__ == '__main__':
    sys.exit(main())
