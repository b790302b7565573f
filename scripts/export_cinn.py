"""Write the shipped cINN (`singan_gif_lib/assets/cinn_sky32_model.*`) from a finished `small` run of `42_cinn_train`.

The notebook's `train_image_to_video(cfg, ds, 'runs/cinn/small')` leaves `nbs/runs/cinn/small/model.safetensors` with the
three stages' histories; this script stores it as float16 (loaded back as float32) with the stage-1 step count, its
wall time and the CPU threads it ran on, which the notebook prints.

    python scripts/export_cinn.py --threads-used 1 [--run nbs/runs/cinn/small]
"""
import argparse
from pathlib import Path
from singan_gif_lib.core import ASSETS, load_checkpoint
from singan_gif_lib.video_ae import load_image_to_video

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--run', type=Path, default=ROOT / 'nbs' / 'runs' / 'cinn' / 'small', help="the run's folder (holds model.safetensors)")
    p.add_argument('--threads-used', type=int, required=True, help='torch CPU threads the run trained with (recorded, printed by the notebook)')
    p.add_argument('--out', type=Path, default=ASSETS / 'cinn_sky32_model.safetensors')
    a = p.parse_args()
    model = load_image_to_video(a.run / 'model.safetensors', 'cpu')
    _, meta = load_checkpoint(a.run / 'model.safetensors')
    h1 = meta['histories']['video_ae']
    train = {'stage1_steps': max(max(s) for s in h1['steps'].values()), 'stage1_wall_seconds': round(h1['values']['seconds'][-1]),
             'threads': a.threads_used}
    out = model.save(a.out, {'histories': meta['histories'], 'train': train}, half=True)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {train}")

if __name__ == '__main__':
    main()
