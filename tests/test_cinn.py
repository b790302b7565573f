"Unit tests of singan_gif_lib.cinn: invertibility, exact log-determinants, ActNorm, conditioning, training, checkpoints, errors."
import json, math

import pytest
import torch

from singan_gif_lib.core import CheckpointError, SinganGifError
from singan_gif_lib.cinn import (ActNorm, AffineCoupling, CINNConfig, CINNError, ConditionalINN, gaussian_nll,
                                 load_cinn, make_cinn, save_cinn, soft_clamp, toy_shapes, train_cinn)


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    "Tiny layers: a second OpenMP thread only adds contention."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _flow(dim, cond_dim, n_blocks=3, hidden=16, seed=0, dtype=torch.float64):
    "A flow with non-trivial weights, its ActNorms initialised on a random batch."
    torch.manual_seed(seed)
    f = ConditionalINN(dim, cond_dim, n_blocks=n_blocks, hidden=hidden).to(dtype)
    with torch.no_grad():
        for p in f.parameters(): p.add_(0.3 * torch.randn_like(p))   # move away from the near-identity start
        c = torch.randn(32, cond_dim, dtype=dtype) if cond_dim else None
        f(torch.randn(32, dim, dtype=dtype) * 2 + 1, c)
    return f


@pytest.mark.parametrize('dim,cond_dim', [(7, 3), (6, 0), (2, 5), (8, 1)])
def test_reverse_inverts_forward(dim, cond_dim):
    f = _flow(dim, cond_dim)
    z = torch.randn(20, dim, dtype=torch.float64) * 3
    c = torch.randn(20, cond_dim, dtype=torch.float64) if cond_dim else None
    nu, logdet = f(z, c)
    assert nu.shape == (20, dim) and logdet.shape == (20,)
    assert (f.reverse(nu, c) - z).abs().max() < 1e-6
    assert (f(f.reverse(z, c), c)[0] - z).abs().max() < 1e-6   # and the other way round


@pytest.mark.parametrize('dim,cond_dim', [(6, 2), (7, 3), (8, 0)])
def test_logdet_matches_autograd_jacobian(dim, cond_dim):
    f = _flow(dim, cond_dim, n_blocks=4)
    z = torch.randn(4, dim, dtype=torch.float64)
    c = torch.randn(4, cond_dim, dtype=torch.float64) if cond_dim else None
    _, logdet = f(z, c)
    assert logdet.abs().max() > 0.1   # not trivially zero
    for i in range(4):
        ci = None if c is None else c[i:i + 1]
        J = torch.autograd.functional.jacobian(lambda v: f(v[None], ci)[0][0], z[i])
        sign, ref = torch.linalg.slogdet(J)
        assert sign != 0
        assert abs(logdet[i].item() - ref.item()) < 1e-8, (i, logdet[i].item(), ref.item())


def test_coupling_logdet_and_clamp():
    torch.manual_seed(1)
    cp = AffineCoupling(5, 2, hidden=8, clamp=0.5).double()
    with torch.no_grad():
        for p in cp.parameters(): p.mul_(50)   # huge raw scales: the clamp must bound them
    x, c = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    y, ld = cp(x, c)
    assert ld.abs().max() <= 0.5 * 5 + 1e-9   # |s| <= k per transformed feature
    J = torch.autograd.functional.jacobian(lambda v: cp(v[None], c[:1])[0][0], x[0])
    assert abs(torch.linalg.slogdet(J)[1].item() - ld[0].item()) < 1e-9
    assert (cp.reverse(y, c) - x).abs().max() < 1e-9
    assert torch.allclose(soft_clamp(torch.tensor([1e-4, 50.]), 2.0), torch.tensor([1e-4, 2.]), atol=1e-7)
    with pytest.raises(CINNError, match='at least 2'): AffineCoupling(1, 0, 4)


def test_actnorm_data_dependent_init():
    an = ActNorm(4)
    x = torch.randn(100, 4) * torch.tensor([10., 0.01, 1., 3.]) + torch.tensor([5., -2., 0., 1.])
    y, ld = an(x)
    assert torch.allclose(y.mean(0), torch.zeros(4), atol=1e-4)
    assert torch.allclose(y.var(0, unbiased=False), torch.ones(4), atol=1e-3)
    assert torch.allclose(ld, torch.full((100,), an.log_scale.sum().item()))
    assert bool(an.initialized)
    bias, scale = an.bias.detach().clone(), an.log_scale.detach().clone()
    y2, _ = an(x * 7 + 3)   # a second batch does not re-initialise
    assert torch.equal(an.bias.detach(), bias) and torch.equal(an.log_scale.detach(), scale)
    assert y2.std() > 3
    assert torch.allclose(an.reverse(y), x, atol=1e-4)
    fresh = ActNorm(4); fresh.load_state_dict(an.state_dict())   # a loaded one is not re-initialised either
    assert torch.allclose(fresh(x * 7)[0], an(x * 7)[0])
    with pytest.raises(CINNError, match='at least 2 samples'): ActNorm(3)(torch.randn(1, 3))


def test_condition_changes_output_and_sampling():
    f = _flow(4, 3, dtype=torch.float32)
    z = torch.randn(10, 4)
    c1, c2 = torch.eye(3)[[0] * 10], torch.eye(3)[[1] * 10]
    assert (f(z, c1)[0] - f(z, c2)[0]).abs().max() > 1e-2
    assert (f.reverse(z, c1) - f.reverse(z, c2)).abs().max() > 1e-2
    g = lambda: torch.Generator().manual_seed(3)
    s = f.sample(torch.eye(3)[0], n=6, generator=g())
    assert s.shape == (6, 4) and s.dtype == torch.float32
    assert torch.equal(s, f.sample(torch.eye(3)[[0]], n=6, generator=g()))
    assert f.sample(c1).shape == (10, 4)
    assert f.sample(torch.eye(3)[0], n=6, generator=g(), temperature=0.0).std(0).max() < 1e-6   # all at the mode of nu
    u = _flow(3, 0, dtype=torch.float32)
    assert u.sample(n=5).shape == (5, 3)
    with pytest.raises(CINNError, match='give n'): u.sample()
    with pytest.raises(CINNError, match='2 conditions but n=5'): f.sample(torch.eye(3)[:2], n=5)


def test_float32_and_float64_agree():
    f64 = _flow(5, 2)
    f32 = ConditionalINN(5, 2, n_blocks=3, hidden=16); f32.load_state_dict(f64.state_dict())   # casts to float32
    z, c = torch.randn(8, 5, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64)
    nu32, ld32 = f32(z.float(), c.float())
    nu64, ld64 = f64(z, c)
    assert nu32.dtype == torch.float32 and ld32.dtype == torch.float32
    assert torch.allclose(nu32.double(), nu64, atol=1e-4) and torch.allclose(ld32.double(), ld64, atol=1e-4)
    assert (f32.reverse(nu32, c.float()) - z.float()).abs().max() < 1e-4
    assert f32.perms.dtype == torch.long and f64.double().perms.dtype == torch.long


def test_permutations_are_seeded_buffers():
    a, b, c = ConditionalINN(9, 0, n_blocks=3, hidden=4, seed=0), ConditionalINN(9, 0, n_blocks=3, hidden=4, seed=0), ConditionalINN(9, 0, n_blocks=3, hidden=4, seed=1)
    assert torch.equal(a.perms, b.perms) and not torch.equal(a.perms, c.perms)
    assert 'perms' in a.state_dict() and sorted(a.perms[0].tolist()) == list(range(9))


def test_nll_definition():
    f = _flow(3, 1)
    z, c = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 1, dtype=torch.float64)
    nu, ld = f(z, c)
    ref = (0.5 * nu.pow(2).sum(1) - ld).mean() + 1.5 * math.log(2 * math.pi)
    assert torch.allclose(f.nll(z, c), ref)
    assert torch.allclose(f.nll(z, c, per_dim=True), ref / 3)
    assert torch.allclose(-f.log_prob(z, c).mean(), ref)


def test_shape_and_dtype_errors():
    f = _flow(7, 3)
    z, c = torch.randn(4, 7, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    with pytest.raises(CINNError, match=r'z must have shape \(batch, 7\), got \(4, 6\)'): f(z[:, :6], c)
    with pytest.raises(CINNError, match=r'z must have shape'): f(z[0], c)
    with pytest.raises(CINNError, match=r'cond must have shape \(4, 3\)'): f(z, c[:, :2])
    with pytest.raises(CINNError, match=r'cond must have shape \(4, 3\)'): f(z, c[:3])
    with pytest.raises(CINNError, match='cond of shape'): f(z)
    with pytest.raises(CINNError, match=r'nu must have shape'): f.reverse(z[:, :5], c)
    with pytest.raises(CINNError, match='model is torch.float64'): f(z.float(), c)
    with pytest.raises(CINNError, match='unconditional'): _flow(4, 0)(torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 2))
    with pytest.raises(CINNError, match='dim must be at least 2'): ConditionalINN(1, 0)
    assert issubclass(CINNError, SinganGifError)


def test_toy_flow_beats_gaussian():
    x, lab = toy_shapes(2048, seed=0); c = torch.eye(3)[lab]
    xt, lt = toy_shapes(2048, seed=1)
    torch.manual_seed(0)
    m = ConditionalINN(2, 3, n_blocks=4, hidden=64)
    h = train_cinn(m, x, c, n_steps=200, lr=3e-3, batch_size=256, device='cpu', show_progress=False, clip_grad=1.0)
    with torch.no_grad(): flow = m.nll(xt, torch.eye(3)[lt]).item()
    gauss = gaussian_nll(xt, lt, fit_x=x, fit_label=lab)
    assert flow < gauss - 0.2, (flow, gauss)
    assert h.values['nll'][-1] < h.values['nll'][0]


def test_gaussian_nll_closed_form():
    x = torch.randn(50000, 3) * torch.tensor([1., 2., 0.5])
    ref = 1.5 * (1 + math.log(2 * math.pi)) + math.log(1 * 2 * 0.5)
    assert abs(gaussian_nll(x) - ref) < 0.03
    with pytest.raises(CINNError, match='label 1 has 1 fitting points'): gaussian_nll(x[:3], torch.tensor([0, 0, 1]))


def test_checkpoint_round_trip(tmp_path):
    f = _flow(6, 2, dtype=torch.float32)
    p = save_cinn(f, tmp_path / 'm.safetensors')
    g = load_cinn(p, 'cpu')
    z, c = torch.randn(5, 6), torch.randn(5, 2)
    assert torch.equal(g(z, c)[0], f(z, c)[0]) and torch.equal(g.reverse(z, c), f.reverse(z, c))
    assert all(bool(a.initialized) for a in g.norms)
    d = load_cinn(save_cinn(_flow(4, 1), tmp_path / 'd'), 'cpu')
    assert d.norms[0].bias.dtype == torch.float64
    with pytest.raises(CheckpointError, match='nope.safetensors: checkpoint file not found'): load_cinn(tmp_path / 'nope.safetensors', 'cpu')
    meta = json.loads((tmp_path / 'm.json').read_text()); meta.pop('cinn'); (tmp_path / 'm.json').write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="m.safetensors: not a ConditionalINN checkpoint"): load_cinn(p, 'cpu')


def test_train_checkpoint_and_resume(tmp_path):
    torch.manual_seed(0)
    z, c = torch.randn(128, 4) * 2 + 1, torch.eye(2)[torch.randint(0, 2, (128,))]
    kw = dict(lr=1e-2, batch_size=32, device='cpu', show_progress=False)
    torch.manual_seed(1)
    full = ConditionalINN(4, 2, n_blocks=2, hidden=8)
    h_full = train_cinn(full, z, c, 20, **kw)
    torch.manual_seed(1)
    part = ConditionalINN(4, 2, n_blocks=2, hidden=8)
    train_cinn(part, z, c, 10, out_dir=tmp_path, **kw)
    meta = json.loads((tmp_path / 'cinn.json').read_text())
    assert meta['step'] == 10 and meta['cinn'] == part.config
    torch.manual_seed(5)
    resumed = ConditionalINN(4, 2, n_blocks=2, hidden=8)
    h = train_cinn(resumed, z, c, 20, out_dir=tmp_path, resume=True, **kw)
    assert h.steps['nll'][0] == 0 and h.steps['nll'][-1] == 19
    assert torch.allclose(torch.tensor(h.values['nll']), torch.tensor(h_full.values['nll']), atol=1e-5)
    assert torch.allclose(resumed(z, c)[0], full(z, c)[0], atol=1e-5)
    again = ConditionalINN(4, 2, n_blocks=2, hidden=8)   # finished: loaded, not retrained
    train_cinn(again, z, c, 20, out_dir=tmp_path, **kw)
    assert torch.equal(again(z, c)[0], resumed(z, c)[0])
    with pytest.raises(CheckpointError, match='another configuration of cinn'):
        train_cinn(ConditionalINN(4, 2, n_blocks=3, hidden=8), z, c, 20, out_dir=tmp_path, **kw)
    with pytest.raises(CINNError, match=r'cond must have shape \(128, 2\)'):
        train_cinn(ConditionalINN(4, 2, n_blocks=2, hidden=8), z, c[:, :1], 5, **kw)
    with pytest.raises(CINNError, match='became nan'):
        train_cinn(ConditionalINN(4, 2, n_blocks=2, hidden=8), z * float('nan'), c, 5, **kw)


def test_config_presets():
    assert CINNConfig().n_blocks == 20 and CINNConfig().lr == 1e-5
    ci = CINNConfig.from_preset('ci')
    m = make_cinn(ci, 8, 3)
    assert len(m.norms) == ci.n_blocks and m.config['hidden'] == ci.hidden


def test_coupling_matches_freia_glow_block():
    "Independent check: FrEIA's GLOWCouplingBlock (halves swapped, same sub-networks, tanh(u/k) clamp) gives the same output and log-det."
    Fm = pytest.importorskip('FrEIA.modules')
    import copy
    torch.manual_seed(2)
    k = 2.0
    ours = AffineCoupling(6, 2, hidden=8, clamp=k).double()
    with torch.no_grad():
        for p in ours.parameters(): p.add_(0.5 * torch.randn_like(p))
    theirs = Fm.GLOWCouplingBlock([(6,)], dims_c=[(2,)], subnet_constructor=lambda i, o: torch.nn.Linear(i, o), clamp=k,
                                  clamp_activation=lambda u: torch.tanh(u / k)).double()
    # FrEIA first moves its first half from subnet2 on its second half; with the halves swapped that is our x2 from
    # x1, i.e. our net2; then its second half (our x1) from subnet1 on the new first half: our net1.
    theirs.subnet1, theirs.subnet2 = copy.deepcopy(ours.net1), copy.deepcopy(ours.net2)
    x, c = torch.randn(5, 6, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    swap = lambda v: torch.cat([v[:, 3:], v[:, :3]], 1)
    (y_theirs,), j_theirs = theirs([swap(x)], c=[c])
    y_ours, j_ours = ours(x, c)
    assert torch.allclose(swap(y_theirs), y_ours, atol=1e-10)
    assert torch.allclose(j_theirs, j_ours, atol=1e-10)
    (x_back,), j_rev = theirs([swap(y_ours)], c=[c], rev=True)
    assert torch.allclose(swap(x_back), x, atol=1e-10) and torch.allclose(j_rev, -j_ours, atol=1e-10)


def test_sample_errors():
    f = _flow(4, 2, dtype=torch.float32)
    with pytest.raises(CINNError, match=r'cond of shape \(n, 2\)'): f.sample(n=3)
    with pytest.raises(CINNError, match='unconditional'): _flow(4, 0, dtype=torch.float32)(torch.randn(3, 4), [1, 2])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_float32_and_float64(tmp_path):
    for dtype in (torch.float32, torch.float64):
        f = _flow(7, 3, dtype=dtype).cuda()
        z, c = torch.randn(16, 7, device='cuda', dtype=dtype), torch.randn(16, 3, device='cuda', dtype=dtype)
        nu, ld = f(z, c)
        assert nu.device.type == 'cuda' and ld.shape == (16,)
        assert (f.reverse(nu, c) - z).abs().max() < (1e-4 if dtype == torch.float32 else 1e-9)
        assert f.sample(c[0], n=4, generator=torch.Generator().manual_seed(0)).device.type == 'cuda'
    m = ConditionalINN(4, 2, n_blocks=2, hidden=8)
    train_cinn(m, torch.randn(64, 4), torch.randn(64, 2), 5, lr=1e-3, out_dir=tmp_path, device='cuda', show_progress=False)
    assert load_cinn(tmp_path / 'cinn.safetensors', 'cuda').perms.device.type == 'cuda'


def test_train_final_checkpoint_written_once_with_wall_time(tmp_path, monkeypatch):
    # train_run writes every checkpoint
    import singan_gif_lib.core as cm
    steps = []
    real_save = cm.save_checkpoint
    monkeypatch.setattr(cm, 'save_checkpoint', lambda path, tensors, meta: (steps.append(meta['step']), real_save(path, tensors, meta))[1])
    torch.manual_seed(0)
    z, c = torch.randn(64, 4), torch.eye(2)[torch.randint(0, 2, (64,))]
    train_cinn(ConditionalINN(4, 2, n_blocks=2, hidden=8), z, c, 5, out_dir=tmp_path, checkpoint_every=2,
               lr=1e-3, batch_size=16, device='cpu', show_progress=False)
    assert steps == [2, 4, 5]
    meta = json.loads((tmp_path / 'cinn.json').read_text())
    assert meta['history']['steps']['seconds'] == [5] and meta['history']['values']['seconds'][0] > 0
