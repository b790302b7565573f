"""Tiny iVGAN fixtures shared by test_ivgan.py and test_distributed.py (a module, so spawned processes can unpickle them)."""
import torch

from singan_gif_lib.ivgan import IVGANConfig

class Toy:
    "Map-style dataset of moving sinusoids, (video, label) items in [-1, 1]."
    def __init__(self, cfg, n=8): self.cfg, self.n = cfg, n
    def __len__(self): return self.n
    def __getitem__(self, i):
        c = self.cfg
        t = torch.arange(c.frames)[:, None, None]; x = torch.arange(c.size)[None, None, :]
        v = torch.sin((x + (i + 1) * t) / 3.0).expand(c.frames, c.size, c.size)
        return torch.stack([v, -v, 0.5 * v]), i


def tiny(**kw):
    "A config smaller than ci: 8x8, 4 frames, 2 critic steps, batch 4."
    return IVGANConfig.from_preset('ci', **{'size': 8, 'frames': 4, 'width': 16, 'n_critic': 2, 'batch_size': 4,
                                            'n_steps': 4, 'eval_every': 2, 'eval_samples': 4, 'eval_repeats': 2, **kw})
