"""Train the shipped 64 px motion generator: MoCoGAN-HD (`MoCoGANHDConfig` preset 'small', 1200 steps) walking the shipped
64 px sky StyleGAN2, in time-boxed, resumable pieces.

Each call trains for at most `--minutes` and keeps the run's checkpoint (motion generator, discriminators, key encoder,
queue, optimisers, history, cumulative wall time) in `--out` (committed under `training/`); the next call continues
it. `--export` writes the finished motion generator to the package's assets as `mocogan_sky64`, which
`load_mocogan_hd()` and `singan-gif mocogan-sample` then prefer to the 32 px one.

    python scripts/train_mocogan_sky64.py --minutes 150 --threads 1
    python scripts/train_mocogan_sky64.py --status
    python scripts/train_mocogan_sky64.py --export
"""
import argparse, time
from pathlib import Path
from singan_gif_lib.core import ASSETS, load_checkpoint, run_checkpoint_path
from singan_gif_lib.stylegan import load_stylegan
from singan_gif_lib.mocogan_hd import MoCoGANHDConfig, MoCoGANHDRun, sky_clips, save_motion_generator
from timebox import add_timebox_args, my_share, status_line, train_until

ROOT = Path(__file__).resolve().parent.parent
N_STEPS = 1200      # as the shipped 32 px motion generator


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'training' / 'mocogan_sky64', help='checkpoint folder')
    p.add_argument('--export', action='store_true', help='write the finished motion generator to assets/mocogan_sky64 and exit')
    add_timebox_args(p)
    a = p.parse_args()
    cfg = MoCoGANHDConfig.from_preset('small', n_steps=N_STEPS, checkpoint_every=50)
    G = load_stylegan(64)
    clips = sky_clips(cfg, G.size, seed=cfg.seed)
    make_run = lambda: MoCoGANHDRun(cfg, G, clips)
    path = run_checkpoint_path(make_run(), a.out)
    if not my_share([path], a): return                                  # one run: only worker 0 trains it
    if a.status: print(status_line('motion generator, 64 px', path, cfg.n_steps)); return
    if a.export:
        tensors, meta = load_checkpoint(path)
        if meta['step'] < cfg.n_steps: raise SystemExit(f"{path}: step {meta['step']} of {cfg.n_steps}; train it to the end first")
        run = make_run(); run.load(tensors, meta)
        out = save_motion_generator(run.M, cfg, G, ASSETS / 'mocogan_sky64.safetensors',
                                    {'train': {'steps': meta['step'], 'seconds': meta['seconds'], 'device': meta['device']},
                                     'history': meta['history'], 'trained_by': 'scripts/train_mocogan_sky64.py', 'images': 'assets/stylegan_sky64'})
        print('wrote', out); return
    done = train_until(make_run, a.out, path, cfg.n_steps, cfg.checkpoint_every, time.time() + 60 * a.minutes, 'motion 64 px')
    print('finished' if done else 'time is up; call again to continue')

if __name__ == '__main__': main()
