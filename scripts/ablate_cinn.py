"""Ablate the cINN's stage-1 departures at `small` settings: which change makes z carry the cloud motion.

Each variant is the `small` preset without Eq. W2b's occlusion weight (the rows were made before it existed)
with a few fields changed and a shorter stage 1 (--steps, default 600); all three
stages are trained by `train_image_to_video` (checkpoints in runs/cinn_ablation/<variant>, so a re-run loads them),
then measured on held-out SkyTimelapse clips (seed 1): reconstruction L1 of stage 1 against copying x_0 into every
frame, control accuracy over every (start frame, direction) pair and motion-transfer accuracy
(`evaluate_image_to_video`, `evaluate_transfer`). The table is written as JSON (default nbs/results/cinn_ablation.json),
which `42_cinn_train` shows. Usage: python scripts/ablate_cinn.py [--steps 600] [--n-eval 64] [--threads 2] [--out FILE] [--variants 'small;small, seed 1']
(--variants: train and measure only those rows; the file's other rows are kept.)
"""
import argparse, json, sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from singan_gif_lib.data import SkyTimelapse
from singan_gif_lib.video_ae import (VideoAEConfig, train_image_to_video, stack_dataset, evaluate_image_to_video,
                                     evaluate_transfer)

VARIANTS = {  # name -> (fields changed from `small`, what it tests)
    'supplement': (dict(encoder='resnet3d', decoder='spade', lambda_rec=10.0, lambda_f=10.0, lr=2e-4),
                   "the supplement's encoder, decoder, loss weights and learning rate"),
    'warp decoder only': (dict(encoder='resnet3d'), "the supplement's 3D ResNet encoder with the warping decoder"),
    'paper loss weights': (dict(lambda_rec=10.0, lambda_f=10.0), 'correlation encoder and warping decoder with lambda = lambda_F = 10'),
    'small': (dict(), 'correlation encoder, warping decoder, lambda = 100, lambda_F = 1 (the preset)'),
    'small, seed 1': (dict(seed=1), 'the preset with another seed (initialisation and batches)'),
    'small, seed 2': (dict(seed=2), 'the preset with another seed (initialisation and batches)'),
    'constant acceleration': (dict(motion='accel'), 'the preset with displacements of constant acceleration (Eq. W1a) instead of a velocity per frame (Eq. W1)'),
    'constant acceleration, seed 1': (dict(motion='accel', seed=1), 'the same with another seed (initialisation and batches)'),
    'constant acceleration, seed 2': (dict(motion='accel', seed=2), 'the same with another seed (initialisation and batches)'),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=600, help='stage-1 steps per variant')
    ap.add_argument('--n-eval', type=int, default=64, help='held-out start frames')
    ap.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: leave the default)')
    ap.add_argument('--out', default='nbs/results/cinn_ablation.json')
    ap.add_argument('--runs', default='runs/cinn_ablation')
    ap.add_argument('--variants', default='', help="';'-separated row names to (re)make; the file's other rows are kept (default: all)")
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    base = VideoAEConfig.from_preset('small')
    train = SkyTimelapse(n_clips=base.n_clips, n_frames=base.n_frames, size=base.size, seed=0)
    test = SkyTimelapse(n_clips=a.n_eval, n_frames=base.n_frames, size=base.size, seed=1)
    videos, labels = stack_dataset(test, base)
    rows = [test.params(i)['sky_rows'] for i in range(len(test))]
    copy_l1 = float((videos[:, :, :1] - videos).abs().mean())
    todo = [v.strip() for v in a.variants.split(';') if v.strip()] or list(VARIANTS)
    unknown = [v for v in todo if v not in VARIANTS]
    if unknown: ap.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    out = Path(a.out)
    old = {r['variant']: r for r in json.loads(out.read_text())['rows']} if out.exists() and len(todo) < len(VARIANTS) else {}
    table = {}
    for name, (fields, what) in VARIANTS.items():
        if name not in todo:
            if name in old: table[name] = old[name]
            continue
        cfg = VideoAEConfig.from_preset('small', n_steps=a.steps, **{'occlusion': False, **fields})
        model, hist = train_image_to_video(cfg, train, Path(a.runs) / name.replace(' ', '_'), device='cpu', show_progress=False)
        seconds = sum(h.last('seconds') for h in hist.values())       # the three stages' training wall time (also when loaded)
        rec = torch.cat([model.decode(v[:, :, 0], model.encode(v)) for v in videos.split(32)])
        ev = evaluate_image_to_video(model, videos, labels, rows, n_futures=2, modes=('cinn',))
        tr = evaluate_transfer(model, videos, labels, rows, n_targets=2)
        row = dict(variant=name, changes=what, fields=fields, stage1_steps=a.steps, train_seconds=round(seconds),
                   reconstruction_l1=float((rec - videos).abs().mean()), copy_x0_l1=copy_l1,
                   control_accuracy=ev['cinn']['control_accuracy'], motion_transfer=tr['motion_transfer'],
                   video_to_video=tr['video_to_video'])
        table[name] = row
        print(json.dumps(row), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps({'n_eval': a.n_eval, 'rows': list(table.values())}, indent=1) + '\n'); tmp.replace(out)
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
