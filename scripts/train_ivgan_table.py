"""Train the runs behind `20_ivgan`'s table at a preset (`small`, `cpu`), in time-boxed, resumable pieces.

The table trains every variant with several seeds plus the `zero_gp + Eq. 11` row: hours on one CPU thread. This
script trains exactly the runs the notebook asks for (same config, dataset and seeds, so the same checkpoint
names), seed by seed, for at most `--minutes` per call, into `--out` (default: the notebook's `out_dir`, `nbs/runs/ivgan`,
at `small`; `training/ivgan_cpu`, which is committed, at `cpu`); the notebook, run with the same `seeds` and that
`out_dir`, then loads them instead of training. `--status` lists what is done.

`--compact` rewrites every finished checkpoint without the optimiser moments and with float16 weights (about 1 MB
instead of 6.5 MB), so that the cpu table's 21 finished runs can be committed; the final measurements in its history
were made before, on the float32 weights. A finished run is never trained again, so nothing needs the moments.

    python scripts/train_ivgan_table.py --minutes 150 --threads 1
    python scripts/train_ivgan_table.py --minutes 150 --threads 1 --worker 0/2 & \
    python scripts/train_ivgan_table.py --minutes 150 --threads 1 --worker 1/2     # two processes, one per core
    python scripts/train_ivgan_table.py --status
    python scripts/train_ivgan_table.py --preset cpu --path-starts 0.75 --minutes 150 --threads 1 --compact   # the cpu table
"""
import argparse, time
import torch
from singan_gif_lib.core import load_checkpoint, save_checkpoint
from pathlib import Path
from singan_gif_lib.ivgan import IVGANConfig, IVGANRun, checkpoint_path, default_data, make_dataset, table_runs
from timebox import add_timebox_args, my_share, status_line, train_until

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=None, help='checkpoint folder (default: nbs/runs/ivgan; training/ivgan_cpu at cpu)')
    p.add_argument('--preset', default='small', choices=('small', 'cpu'), help="the notebook's preset")
    p.add_argument('--seeds', type=int, default=3, help='training seeds per row')
    p.add_argument('--path-variants', default='zero_gp', help="variants also trained with Eq. 11's path ('' for none)")
    p.add_argument('--path-starts', default='0.25,0.5,0.75', help="fractions of the steps before Eq. 11's path takes over (the notebook's path_starts)")
    p.add_argument('--compact', action='store_true', help='rewrite finished checkpoints as float16 weights without optimiser moments')
    add_timebox_args(p)
    a = p.parse_args()
    if a.out is None: a.out = ROOT / ('training/ivgan_cpu' if a.preset == 'cpu' else 'nbs/runs/ivgan')
    cfg = IVGANConfig.from_preset(a.preset)
    data = make_dataset(default_data(a.preset), cfg, n_clips=2000)   # what 20_ivgan uses at that preset (data='auto')
    rows = table_runs(cfg, seeds=a.seeds, path_variants=[v.strip() for v in a.path_variants.split(',') if v.strip()],
                      path_starts=[float(x) for x in a.path_starts.split(',') if x.strip()])
    todo = [(cs[s], v) for s in range(a.seeds) for v, cs in rows.values()]     # seed 0 of every row first
    todo = my_share(todo, a)
    t_end = time.time() + 60 * a.minutes
    for c, v in todo:
        path = checkpoint_path(a.out, c, v, data)
        label = f"{v}{f' + Eq. 11 @{c.path_start}' if c.path == 'generator' else ''} seed {c.seed}"
        if a.status: print(status_line(label, path, c.n_steps)); continue
        if not train_until(lambda: IVGANRun(c, v, data), a.out, path, c.n_steps, c.checkpoint_every, t_end, label): continue   # time is up: the rest only gets compacted
        if a.compact: compact(path)


def compact(path: Path) -> None:
    "Rewrite the finished checkpoint at `path` with float16 weights and buffers, without the optimisers' moments."
    tensors, meta = load_checkpoint(path)
    if not any(k.startswith('opt') for k in tensors): return
    keep = {k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items() if not k.startswith('opt')}
    save_checkpoint(path, keep, {**meta, 'compacted': 'float16 weights, no optimiser moments (finished run)'})
    print(f"{path.name}: compacted to {path.stat().st_size / 1e6:.1f} MB", flush=True)

if __name__ == '__main__':
    main()
