"""Benchmark the cINN image-to-video pipeline: ms per training iteration of each stage at a preset (default `small`),
and their ratios to stage 1, all from one run.

Every stage is timed through the step method its training run uses (`VideoAERun`, `ImageAERun`, `CINNRun`).
Stages: (1) the video autoencoder step (critic step of Eq. 2 + 3 and autoencoder step of Eq. 1; one step with the
zero-centred penalty and one without are timed, since `gp_every` applies it lazily), (2a) the image-autoencoder step,
(2b) the cINN maximum-likelihood step, and inference: `ImageToVideo.animate` (one future) per video. The stages are
measured interleaved (1, 2a, 2b, inference, 1, 2a, ...) after a warm-up and the median is kept, so the ratios share
whatever load the machine had. Usage: python scripts/bench_cinn.py [--preset small] [--repeats 5] [--device cpu] [--threads 1]
"""
import argparse, platform, statistics, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from singan_gif_lib.core import get_device
from singan_gif_lib.video_ae import VideoAEConfig, VideoAERun, ImageAERun, ImageToVideo
from singan_gif_lib.cinn import ConditionalINN, CINNRun


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='small')
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--device', default=None)
    ap.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: leave the default)')
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    cfg = VideoAEConfig.from_preset(a.preset)
    dev = get_device(a.device)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
    g = torch.Generator().manual_seed(0)
    videos = torch.rand(4 * cfg.batch_size, 3, cfg.n_frames, *cfg.size, generator=g) * 2 - 1

    run = VideoAERun(cfg, videos, dev)                                  # the runs training uses, and their real steps
    image_run = ImageAERun(cfg, videos, dev)
    cond_dim = cfg.cond_dim + cfg.n_eta
    z, c = torch.randn(4 * cfg.flow_batch, cfg.d_z, generator=g), torch.randn(4 * cfg.flow_batch, cond_dim, generator=g)
    flow_run = CINNRun(ConditionalINN(cfg.d_z, cond_dim, cfg.flow_blocks, cfg.flow_hidden), z, c, cfg.flow_steps,
                       lr=cfg.flow_lr, batch_size=cfg.flow_batch, device=dev)
    flow_run.begin(0)                                                   # ActNorm initialisation
    model = ImageToVideo(cfg, run.encoder, run.decoder, image_run.encoder, flow_run.model)

    def ae_gp(): run.step(0)                                            # i = 0: with the penalty
    def ae_no_gp(): run.step(1) if cfg.gp_every > 1 else run.step(0)
    def image_ae(): image_run.step(1)
    def cinn(): flow_run.step(1)
    def animate(): model.animate(videos[0, :, 0], 1, eta=0 if cfg.n_eta else None)

    stages = {'1 video AE step (with GP)': ae_gp, '1 video AE step (no GP)': ae_no_gp,
              '2a image AE step': image_ae, '2b cINN step': cinn, 'inference: animate 1 video': animate}
    for f in stages.values(): f(); sync()                               # warm-up
    times = {k: [] for k in stages}
    for _ in range(a.repeats):
        for k, f in stages.items():
            sync(); t = time.perf_counter(); f(); sync(); times[k].append(1000 * (time.perf_counter() - t))
    med = {k: statistics.median(v) for k, v in times.items()}
    per_step_1 = (med['1 video AE step (with GP)'] + (cfg.gp_every - 1) * med['1 video AE step (no GP)']) / cfg.gp_every
    print(f"cINN pipeline, preset {a.preset!r}: {cfg.n_frames} frames at {cfg.size[0]}x{cfg.size[1]}, batch {cfg.batch_size}, "
          f"d_z {cfg.d_z}, ch {cfg.ch}, flow {cfg.flow_blocks} blocks x {cfg.flow_hidden} (batch {cfg.flow_batch}); "
          f"device {dev}, torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"{'stage':32s} {'ms/iter':>10s} {'ratio to stage 1':>18s} {'steps':>7s} {'est. minutes':>13s}")
    steps = {'1': cfg.n_steps, '2a': cfg.img_steps, '2b': cfg.flow_steps}
    for k, v in med.items():
        n = steps.get(k.split()[0]); est = f"{n * (per_step_1 if k.startswith('1') else v) / 60000:.1f}" if n else '-'
        print(f"{k:32s} {v:10.1f} {v / per_step_1:18.3f} {n or '-':>7} {est:>13s}")
    print(f"{'1 video AE, mean over gp_every':32s} {per_step_1:10.1f} {1.0:18.3f}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
