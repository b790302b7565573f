"""Train the shipped 64 px sky StyleGAN2 (`StyleGANConfig` preset 'sky64') in time-boxed, resumable pieces.

The run takes hours on a CPU, so it is trained across sessions: each call trains for at most `--minutes`, keeps
its checkpoint (generator, critic, EMA generator, both Adam states, history and cumulative wall time) in
`--out`, and the next call with `--resume` continues it bit for bit. `--judge` prints the issue's image checks for
the checkpoint's EMA generator; `--export` writes it to the package's assets (what `load_stylegan(64)` returns).

    python scripts/train_stylegan_sky64.py --resume --minutes 150 --threads 1
    python scripts/train_stylegan_sky64.py --judge
    python scripts/train_stylegan_sky64.py --export
"""
import argparse, json, time
from pathlib import Path
import torch
from singan_gif_lib.core import ASSETS, History
from singan_gif_lib.stylegan import (StyleGANConfig, StyleGANRun, training_ema_generator, checkpoint_path, sky_frames, save_stylegan,
                                     image_checks)
from singan_gif_lib.core import train_run

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'training' / 'stylegan_sky64', help='checkpoint folder')
    p.add_argument('--minutes', type=float, default=60, help='train for at most this long in this call')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    p.add_argument('--resume', action='store_true', help='continue the unfinished checkpoint in --out')
    p.add_argument('--judge', action='store_true', help="print the checks of the checkpoint's EMA generator and exit")
    p.add_argument('--export', action='store_true', help="write the checkpoint's EMA generator to assets/stylegan_sky64 and exit")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    cfg = StyleGANConfig.from_preset('sky64')
    data = sky_frames(cfg.n_images, cfg.size, cfg.seed)
    path = checkpoint_path(a.out, cfg, data)
    if a.judge or a.export:
        G, meta = training_ema_generator(path)
        print(f"{path.name}: step {meta['step']} of {cfg.n_steps}, {meta['seconds'] / 3600:.2f} h")
        if a.judge:
            checks = image_checks(sky_frames(64, 64, seed=1001).frames, G.sample(64, seed=0), sky_frames(64, 64, seed=2002).frames)
            for k, (v, bound, ok) in checks.items(): print(f"{k:34s} {v:8.3f}  ({bound}) {'ok' if ok else 'FAIL'}")
        if a.export:
            h = History.from_dict(meta['history'])
            out = save_stylegan(G, ASSETS / 'stylegan_sky64.safetensors',
                                {'history': h.to_dict(), 'preset': 'sky64', 'step': meta['step'], 'seconds': meta['seconds'], 'device': meta['device']})
            print('wrote', out)
        return
    # train in pieces of 100 steps until the time box is spent (checkpoints every cfg.checkpoint_every steps)
    run, resume = StyleGANRun(cfg, data), a.resume
    t_end = time.time() + 60 * a.minutes
    while time.time() < t_end:
        train_run(run, a.out, resume=resume, max_steps=cfg.checkpoint_every, show_progress=False)
        resume = True
        meta = json.loads(path.with_suffix('.json').read_text())
        print(f"step {meta['step']}/{cfg.n_steps}  {meta['seconds'] / 3600:.2f} h", flush=True)
        if meta['step'] >= cfg.n_steps: break
        run = StyleGANRun(cfg, data)     # a fresh run object: train_run restores it from the checkpoint

if __name__ == '__main__': main()
