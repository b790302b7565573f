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
import argparse, json, time
from pathlib import Path
import torch
from singan_gif_lib.ivgan import IVGANConfig, IVGANRun, checkpoint_path, default_data, make_dataset, table_runs
from singan_gif_lib.core import train_run

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'nbs' / 'runs' / 'ivgan', help='checkpoint folder')
    p.add_argument('--preset', default='small', choices=('small', 'cpu'), help="the notebook's preset")
    p.add_argument('--seeds', type=int, default=3, help='training seeds per row')
    p.add_argument('--path-variants', default='zero_gp', help="variants also trained with Eq. 11's path ('' for none)")
    p.add_argument('--path-starts', default='0.25,0.5,0.75', help="fractions of the steps before Eq. 11's path takes over (the notebook's path_starts)")
    p.add_argument('--minutes', type=float, default=60, help='train for at most this long in this call')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    p.add_argument('--worker', default='0/1', help="K/N: train only every N-th run starting at the K-th (N processes in parallel)")
    p.add_argument('--status', action='store_true', help='list the runs and their steps, train nothing')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    cfg = IVGANConfig.from_preset(a.preset)
    data = make_dataset(default_data(a.preset), cfg, n_clips=2000)   # what 20_ivgan uses at that preset (data='auto')
    rows = table_runs(cfg, seeds=a.seeds, path_variants=[v.strip() for v in a.path_variants.split(',') if v.strip()],
                      path_starts=[float(x) for x in a.path_starts.split(',') if x.strip()])
    todo = [(cs[s], v) for s in range(a.seeds) for v, cs in rows.values()]     # seed 0 of every row first
    k, n = map(int, a.worker.split('/'))
    if not a.status: todo = todo[k::n]
    t_end = time.time() + 60 * a.minutes
    for c, v in todo:
        path = checkpoint_path(a.out, c, v, data)
        meta = json.loads(path.with_suffix('.json').read_text()) if path.with_suffix('.json').exists() else {'step': 0, 'seconds': 0}
        label = f"{v}{f' + Eq. 11 @{c.path_start}' if c.path == 'generator' else ''} seed {c.seed}"
        if a.status:
            print(f"{label:30s} {meta['step']:5d}/{c.n_steps} {meta['seconds'] / 60:6.1f} min  {path.name}"); continue
        while meta['step'] < c.n_steps and time.time() < t_end:
            run = IVGANRun(c, v, data)
            train_run(run, a.out, resume=True, max_steps=c.checkpoint_every, show_progress=False)
            meta = {'step': run.steps_done, 'seconds': run.seconds}
            print(f"{label}: step {run.steps_done}/{c.n_steps}, {run.seconds / 60:.1f} min", flush=True)
        if time.time() >= t_end: break


if __name__ == '__main__':
    main()
