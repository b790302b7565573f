"""scripts/timebox.py: the time-boxed, resumable training the long-run scripts share."""
import sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'scripts'))
from timebox import checkpoint_meta, status_line, train_until   # noqa: E402
from singan_gif_lib.core import TrainRun, run_checkpoint_path, state_tensors, load_state_tensors   # noqa: E402


class Counter(TrainRun):
    "A run whose one parameter counts its steps."
    name = 'counter'
    def __init__(self): self.n_steps, self.checkpoint_every = 6, 2; self.p = torch.nn.Parameter(torch.zeros(1))
    def step(self, i): self.p.data += 1; return {'value': float(self.p.detach())}
    def settings(self): return {'n': 6}
    def tensors(self): return {'p': self.p.detach().clone()}
    def load(self, tensors, meta=None): self.p.data.copy_(tensors['p'])


def test_train_until(tmp_path, capsys):
    path = run_checkpoint_path(Counter(), tmp_path)
    assert checkpoint_meta(path) == {'step': 0, 'seconds': 0}
    assert not train_until(Counter, tmp_path, path, 6, 2, time.time() - 1, 'c')    # time already up: nothing trained
    assert not path.exists()
    assert train_until(Counter, tmp_path, path, 6, 2, time.time() + 600, 'c')      # three pieces of two steps
    assert capsys.readouterr().out.count('c: step') == 3
    assert checkpoint_meta(path)['step'] == 6
    assert status_line('c', path, 6).split()[:2] == ['c', '6/6']
    assert train_until(Counter, tmp_path, path, 6, 2, time.time() + 600, 'c')      # finished: nothing more
    assert capsys.readouterr().out == ''


def test_my_share():
    import argparse, pytest
    from timebox import add_timebox_args, my_share
    p = argparse.ArgumentParser(); add_timebox_args(p)
    items = list('abcde')
    assert my_share(items, p.parse_args(['--worker', '1/2'])) == ['b', 'd']
    assert my_share(items, p.parse_args(['--worker', '1/2', '--status'])) == items     # --status lists every run
    with pytest.raises(SystemExit, match='--worker'): my_share(items, p.parse_args(['--worker', '2/2']))
