"""Tests of singan_gif_lib.mocogan_hd on a tiny stand-in image generator (no shipped weights needed)."""
import math

import pytest
import torch

from singan_gif_lib.core import SinganGifError, CheckpointError, ConfigError
from singan_gif_lib.mocogan_hd import (MoCoGANHDError, ToyImageGenerator, ImageGenerator, fit_pca, check_basis,
                                       MotionGenerator, interpolate_codes, MutualInfoHead, mutual_info_loss,
                                       VideoPatchDiscriminator, ImageDiscriminator, info_nce, FeatureQueue,
                                       MomentumEncoder, feature_matching_loss, augment, MoCoGANHDConfig, render,
                                       sample_w, sky_clips, train_motion_generator, load_mocogan_hd, generate_videos, predict_videos,
                                       invert_image, generator_fingerprint)

D = 16


@pytest.fixture(scope='module')
def G():
    torch.manual_seed(0)
    return ToyImageGenerator(z_dim=12, w_dim=D, size=16, width=16).eval().requires_grad_(False)


@pytest.fixture(scope='module')
def pca(G):
    return fit_pca(lambda n: sample_w(G, n), n=1000, k=6)


@pytest.fixture
def M(pca):
    torch.manual_seed(1)
    return MotionGenerator(D, pca.basis, pca.std, hidden_dim=24)


def test_protocol(G):
    assert isinstance(G, ImageGenerator)


def test_fit_pca_recovers_axes():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 3, generator=g) * torch.tensor([0.1, 2.0, 1.0])
    p = fit_pca(x, k=2)
    assert torch.allclose(p.basis @ p.basis.T, torch.eye(2), atol=1e-5)
    assert p.basis[0, 1].abs() > 0.99 and p.basis[1, 2].abs() > 0.99
    assert torch.allclose(p.std, torch.tensor([2.0, 1.0]), atol=0.1)
    assert p.ratio.sum() < 1 and p.ratio[0] > p.ratio[1]


def test_residuals_in_span_of_basis(M, pca, G):
    z1 = sample_w(G, 3, torch.Generator().manual_seed(0))
    with torch.no_grad(): codes = M(z1, 9, generator=torch.Generator().manual_seed(2))
    r = codes[:, 1:] - codes[:, :-1]                                    # (B, 8, d)
    assert r.abs().max() > 1e-4                                        # it does move
    proj = (r @ pca.basis.T) @ pca.basis
    assert (r - proj).abs().max() < 1e-5                               # projection residual ~ 0
    # and a direction orthogonal to the basis gets nothing
    v = torch.randn(D, generator=torch.Generator().manual_seed(3))
    v = v - (v @ pca.basis.T) @ pca.basis
    assert (r @ (v / v.norm())).abs().max() < 1e-5
    assert ((r @ pca.basis.T).abs() <= M.step * pca.std + 1e-6).all()   # |step along u_j| <= lambda sigma_j


def test_first_code_and_determinism(M, G):
    z1 = sample_w(G, 2, torch.Generator().manual_seed(0))
    eps = M.sample_noise(2, 6, torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = M(z1, 6, eps), M(z1, 6, eps.clone())
        c = M(z1, 6, M.sample_noise(2, 6, torch.Generator().manual_seed(7)))
    assert a.shape == (2, 6, D)
    assert torch.equal(a[:, 0], z1)
    assert torch.equal(a, b)
    assert (a - c)[:, 1:].abs().max() > 1e-4
    with torch.no_grad(): long = M(z1, 12, torch.cat([eps, M.sample_noise(2, 7, torch.Generator().manual_seed(3))], 1))
    assert torch.allclose(long[:, :6], a, atol=1e-6)                   # unrolling extends the same trajectory


def test_no_residual_ablation(pca, G):
    M0 = MotionGenerator(D, pca.basis, pca.std, hidden_dim=8, use_residual=False)
    z1 = sample_w(G, 2)
    with torch.no_grad(): c = M0(z1, 4)
    assert torch.equal(c[:, 0], z1) and c.shape == (2, 4, D)
    assert M0.out.out_features == D


def test_mutual_info_gradient_reaches_lstm(M, G):
    H = MutualInfoHead(24, D)
    codes, h, eps = M(sample_w(G, 2), 5, return_hidden=True)
    assert h.shape == (2, 4, 24) and eps.shape == (2, 4, D)
    M.zero_grad()
    loss = mutual_info_loss(H, h, eps)
    assert -1 <= loss.item() <= 1
    loss.backward()
    for p in (M.decoder.weight_ih, M.decoder.weight_hh, M.encoder.weight_ih):
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert mutual_info_loss(lambda x: x, eps, eps).item() == pytest.approx(-1.0, abs=1e-6)


def test_info_nce_two_pairs():
    e = torch.eye(2)
    assert info_nce(e, e, temperature=1.0).item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    assert info_nce(e, e, temperature=0.07).item() == pytest.approx(math.log(1 + math.exp(-1 / 0.07)), abs=1e-6)
    # swapped keys: the positive has cosine 0, the negative cosine 1
    assert info_nce(e, e.flip(0), temperature=1.0).item() == pytest.approx(math.log(1 + math.exp(1)), abs=1e-6)
    queue = torch.tensor([[-1.0, 0.0]])
    want = (math.log(1 + math.exp(-1) + math.exp(-2)) + math.log(1 + 2 * math.exp(-1))) / 2
    assert info_nce(e, e, queue, temperature=1.0).item() == pytest.approx(want, abs=1e-6)


def test_queue_keeps_size_drops_oldest():
    q = FeatureQueue(3, 5, torch.Generator().manual_seed(0))
    init = q.keys.clone()
    a, b = torch.full((2, 3), 1.0), torch.full((4, 3), 2.0)
    q.push(a)
    assert q.keys.shape == (5, 3) and torch.equal(q.keys[:2], a) and torch.equal(q.keys[2:], init[:3])
    q.push(b)
    assert q.keys.shape == (5, 3) and torch.equal(q.keys[:4], b) and torch.equal(q.keys[4], a[0])
    q.push(torch.zeros(7, 3))                                          # more than the size: keeps 5
    assert q.keys.shape == (5, 3) and q.keys.abs().sum() == 0
    with pytest.raises(MoCoGANHDError, match=r'\(B, 3\)'): q.push(torch.zeros(2, 4))


def test_momentum_encoder():
    Di = ImageDiscriminator(width=4, n_layers=2, proj_dim=8)
    me = MomentumEncoder(Di, 0.5)
    with torch.no_grad(): Di.last.weight.add_(1.0)
    before = me.module.last.weight.clone()
    me.update(Di)
    assert torch.allclose(me.module.last.weight, 0.5 * before + 0.5 * Di.last.weight)
    assert not any(p.requires_grad for p in me.module.parameters())


def test_interpolation():
    codes = torch.randn(2, 5, 3)
    out = interpolate_codes(codes)
    assert out.shape == (2, 9, 3)
    assert torch.equal(out[:, ::2], codes)
    assert torch.allclose(out[:, 1], (codes[:, 0] + codes[:, 1]) / 2)
    with pytest.raises(MoCoGANHDError, match='factor'): interpolate_codes(codes, 0)


@pytest.mark.parametrize('shape', [(2, 3, 5, 15, 17), (1, 3, 3, 9, 11), (2, 3, 8, 16, 16)])
def test_discriminator_shapes_odd_sizes(shape):
    torch.manual_seed(0)
    Dv = VideoPatchDiscriminator(width=4)
    assert Dv(torch.randn(shape)).shape == (shape[0], 2)
    Di = ImageDiscriminator(width=4, proj_dim=8)
    frames = torch.randn(shape[0], 3, *shape[3:])
    assert Di(frames).shape == (shape[0], 1)
    assert Di.embed(frames).shape == (shape[0], 8)
    assert augment(frames, torch.Generator().manual_seed(0)).shape == frames.shape


def test_video_d_conditions_on_first_frame():
    torch.manual_seed(0)
    Dv = VideoPatchDiscriminator(width=4)
    v = torch.randn(1, 3, 4, 16, 16)
    w = v.clone(); w[:, :, 0] += 1                                      # change only the first frame
    # the first frame is an input to every time step: the scores change even far from t = 0
    assert not torch.allclose(Dv(v), Dv(w))


def test_feature_matching():
    assert feature_matching_loss(torch.ones(2, 4), torch.ones(2, 3, 4)).item() == pytest.approx(0, abs=1e-6)
    assert feature_matching_loss(torch.tensor([[1.0, 0]]), -torch.tensor([[[1.0, 0]]])).item() == pytest.approx(2, abs=1e-6)


def test_bad_basis_and_dims(pca):
    with pytest.raises(MoCoGANHDError, match='not orthonormal') as e:
        MotionGenerator(D, torch.randn(4, D), torch.ones(4))
    assert isinstance(e.value, SinganGifError)
    with pytest.raises(MoCoGANHDError, match='latent_dim is 10'): MotionGenerator(10, pca.basis, pca.std)
    with pytest.raises(MoCoGANHDError, match=r'std \(pca_std\) must have shape \(6,\)'): MotionGenerator(D, pca.basis, torch.ones(5))
    M = MotionGenerator(D, pca.basis, pca.std, hidden_dim=8)
    with pytest.raises(MoCoGANHDError, match=r'z1 must be \(B, 16\)'): M(torch.zeros(2, 5), 3)
    with pytest.raises(MoCoGANHDError, match='eps must be'): M(torch.zeros(2, D), 3, torch.zeros(2, 3, D))
    with pytest.raises(MoCoGANHDError, match='k must be'): fit_pca(torch.randn(10, 3), k=4)


def test_mismatched_image_generator(M):
    G8 = ToyImageGenerator(z_dim=4, w_dim=8, size=8, width=4)
    with pytest.raises(MoCoGANHDError, match='w_dim=8 but'): generate_videos(M, G8, n=1, n_frames=3)
    with pytest.raises(MoCoGANHDError, match='lacks'): render(object(), torch.zeros(1, 2, D))


def test_config_presets():
    assert MoCoGANHDConfig().lambda_contr == 2 and MoCoGANHDConfig().queue_size == 4096
    assert MoCoGANHDConfig.from_preset('small').n_steps > MoCoGANHDConfig.from_preset('ci').n_steps
    with pytest.raises(ConfigError, match='gan_loss'): MoCoGANHDConfig.from_preset('ci', gan_loss='x')
    with pytest.raises(ConfigError, match='unknown preset'): MoCoGANHDConfig.from_preset('huge')


def _tiny(**kw):
    return MoCoGANHDConfig.from_preset('ci', n_steps=2, pca_samples=300, batch_size=2, n_frames=3, n_clips=3,
                                       hidden_dim=8, d_width=4, proj_dim=8, queue_size=8, **{'n_pca': 8, **kw})


@pytest.mark.parametrize('kw', [{}, dict(use_residual=False, use_image_d=False, use_mi=False, gan_loss='hinge', n_pca=D)])   # the 2nd: full-rank basis
def test_checkpoint_round_trip_and_resume(G, tmp_path, kw):
    cfg = _tiny(**kw)
    ds = sky_clips(cfg, 16, n_clips=3)
    M1, h1 = train_motion_generator(cfg, G, tmp_path, show_progress=False, dataset=ds, max_steps=1)
    assert len(h1.values['g_total']) == 1
    M2, h2 = train_motion_generator(cfg, G, tmp_path, resume=True, show_progress=False, dataset=ds)
    assert h2.values['g_total'][0] == h1.values['g_total'][0] and len(h2.values['g_total']) == 2
    M3, cfg3, meta = load_mocogan_hd(tmp_path, 'cpu')
    assert cfg3 == cfg and meta['step'] == 2 and meta['image_generator'] == generator_fingerprint(G)
    z = sample_w(G, 2)
    eps = M2.sample_noise(2, 4, torch.Generator().manual_seed(0))
    with torch.no_grad(): assert torch.equal(M2(z, 4, eps), M3(z, 4, eps))
    # a finished checkpoint is loaded, not retrained
    _, h4 = train_motion_generator(cfg, G, tmp_path, show_progress=False, dataset=ds)
    assert h4.values['g_total'] == h2.values['g_total']
    # another image generator: refused with the file name
    G2 = ToyImageGenerator(z_dim=12, w_dim=D, size=16, width=16)
    path = next(tmp_path.glob('motion-*.safetensors'))
    from singan_gif_lib.mocogan_hd import checkpoint_path
    checkpoint_path(tmp_path, cfg, G2).with_suffix('.json').write_text(path.with_suffix('.json').read_text())
    import shutil; shutil.copy(path, checkpoint_path(tmp_path, cfg, G2))
    with pytest.raises(CheckpointError, match=r"another configuration of motion \(checkpoint vs now: \{'G.hash'"):
        train_motion_generator(cfg, G2, tmp_path, show_progress=False, dataset=ds)


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match='found 0'): load_mocogan_hd(tmp_path)
    with pytest.raises(CheckpointError, match='not found'): load_mocogan_hd(tmp_path / 'motion-x.safetensors')


def test_generate_and_invert(M, G):
    v = generate_videos(M, G, n=2, n_frames=4, generator=torch.Generator().manual_seed(0), interpolate=2)
    assert v.shape == (2, 3, 7, 16, 16) and v.abs().max() <= 1
    z1 = sample_w(G, 1, torch.Generator().manual_seed(0))
    v1 = generate_videos(M, G, w1=z1, n_frames=3)
    assert torch.allclose(v1[:, :, 0], G.synthesis(z1), atol=1e-5)
    target = G.synthesis(sample_w(G, 1, torch.Generator().manual_seed(5)))
    w = invert_image(G, target[0], steps=40, lr=0.1, n_mean=128)
    start = G.synthesis(sample_w(G, 128, torch.Generator().manual_seed(0)).mean(0, keepdim=True))
    assert torch.nn.functional.mse_loss(G.synthesis(w), target) < torch.nn.functional.mse_loss(start, target)
    with pytest.raises(MoCoGANHDError, match=r'must be \(B, 3, 16, 16\)'): invert_image(G, torch.zeros(3, 8, 8))


def test_resumed_run_equals_uninterrupted_run(G, tmp_path):
    "Stopping after 2 steps and resuming to 4 gives the weights of 4 steps in one go (optimisers, key encoder, queue restored)."
    cfg = _tiny().replace(n_steps=4)
    ds = sky_clips(cfg, 16, n_clips=3)
    straight, _ = train_motion_generator(cfg, G, tmp_path / 'a', show_progress=False, dataset=ds)
    train_motion_generator(cfg, G, tmp_path / 'b', show_progress=False, dataset=ds, max_steps=2)
    resumed, _ = train_motion_generator(cfg, G, tmp_path / 'b', resume=True, show_progress=False, dataset=ds)
    for (k, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), k
    (pa,), (pb,) = (tmp_path / 'a').glob('*.safetensors'), (tmp_path / 'b').glob('*.safetensors')
    from singan_gif_lib.core import load_checkpoint
    ta, tb = load_checkpoint(pa)[0], load_checkpoint(pb)[0]
    for k in ta:  # every tensor of the run: discriminators, key encoder, queue, optimiser states
        assert torch.allclose(ta[k].float(), tb[k].float(), atol=1e-5), k


def test_final_checkpoint_written_once_with_wall_time(G, tmp_path, monkeypatch):
    # train_run writes every checkpoint
    import singan_gif_lib.core as mh
    steps = []
    real_save = mh.save_checkpoint
    monkeypatch.setattr(mh, 'save_checkpoint', lambda path, tensors, meta: (steps.append(meta['step']), real_save(path, tensors, meta))[1])
    cfg = _tiny(checkpoint_every=2).replace(n_steps=3)
    train_motion_generator(cfg, G, tmp_path, show_progress=False, dataset=sky_clips(cfg, 16, n_clips=3))
    assert steps == [2, 3]                                   # the periodic one and the final one, each once
    _, _, meta = load_mocogan_hd(tmp_path, 'cpu')
    assert meta['history']['steps']['seconds'] == [3] and meta['history']['values']['seconds'][0] > 0


def test_more_pca_directions_than_w_dim_warns_and_uses_all(G):
    from singan_gif_lib.mocogan_hd import MoCoGANHDRun
    cfg = _tiny(n_pca=32)
    with pytest.warns(UserWarning, match="n_pca=32 > the image generator's w_dim=16: using all 16"):
        run = MoCoGANHDRun(cfg, G)                       # no dataset: the sky clips at G's size, as train_motion_generator
    assert run.M.n_components == 16 and len(run.dataset) == cfg.n_clips


@pytest.mark.parametrize('T,f', [(16, 2), (5, 3), (4, 1)])
def test_prediction_covers_every_frame(M, G, T, f):
    real = torch.rand(2, 3, T, 16, 16) * 2 - 1
    p = predict_videos(M, G, real, interpolate=f, w=sample_w(G, 2, torch.Generator().manual_seed(0)))
    assert p['videos'].shape == (2, 3, T, 16, 16)            # ceil((T-1)/f) + 1 codes interpolate to at least T frames
