"""Time-boxed, resumable training for the scripts that train a notebook's runs across sessions."""
import json, time
from pathlib import Path
from typing import Callable
from singan_gif_lib.core import TrainRun, train_run


def checkpoint_meta(path: Path) -> dict:
    "The step and seconds of the checkpoint at `path` (.safetensors; its .json sibling), or zeros when there is none."
    js = Path(path).with_suffix('.json')
    return json.loads(js.read_text()) if js.exists() else {'step': 0, 'seconds': 0}


def status_line(label: str, path: Path, n_steps: int, width: int = 30) -> str:
    "One line: the run's label, its steps done out of n_steps, its minutes, its file."
    meta = checkpoint_meta(path)
    return f"{label:{width}s} {meta['step']:5d}/{n_steps} {meta['seconds'] / 60:6.1f} min  {Path(path).name}"


def train_until(make_run: Callable[[], TrainRun], # a fresh run object (train_run restores it from its checkpoint)
                out_dir: Path, path: Path, n_steps: int, checkpoint_every: int,
                t_end: float, # time.time() to stop at (after the checkpoint in progress)
                label: str) -> bool:
    "Train, one checkpoint interval per call of train_run, until the run has n_steps or t_end is past; True when it is finished."
    step = checkpoint_meta(path)['step']
    while step < n_steps and time.time() < t_end:
        run = make_run()
        train_run(run, out_dir, resume=True, max_steps=checkpoint_every, show_progress=False)
        step = run.steps_done
        print(f"{label}: step {run.steps_done}/{n_steps}, {run.seconds / 60:.1f} min", flush=True)
    return step >= n_steps


def add_timebox_args(p) -> None:
    "The options every time-boxed script takes: --minutes, --threads, --worker K/N, --status."
    p.add_argument('--minutes', type=float, default=60, help='train for at most this long in this call')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    p.add_argument('--worker', default='0/1', help='K/N: train only every N-th run starting at the K-th (N processes in parallel)')
    p.add_argument('--status', action='store_true', help='list the runs and their steps, train nothing')


def my_share(items: list, a) -> list:
    "Set torch's threads from --threads; the items this worker (--worker K/N) trains: all of them with --status."
    import torch
    if a.threads: torch.set_num_threads(a.threads)
    k, n = map(int, a.worker.split('/'))
    if not 0 <= k < n: raise SystemExit(f"--worker expects K/N with 0 <= K < N, got {a.worker!r}")
    return items if a.status else items[k::n]
