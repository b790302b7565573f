"""Train the shipped 64 px sky StyleGAN2 (`StyleGANConfig` preset 'sky64') in time-boxed, resumable pieces.

The run takes hours on a CPU, so it is trained across sessions: each call trains for at most `--minutes`, keeps
its checkpoint (generator, critic, EMA generator, both Adam states, history and cumulative wall time) in
`--out`, and the next call with `--resume` continues it bit for bit. `--judge` prints the image checks of the
checkpoint's EMA generator against real 64 px sky frames, for single draws of 64 images and averaged over draws
(`image_checks_over_draws`); `--export` writes it to the package's assets (what `load_stylegan(64)` returns).

    python scripts/train_stylegan_sky64.py --resume --minutes 150 --threads 1
    python scripts/train_stylegan_sky64.py --status
    python scripts/train_stylegan_sky64.py --judge
    python scripts/train_stylegan_sky64.py --export
"""
import argparse, json, time
from pathlib import Path
import torch
from singan_gif_lib.core import ASSETS, History, train_run
from singan_gif_lib.stylegan import (StyleGANConfig, StyleGANRun, training_ema_generator, checkpoint_path, sky_frames, save_stylegan,
                                     image_checks, image_checks_over_draws)
from timebox import add_timebox_args, my_share, status_line

ROOT = Path(__file__).resolve().parent.parent


def block_means(h: History, k: int) -> History:
    "Each series of h with more than 2k values as means of consecutive blocks of k values, at each block's last step."
    out = History()
    for key in h.keys():
        st, v = h.steps[key], h.values[key]
        if len(v) <= 2 * k: out.steps[key], out.values[key] = list(st), list(v); continue
        out.steps[key] = [st[min(i + k, len(st)) - 1] for i in range(0, len(v), k)]
        out.values[key] = [sum(v[i:i + k]) / len(v[i:i + k]) for i in range(0, len(v), k)]
    return out


def judge(G, n_real: int = 6, n_fake: int = 8) -> None:
    "Print the image checks of G against real 64 px sky frames: per draw of 64 images, and over all draws."
    reals = [sky_frames(64, 64, seed=1001 * (k + 1)).frames for k in range(n_real)]
    fakes = [G.sample(64, seed=s) for s in range(n_fake)]
    for s, f in enumerate(fakes):
        c = image_checks(reals[0], f, reals[1 + s % (n_real - 1)])
        print(f"draw {s}: " + ', '.join(f"{k} {v:.3f}" for k, (v, _, _) in c.items()))
    for k, (v, bound, ok) in image_checks_over_draws(reals, fakes).items(): print(f"{k:34s} {v:8.3f}  ({bound}) {'ok' if ok else 'FAIL'}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'training' / 'stylegan_sky64', help='checkpoint folder')
    add_timebox_args(p)
    p.add_argument('--resume', action='store_true', help='continue the unfinished checkpoint in --out')
    p.add_argument('--judge', action='store_true', help="print the checks of the checkpoint's EMA generator and exit")
    p.add_argument('--export', action='store_true', help="write the checkpoint's EMA generator to assets/stylegan_sky64 and exit")
    a = p.parse_args()
    cfg = StyleGANConfig.from_preset('sky64')
    data = sky_frames(cfg.n_images, cfg.size, cfg.seed)
    path = checkpoint_path(a.out, cfg, data)
    if not my_share([path], a): return                                  # one run: only worker 0 trains it
    if a.status: print(status_line('stylegan sky64', path, cfg.n_steps)); return
    if a.judge or a.export:
        G, meta = training_ema_generator(path)
        print(f"{path.name}: step {meta['step']} of {cfg.n_steps}, {meta['seconds'] / 3600:.2f} h")
        if a.judge: judge(G)
        if a.export:
            h = block_means(History.from_dict(meta['history']), 20)     # 30 000 steps of losses: 1.5 MB of JSON, 75 kB after
            out = save_stylegan(G, ASSETS / 'stylegan_sky64.safetensors',
                                {'history': h.to_dict(), 'preset': 'sky64', 'step': meta['step'], 'planned_steps': cfg.n_steps,
                                'seconds': meta['seconds'], 'device': meta['device'], 'checkpoint': path.name,
                                'history_note': 'each logged series as means of blocks of 20 values (at the block ends)'})
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
