"""Benchmark MoCoGAN-HD motion-generator training: ms per iteration and how it splits between the frozen image generator
and the rest (motion generator, discriminators, losses, backward passes).

    OMP_NUM_THREADS=1 python scripts/bench_mocogan_hd.py --preset small --steps 5

The image generator is the shipped StyleGAN of the preset's size (32 px for ci, 64 px otherwise), or an untrained one of
the same architecture when the weights are missing (the timing is the same). The split: `G_I forward` is the synthesis of
every frame of the batch; `G_I backward` is measured separately (a forward + backward through the synthesis of the same
number of frames minus the forward); `rest` is the remainder of the iteration.
"""
import argparse, json, time

import torch

from singan_gif_lib.core import CheckpointError, get_device, seed_everything
from singan_gif_lib.mocogan_hd import MoCoGANHDConfig, MoCoGANHDRun, sky_clips, render, sample_w
from singan_gif_lib.stylegan import StyleGenerator, StyleGANConfig, load_stylegan


def image_generator(size: int, device):
    try: return load_stylegan(size, device=device), 'shipped'
    except CheckpointError:
        seed_everything(0)
        return StyleGenerator(StyleGANConfig.from_preset('ci' if size == 32 else 'small')).to(device).eval().requires_grad_(False), 'untrained'


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='small')
    ap.add_argument('--steps', type=int, default=5, help='timed iterations (after 1 warm-up)')
    ap.add_argument('--device', default=None)
    ap.add_argument('--json', action='store_true', help='print one JSON line')
    a = ap.parse_args()
    device = get_device(a.device)
    cfg = MoCoGANHDConfig.from_preset(a.preset, pca_samples=2000)
    size = 32 if a.preset == 'ci' else 64
    G, kind = image_generator(size, device)
    ds = sky_clips(cfg, size, n_clips=min(cfg.n_clips, 32))
    [ds[i] for i in range(len(ds))]                                         # render the clips before timing
    run = MoCoGANHDRun(cfg, G, ds, device)
    run.step(0)
    run.timing = {'image_generator': 0.0, 'rest': 0.0}
    sync(device); t0 = time.perf_counter()
    for i in range(1, a.steps + 1): run.step(i)
    sync(device); total = (time.perf_counter() - t0) / a.steps
    g_fwd = run.timing['image_generator'] / a.steps
    # backward through the frozen synthesis: time forward + backward of the same frames, minus the forward
    codes = sample_w(G, cfg.batch_size * cfg.n_frames, torch.Generator().manual_seed(0), device).view(cfg.batch_size, cfg.n_frames, -1)
    fb = []
    for _ in range(max(2, a.steps // 2)):
        c = codes.clone().requires_grad_(True)
        sync(device); t = time.perf_counter(); render(G, c).square().mean().backward(); sync(device); fb.append(time.perf_counter() - t)
    g_bwd = max(0.0, min(fb) - g_fwd)
    res = {'preset': a.preset, 'device': str(device), 'threads': torch.get_num_threads(), 'image_generator': f'StyleGAN {size} px ({kind})',
           'batch': cfg.batch_size, 'frames': cfg.n_frames, 'ms_per_iter': 1000 * total,
           'G_I_forward_ms': 1000 * g_fwd, 'G_I_backward_ms': 1000 * g_bwd, 'rest_ms': 1000 * (total - g_fwd - g_bwd)}
    res['G_I_share'] = (g_fwd + g_bwd) / total
    if a.json: print(json.dumps(res)); return
    print(f"MoCoGAN-HD motion-generator training, preset {a.preset}, {res['image_generator']}, {device}, {res['threads']} threads, "
          f"batch {cfg.batch_size} x {cfg.n_frames} frames")
    print(f"  {res['ms_per_iter']:8.1f} ms / iteration")
    print(f"  {res['G_I_forward_ms']:8.1f} ms  frozen image generator, forward")
    print(f"  {res['G_I_backward_ms']:8.1f} ms  frozen image generator, backward to the codes")
    print(f"  {res['rest_ms']:8.1f} ms  the rest (G_M, D_V + GP, D_I + contrastive, losses, optimisers)")
    print(f"  image generator share: {100 * res['G_I_share']:.0f}%")


if __name__ == '__main__':
    main()
