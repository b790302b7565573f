"""Train the runs behind `51_style_dvdgan_train` (the shipped sky model and the slides' table) in time-boxed, resumable pieces.

The notebook's `small` runs are the sky model (`small`, 2500 steps) and the four rows of the slides' table (sky and
shapes, style blocks and DVDGAN-S, `table_steps` steps each): about 2.5 hours on one CPU thread. This script trains
exactly those configs (same settings, so the same checkpoint names) into the notebook's `out_dir`
(`nbs/runs/style_dvdgan`), for at most `--minutes` per call; the notebook then loads them. `--set` applies config
changes to every run (e.g. a setting the `small` preset is about to take).

    python scripts/train_style_dvdgan_runs.py --minutes 150 --threads 1 --worker 0/2 & \
    python scripts/train_style_dvdgan_runs.py --minutes 150 --threads 1 --worker 1/2     # two processes, one per core
    python scripts/train_style_dvdgan_runs.py --set lr_mask=3e-4 --status                # the runs with a changed setting
"""
import argparse, json, time
from pathlib import Path
from singan_gif_lib.core import run_checkpoint_path
from timebox import add_timebox_args, my_share, status_line, train_until
from singan_gif_lib.style_dvdgan import StyleDVDGANConfig, StyleDVDGANRun

ROOT = Path(__file__).resolve().parent.parent


def parse_set(items: list[str]) -> dict:
    "'name=value' pairs -> a dict of config changes (value read as JSON where it parses, else as a string)."
    out = {}
    for it in items:
        if '=' not in it: raise SystemExit(f"train_style_dvdgan_runs.py: --set expects name=value, got {it!r}")
        k, v = it.split('=', 1)
        try: out[k] = json.loads(v)
        except json.JSONDecodeError: out[k] = v
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'nbs' / 'runs' / 'style_dvdgan', help='checkpoint folder')
    p.add_argument('--table-steps', type=int, default=1000, help="the notebook's table_steps")
    p.add_argument('--set', nargs='*', default=[], help='config changes for every run, name=value')
    add_timebox_args(p)
    a = p.parse_args()
    changes = parse_set(a.set)
    runs = [('sky model', StyleDVDGANConfig.from_preset('small', **changes))]
    runs += [(f'table {data} {block}', StyleDVDGANConfig.from_preset('small', data=data, block=block, n_steps=a.table_steps, **changes))
             for data in ('sky', 'shapes') for block in ('style', 'cbn')]
    runs = my_share(runs, a)
    t_end = time.time() + 60 * a.minutes
    for label, c in runs:
        path = run_checkpoint_path(StyleDVDGANRun(c), a.out)
        if a.status: print(status_line(label, path, c.n_steps, 22)); continue
        if not train_until(lambda: StyleDVDGANRun(c), a.out, path, c.n_steps, c.checkpoint_every, t_end, label): break

if __name__ == '__main__':
    main()
