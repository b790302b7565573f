"""Train the runs behind `20_ivgan`'s table at a preset (`small`, `cpu`), in time-boxed, resumable pieces.

The table trains every variant with several seeds plus the `zero_gp + Eq. 11` row: hours on one CPU thread. This
script trains exactly the runs the notebook asks for (same config, dataset and seeds, so the same checkpoint
names), seed by seed, for at most `--minutes` per call, into the notebook's default `out_dir` (`nbs/runs/ivgan`);
the notebook, run with the same `seeds`, then loads them instead of training. `--status` lists what is done.

    python scripts/train_ivgan_table.py --minutes 150 --threads 1
    python scripts/train_ivgan_table.py --minutes 150 --threads 1 --worker 0/2 & \
    python scripts/train_ivgan_table.py --minutes 150 --threads 1 --worker 1/2     # two processes, one per core
    python scripts/train_ivgan_table.py --status
    python scripts/train_ivgan_table.py --preset cpu --minutes 150 --threads 1    # the cpu preset's table (large shapes)
"""
import argparse, time
from pathlib import Path
from singan_gif_lib.ivgan import IVGANConfig, IVGANRun, checkpoint_path, default_data, make_dataset, table_runs
from timebox import add_timebox_args, my_share, status_line, train_until

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'nbs' / 'runs' / 'ivgan', help='checkpoint folder')
    p.add_argument('--preset', default='small', choices=('small', 'cpu'), help="the notebook's preset")
    p.add_argument('--seeds', type=int, default=3, help='training seeds per row')
    p.add_argument('--path-variants', default='zero_gp', help="variants also trained with Eq. 11's path ('' for none)")
    p.add_argument('--path-starts', default='0.25,0.5,0.75', help="fractions of the steps before Eq. 11's path takes over (the notebook's path_starts)")
    add_timebox_args(p)
    a = p.parse_args()
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
        if not train_until(lambda: IVGANRun(c, v, data), a.out, path, c.n_steps, c.checkpoint_every, t_end, label): break

if __name__ == '__main__':
    main()
