"Unit tests of singan_gif_lib.ivgan: shapes, variants, determinism, checkpoints and resume (tiny sizes)."
import json, math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ivgan_toys import Toy, tiny
from singan_gif_lib.core import CheckpointError, ConfigError, SinganGifError
from singan_gif_lib.ivgan import (VARIANTS, Critic, Generator, IVGANConfig, IVGANError, IVGANRun, VideoLayerNorm,
                                  build_critic, check_dataset, checkpoint_path, critic_loss, init_distributed, main,
                                  make_dataset, train_ivgan, video_distance)
from singan_gif_lib.data import sample_batch


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    "Tiny convolutions: a second OpenMP thread only adds contention (measured 1 s vs 0.01 s per step on a busy 2-core box)."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)




@pytest.mark.parametrize('preset', ['ci', 'small'])
def test_shapes(preset):
    c = IVGANConfig.from_preset(preset)
    G, D = Generator(c), Critic(c)
    with torch.no_grad():
        v = G(torch.randn(2, c.z_dim))
        assert v.shape == (2, 3, c.frames, c.size, c.size)
        assert v.abs().max() <= 1
        assert D(v).shape == (2, 1)


def test_paper_defaults_and_block_count():
    c = IVGANConfig()
    assert (c.size, c.frames, c.width, c.z_dim, c.n_critic, c.gp_lambda, c.batch_size) == (64, 32, 512, 100, 5, 10.0, 64)
    assert (c.lr, c.betas, c.eps_drift) == (1e-4, (0.5, 0.999), 1e-4)
    assert (c.n_up, c.n_time_up) == (4, 4)
    G = Generator(c)
    assert G.project.out_features == 512 * 2 * 4 * 4
    assert len(G.blocks) == 4 and G.blocks[-1][0].out_channels == 3
    assert isinstance(G.blocks[-1][1], nn.Tanh)
    # fewer frames than 2 * 2^k: the later blocks keep T
    c2 = IVGANConfig.from_preset('ci', frames=4)
    with torch.no_grad(): assert Generator(c2)(torch.randn(1, c2.z_dim)).shape == (1, 3, 4, 16, 16)
    assert Critic(c2)(torch.zeros(1, 3, 4, 16, 16)).shape == (1, 1)


def test_critic_ends_in_plain_linear_with_layernorm():
    d = Critic(IVGANConfig.from_preset('ci'))
    assert isinstance(d.out, nn.Linear) and d.out.out_features == 1
    assert sum(isinstance(m, VideoLayerNorm) for m in d.modules()) == d.cfg.n_up - 1
    assert not any(isinstance(m, (nn.BatchNorm3d, nn.Sigmoid, nn.Tanh)) for m in d.modules())


def test_video_layernorm_is_layernorm_over_cthw():
    x = torch.randn(3, 5, 2, 3, 4)
    torch.testing.assert_close(VideoLayerNorm(5)(x), torch.nn.functional.layer_norm(x, x.shape[1:]), atol=1e-5, rtol=1e-5)
    # per-sample: changing sample 1 does not change sample 0
    y = x.clone(); y[1] *= 7
    torch.testing.assert_close(VideoLayerNorm(5)(y)[0], VideoLayerNorm(5)(x)[0])


@pytest.mark.parametrize('bad, msg', [(dict(size=24), '4 * 2^k'), (dict(size=4), '4 * 2^k'),
                                      (dict(frames=64), 'frames/2 <= size/4'), (dict(frames=6), 'frames/2 <= size/4'),
                                      (dict(width=3), 'divisible'), (dict(metric='fid'), "'fvd' or 'swd'"),
                                      (dict(batch_size=0), 'batch_size must be >= 1'), (dict(eval_samples=1), 'eval_samples')])
def test_config_errors(bad, msg):
    with pytest.raises(ConfigError, match=msg.replace('(', r'\(').replace('*', r'\*').replace('^', r'\^')):
        IVGANConfig.from_preset('ci', **bad)


def test_config_unknown_preset_and_type():
    with pytest.raises(ConfigError, match='unknown preset'): IVGANConfig.from_preset('huge')
    with pytest.raises(ConfigError): IVGANConfig.from_preset('ci', size='16')


def test_variants_critics():
    c = IVGANConfig.from_preset('ci')
    for v in VARIANTS:
        d = build_critic(c, v)
        layers = [m for m in d.modules() if isinstance(m, (nn.Conv3d, nn.Linear))]
        sn = [parametrize.is_parametrized(m, 'weight') for m in layers]
        n_ln = sum(isinstance(m, (nn.LayerNorm, nn.GroupNorm)) for m in d.modules())
        if v == 'sn_gp': assert all(sn) and n_ln == 0                   # Sec. 4.4: SN everywhere, LN removed
        elif v == 'sn': assert all(sn) and n_ln == c.n_up - 1          # SN alone keeps LN
        else: assert not any(sn) and n_ln == c.n_up - 1
        assert parametrize.is_parametrized(d.out, 'weight') == (v in ('sn', 'sn_gp'))   # last linear included
    with pytest.raises(IVGANError, match='unknown iVGAN variant'): build_critic(c, 'wgan')


def test_critic_loss_parts():
    c = tiny()
    torch.manual_seed(0)
    real, fake, alpha = torch.rand(4, 3, 4, 8, 8) * 2 - 1, torch.rand(4, 3, 4, 8, 8) * 2 - 1, torch.rand(4)
    out = {}
    for v in VARIANTS:
        torch.manual_seed(1); d = build_critic(c, v)
        p = critic_loss(d, real, fake, v, c, alpha)
        assert all(math.isfinite(float(x.detach())) for x in p.values()), v
        torch.testing.assert_close(p['loss'].detach(), -p['wasserstein'] + p['penalty'] + p['drift'])
        out[v] = p
    assert float(out['sn']['penalty']) == 0 and float(out['gp']['drift']) == 0
    torch.testing.assert_close(out['gp']['penalty'], out['drift']['penalty'])   # same init, same alpha
    # drift = eps * E[D(x)^2] on real scores
    torch.manual_seed(1); d = build_critic(c, 'drift')
    with torch.no_grad(): expect = c.eps_drift * d(real).pow(2).mean()
    torch.testing.assert_close(out['drift']['drift'], expect)
    # the penalty is lambda times the unweighted one: doubling lambda doubles it
    torch.manual_seed(1); d = build_critic(c, 'zero_gp')
    p2 = critic_loss(d, real, fake, 'zero_gp', c.replace(gp_lambda=20.0), alpha)
    torch.testing.assert_close(p2['penalty'], 2 * out['zero_gp']['penalty'])
    assert float(out['one_sided']['penalty']) <= float(out['gp']['penalty'])


@pytest.mark.parametrize('variant', VARIANTS)
def test_each_variant_trains_one_step(variant):
    c = tiny()
    r = IVGANRun(c, variant, Toy(c))
    before = {k: v.clone() for k, v in r.tensors().items() if k.startswith(('G.', 'D.')) and v.is_floating_point()}
    out = r.train_step(0)
    assert set(out) == {'critic_loss', 'wasserstein', 'penalty', 'generator_loss'}
    assert all(math.isfinite(x) for x in out.values())
    after = r.tensors()
    assert not torch.equal(before['G.project.weight'], after['G.project.weight'])
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith('D.'))


def test_same_seed_same_weights_other_seed_differs():
    c = tiny()
    r1, r2, r3 = IVGANRun(c, 'gp', Toy(c)), IVGANRun(c, 'gp', Toy(c)), IVGANRun(c.replace(seed=1), 'gp', Toy(c))
    for i in range(2): r1.step(i); r2.step(i); r3.step(i)
    t1, t2, t3 = r1.tensors(), r2.tensors(), r3.tensors()
    assert t1.keys() == t2.keys()
    for k in t1: assert torch.equal(t1[k], t2[k]), k
    assert not torch.equal(t1['G.project.weight'], t3['G.project.weight'])


def test_dataset_checks():
    c = tiny()
    check_dataset(Toy(c), c)
    with pytest.raises(IVGANError, match=r'this config needs \(3, 4, 8, 8\)'): check_dataset(Toy(c.replace(size=16)), c)
    with pytest.raises(IVGANError, match='is empty'): check_dataset([], c)
    with pytest.raises(IVGANError, match=r'in \[-1, 1\]'): check_dataset([torch.full((3, 4, 8, 8), 2.0)], c)
    with pytest.raises(IVGANError, match='no len'): check_dataset(iter([]), c)
    with pytest.raises(IVGANError, match='unknown dataset'): make_dataset('golf', c)
    b = sample_batch(Toy(c), 5, torch.Generator().manual_seed(0))
    assert b.shape == (5, 3, 4, 8, 8) and b.dtype == torch.float32
    ds = make_dataset('shapes', c, n_clips=3)
    check_dataset(ds, c); assert len(ds) == 3


def test_video_distance():
    a = torch.rand(4, 3, 4, 8, 8) * 2 - 1
    for m in ('fvd', 'swd'):
        assert video_distance(a, a, m) == pytest.approx(0, abs=1e-6)
        assert video_distance(a, 0.2 * a, m) > video_distance(a, 0.9 * a, m) > 0
    with pytest.raises(IVGANError, match='unknown metric'): video_distance(a, a, 'fid')


def test_train_checkpoint_load_and_resume(tmp_path):
    c = tiny()
    G, h = train_ivgan(c, 'zero_gp', Toy(c), tmp_path, show_progress=False)
    path = checkpoint_path(tmp_path, c, 'zero_gp', Toy(c))
    assert path.exists() and path.with_suffix('.json').exists()
    meta = json.loads(path.with_suffix('.json').read_text())
    assert meta['step'] == 4 and meta['variant'] == 'zero_gp' and meta['config'] == c.to_dict()
    assert h.steps['distance'] == [0, 1, 3] and len(h.values['critic_loss']) == 4
    assert math.isfinite(h.last('final_distance')) and h.last('final_distance_std') >= 0
    assert h.last('final_distance') == h.last('final_fvd') and math.isfinite(h.last('final_swd'))   # default metric: FVD
    assert not G.training
    # load-or-train: a finished run is loaded, not retrained (same weights, same history)
    G2, h2 = train_ivgan(c, 'zero_gp', Toy(c), tmp_path, show_progress=False)
    for (k, a), b in zip(G.state_dict().items(), G2.state_dict().values()): assert torch.equal(a, b), k
    assert h2.to_dict() == h.to_dict()
    # another config or variant gets another file
    assert checkpoint_path(tmp_path, c.replace(n_steps=5), 'zero_gp', Toy(c)) != path
    assert checkpoint_path(tmp_path, c, 'gp', Toy(c)) != path

    # interrupted after 2 steps, resumed: equals the uninterrupted run
    d2 = tmp_path / 'resumed'
    train_ivgan(c, 'zero_gp', Toy(c), d2, max_steps=2, show_progress=False)
    assert json.loads(checkpoint_path(d2, c, 'zero_gp', Toy(c)).with_suffix('.json').read_text())['step'] == 2
    G3, h3 = train_ivgan(c, 'zero_gp', Toy(c), d2, resume=True, show_progress=False)
    for (k, a), b in zip(G.state_dict().items(), G3.state_dict().values()): assert torch.equal(a, b), k
    assert h3.values['critic_loss'] == h.values['critic_loss']
    assert h3.last('final_distance') == h.last('final_distance')


def test_unfinished_checkpoint_without_resume_restarts(tmp_path):
    c = tiny()
    train_ivgan(c, 'gp', Toy(c), tmp_path, max_steps=1, show_progress=False)
    with pytest.warns(UserWarning, match=r'stops at step 1 of 4; training starts over and overwrites it \(pass resume=True'):
        _, h = train_ivgan(c, 'gp', Toy(c), tmp_path, show_progress=False)
    assert h.steps['critic_loss'] == [0, 1, 2, 3]


def test_checkpoint_of_other_config_is_refused(tmp_path):
    c = tiny()
    train_ivgan(c, 'gp', Toy(c), tmp_path, max_steps=1, show_progress=False)
    path = checkpoint_path(tmp_path, c, 'gp', Toy(c))
    j = path.with_suffix('.json'); meta = json.loads(j.read_text()); meta['settings']['cfg']['lr'] = 0.5
    j.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match='another configuration'):
        train_ivgan(c, 'gp', Toy(c), tmp_path, resume=True, show_progress=False)
    path.write_bytes(b'garbage')
    with pytest.raises(CheckpointError): train_ivgan(c, 'gp', Toy(c), tmp_path, resume=True, show_progress=False)


def test_errors_are_library_errors(monkeypatch):
    c = tiny()
    with pytest.raises(IVGANError, match='unknown iVGAN variant'): train_ivgan(c, 'nope', Toy(c))
    for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'): monkeypatch.delenv(k, raising=False)
    with pytest.raises(IVGANError, match='torchrun'): init_distributed()
    assert issubclass(IVGANError, SinganGifError)


def test_cli(tmp_path, capsys):
    out = tmp_path / 'runs'
    assert main(['--preset', 'ci', '--variant', 'nope', '--out', str(out)]) == 2
    assert 'unknown iVGAN variant' in capsys.readouterr().err
    assert main(['--preset', 'ci', '--data', 'golf', '--out', str(out)]) == 2
    assert 'unknown dataset' in capsys.readouterr().err
    assert main(['--preset', 'ci', '--variant', 'sn', '--steps', '2', '--n-clips', '8', '--out', str(out)]) == 0
    assert 'sn: final fvd' in capsys.readouterr().out
    assert len(list(out.glob('sn-*.safetensors'))) == 1


def test_checkpoint_name_is_pinned():
    "A cached run is found by its file name: a change of the hashed key would orphan every cached iVGAN run."
    c = IVGANConfig.from_preset('ci')
    assert checkpoint_path('runs', c, 'gp', Toy(c)).name == 'gp-281a004114.safetensors'
    assert checkpoint_path('runs', IVGANConfig.from_preset('small', n_steps=300), 'gp', Toy(c)) == checkpoint_path('runs', IVGANConfig.from_preset('small'), 'gp', Toy(c))
