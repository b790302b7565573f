"""DDP training of iVGAN over two CPU processes (gloo): gradients averaged correctly through the GP double backward,
and both replicas end with identical parameters that moved away from the initial ones."""
import json

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from ivgan_toys import Toy, tiny
from singan_gif_lib.core import seed_everything
from singan_gif_lib.ivgan import Generator, IVGANConfig, IVGANRun, build_critic, checkpoint_path, critic_loss, train_ivgan

WORLD = 2




def _flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _gp_gradient_check(rank: int, variant: str) -> float:
    "Largest difference between DDP's gradient and the mean of the per-process gradients, through the GP double backward."
    from torch.nn.parallel import DistributedDataParallel as DDP
    c = tiny()
    torch.manual_seed(0); d = build_critic(c, variant)
    torch.manual_seed(0); ref = build_critic(c, variant)
    g = torch.Generator().manual_seed(100 + rank)                         # each rank its own batch
    real, fake, alpha = torch.rand(2, 3, 4, 8, 8, generator=g) * 2 - 1, torch.rand(2, 3, 4, 8, 8, generator=g) * 2 - 1, torch.rand(2, generator=g)
    ddp = DDP(d)
    critic_loss(ddp, real, fake, variant, c, alpha)['loss'].backward()
    critic_loss(ref, real, fake, variant, c, alpha)['loss'].backward()
    worst, largest = 0.0, 0.0
    for p, q in zip(d.parameters(), ref.parameters()):
        mean = q.grad.clone(); dist.all_reduce(mean); mean /= WORLD
        worst, largest = max(worst, float((p.grad - mean).abs().max())), max(largest, float(mean.abs().max()))
        assert not torch.equal(p.grad, q.grad) or float(q.grad.abs().max()) == 0   # DDP's grad is not just the local one
    assert largest > 0
    return worst


def _worker(rank: int, tmp: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{tmp}/store', rank=rank, world_size=WORLD)
    try:
        out = {'gp_grad_err': _gp_gradient_check(rank, 'gp'), 'sn_gp_grad_err': _gp_gradient_check(rank, 'sn_gp')}
        c = tiny()
        run = IVGANRun(c, 'sn_gp', Toy(c), distributed=True)       # spectral norm + GP, without the checkpoint path
        losses = [run.step(i)['critic_loss'] for i in range(c.n_steps)]
        save_file({'G': _flat(run.G), 'D': _flat(run.D)}, f'{tmp}/sn_gp-{rank}.safetensors')
        out['sn_gp_losses'] = losses
        G, h = train_ivgan(c, 'gp', Toy(c), f'{tmp}/ckpt', distributed=True, show_progress=False)
        save_file({'G': _flat(G)}, f'{tmp}/gp-{rank}.safetensors')
        out['gp_losses'] = h.values['critic_loss']
        with open(f'{tmp}/out-{rank}.json', 'w') as f: json.dump(out, f)
    finally:
        dist.destroy_process_group()


def test_ddp_two_cpu_processes(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path),), nprocs=WORLD, join=True)
    outs = [json.loads((tmp_path / f'out-{r}.json').read_text()) for r in range(WORLD)]
    # DDP averages the gradient of the GP objective correctly (double backward through DDP works)
    for o in outs:
        assert o['gp_grad_err'] < 1e-6 and o['sn_gp_grad_err'] < 1e-6, o
    c = tiny()
    seed_everything(c.seed); G0 = _flat(Generator(c)); D0 = _flat(build_critic(c, 'sn_gp'))
    for v, nets in (('gp', ('G',)), ('sn_gp', ('G', 'D'))):
        res = [load_file(str(tmp_path / f'{v}-{r}.safetensors')) for r in range(WORLD)]
        for net, init in zip(nets, (G0, D0)):
            assert torch.equal(res[0][net], res[1][net]), f'{v} {net}: replicas differ'      # identical replicas
            assert not torch.allclose(res[0][net], init), f'{v} {net}: parameters did not move'  # and they trained
        assert outs[0][f'{v}_losses'] != outs[1][f'{v}_losses']   # each rank drew its own batches
    # rank 0 wrote the checkpoint, recording the world size
    meta = json.loads(checkpoint_path(tmp_path / 'ckpt', c, 'gp', Toy(c)).with_suffix('.json').read_text())
    assert meta['world_size'] == WORLD and meta['step'] == c.n_steps
