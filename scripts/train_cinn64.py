"""Train the cINN at the supplement's 64 px and 16 frames (`VideoAEConfig` preset 'sky64') in time-boxed, resumable pieces.

Stage 1 takes hours on a CPU, so it is trained across sessions: each call trains for at most `--minutes`, keeps the
stage checkpoints (weights, critics, Adam states, history, cumulative wall time) in `--out` (committed under
`training/`), and the next call continues them. When stage 1 has all its steps, the image autoencoder and the flow
are trained (minutes). `--evaluate` measures the finished model on held-out 64 px clips as `42_cinn_train` does at
32 px and writes the numbers to `nbs/results/cinn64.json`, which the notebook shows.

    python scripts/train_cinn64.py --minutes 150 --threads 1
    python scripts/train_cinn64.py --status
    python scripts/train_cinn64.py --evaluate --threads 2
"""
import argparse, json, time
from pathlib import Path
import torch
from singan_gif_lib.core import load_checkpoint
from singan_gif_lib.data import SkyTimelapse
from singan_gif_lib.video_ae import (VideoAEConfig, VideoAEError, train_video_autoencoder, train_image_to_video, stack_dataset,
                                     evaluate_image_to_video, evaluate_transfer)
from timebox import add_timebox_args, my_share, status_line

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'training' / 'cinn64', help='checkpoint folder of the three stages')
    add_timebox_args(p)
    p.add_argument('--evaluate', action='store_true', help='measure the finished model and write nbs/results/cinn64.json')
    p.add_argument('--n-eval', type=int, default=32, help='held-out start frames for --evaluate (64 needs more than 24 GB in patch SWD)')
    a = p.parse_args()
    cfg = VideoAEConfig.from_preset('sky64')
    ckpt = a.out / 'video_ae.safetensors'
    if not my_share([ckpt], a): return                                  # one run: only worker 0 trains it
    if a.status: print(status_line('stage 1 (video AE)', ckpt, cfg.n_steps)); return
    t_end = time.time() + 60 * a.minutes
    train = SkyTimelapse(n_clips=cfg.n_clips, n_frames=cfg.n_frames, size=cfg.size, seed=0)
    videos, labels = stack_dataset(train, cfg)                              # rendered once per call
    step = load_checkpoint(ckpt)[1]['step'] if ckpt.exists() else 0
    while step < cfg.n_steps and time.time() < t_end:
        run, h = train_video_autoencoder(cfg, videos, a.out, resume=True, max_steps=cfg.checkpoint_every, show_progress=False)
        step = run.steps_done
        print(f"stage 1: step {step}/{cfg.n_steps}, {h.last('seconds') / 60:.1f} min", flush=True)
    if step < cfg.n_steps: return
    model, hist = train_image_to_video(cfg, list(zip(videos, labels.tolist())), a.out, show_progress=False)   # stage 1 loads; the rest trains
    print('all stages finished:', {k: round(h.last('seconds')) for k, h in hist.items()}, 's')
    if not a.evaluate: return
    test = SkyTimelapse(n_clips=a.n_eval, n_frames=cfg.n_frames, size=cfg.size, seed=1)
    tv, tl = stack_dataset(test, cfg)
    rows = [test.params(i)['sky_rows'] for i in range(len(test))]
    rec = torch.cat([model.decode(v[:, :, 0], model.encode(v)) for v in tv.split(16)])
    ev = evaluate_image_to_video(model, tv, tl, rows, n_futures=5, seed=0)
    tr = evaluate_transfer(model, tv, tl, rows, n_targets=4)
    res = {'preset': 'sky64', 'n_eval': a.n_eval, 'stage_seconds': {k: round(h.last('seconds')) for k, h in hist.items()},
           'stage1_steps': cfg.n_steps, 'reconstruction_l1': float((rec - tv).abs().mean()),
           'copy_x0_l1': float((tv[:, :, :1] - tv).abs().mean()), 'methods': ev, **tr}
    out = ROOT / 'nbs' / 'results' / 'cinn64.json'
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps(res, indent=1) + '\n'); tmp.replace(out)
    print('wrote', out)

if __name__ == '__main__': main()
