"Unit tests of singan_gif_lib.singan_gif at tiny sizes (CPU, seconds)."
import math

import numpy as np
import pytest
import torch
from torch import nn

import singan_gif_lib.singan_gif as sg
from singan_gif_lib.core import CheckpointError, ConfigError, SinganGifError
from singan_gif_lib.singan_gif import (CHECKPOINT, Generator2D, Generator3D, ImageCritic, SepConv3d, SinGANGIF,
                                       SinGANGIFConfig, VideoCritic, check_config, color_stats, color_stats_loss,
                                       frame_rmse, load_singan_gif, neighbour_stack, pyramid_sizes, reconstruction_loss,
                                       super_resolution_config, super_resolve, timer_noise, train_singan_gif)


def clip(T=6, H=30, W=40, seed=0):
    "A smooth moving colour pattern, uint8 (T, H, W, 3)."
    rng = np.random.default_rng(seed)
    t, y, x = np.meshgrid(np.arange(T), np.arange(H), np.arange(W), indexing='ij')
    v = np.stack([np.sin(0.3 * x + 0.5 * t), np.cos(0.25 * y - 0.4 * t), np.sin(0.2 * (x + y))], -1) * 0.4 + 0.5
    return (np.clip(v + rng.normal(0, 0.02, v.shape), 0, 1) * 255).astype(np.uint8)


def tiny_cfg(**kw):
    "4 scales (12x16 .. 30x40 on a 30x40 clip), 2 of them 3D, 2 iterations per scale."
    base = dict(max_size=40, min_size=12, scale_factor=0.5, iters=2, critic_steps=1, gen_steps=1, nfc=4, max_nfc=4,
                n_3d_scales=2, chunk_frames=4, chunk_frames_fine=3, log_every=1)
    return SinGANGIFConfig.from_preset('ci', **{**base, **kw})


def states_equal(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp('run')
    return train_singan_gif(clip(), tiny_cfg(), d, device='cpu', progress=False), d


# --- pyramid -------------------------------------------------------------------------------------------------------
def test_pyramid_reference_case():
    sizes, f = pyramid_sizes(300, 451, 64)
    assert sizes == [(25, 38), (30, 45), (36, 54), (43, 64)]
    assert abs(f - 0.8346) < 1e-4


def test_pyramid_properties():
    for h, w, m in [(37, 53, 53), (100, 60, 256), (256, 256, 256), (480, 640, 128)]:
        sizes, f = pyramid_sizes(h, w, m)
        assert min(sizes[0]) == 25 and max(sizes[-1]) <= m
        assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(sizes, sizes[1:]))
        assert 0.5 < f < 1
    assert pyramid_sizes(300, 451, 451)[0][-1] == (300, 451)      # no downscaling when max_size is large


def test_pyramid_errors():
    with pytest.raises(SinganGifError, match='at least 25 px'): pyramid_sizes(24, 100, 256)
    with pytest.raises(SinganGifError, match='max_size >= 100'): pyramid_sizes(100, 400, 64)
    with pytest.raises(ConfigError, match='scale_factor'): pyramid_sizes(100, 100, 64, scale_factor=1.5)


# --- blocks ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('cin,cout,k', [(3, 32, 3), (32, 32, 3), (64, 128, 5), (9, 16, 1)])
def test_sepconv_parameter_count(cin, cout, k):
    n = sum(p.numel() for p in SepConv3d(cin, cout, k).parameters())
    assert n == cin * cout * k * k + cout + cout * cout * k + cout
    if cin == cout and k > 1: assert n < cin * cout * k ** 3 + cout       # fewer than a full 3D conv


def test_generators_keep_odd_shapes():
    x = torch.randn(2, 3, 7, 37, 53)
    assert Generator3D(4)(torch.randn_like(x), x).shape == x.shape
    assert Generator2D(4)(torch.randn(2, 3, 1, 37, 53), x).shape == x.shape
    assert Generator2D(4, neighbours=False)(torch.randn_like(x), x).shape == x.shape
    assert ImageCritic(4)(x[:, :, 0]).shape == (2, 1, 27, 43)
    assert VideoCritic(4)(x).shape == (2, 1, 7, 27, 43)


def test_shapes_at_every_scale_odd_size():
    cfg = check_config(SinGANGIFConfig.from_preset('ci', nfc=4, max_nfc=4, n_3d_scales=2))
    sizes, f = pyramid_sizes(37, 53, 53)
    m = SinGANGIF(cfg, sizes, 7, f)
    for n in range(len(sizes)):
        m.generators.append(m.make_generator(n).eval()); m.noise_amps.append(0.1)
    assert isinstance(m.generators[1], Generator3D) and isinstance(m.generators[2], Generator2D)
    for n, (h, w) in enumerate(sizes):
        zs = [m.noise(k, 1, 7) for k in range(n + 1)]
        assert m(zs).shape == (1, 3, 7, h, w)
        assert zs[n].shape[2] == (7 if n < 2 else 1)              # one shared noise map at the 2D hybrid scales
    assert m.sample(2, frames=9, height_scale=0.7, width_scale=1.3, seed=0).shape == (2, 3, 9, round(37 * 0.7), round(53 * 1.3))


def test_neighbour_stack_replicates_edges():
    v = torch.arange(5.).view(1, 1, 5, 1, 1)
    assert neighbour_stack(v)[0, :, :, 0, 0].tolist() == [[0, 0, 1, 2, 3], [0, 1, 2, 3, 4], [1, 2, 3, 4, 4]]


def test_hybrid_generator_uses_only_neighbours():
    torch.manual_seed(0)
    g = Generator2D(8).eval()
    for m in g.modules():
        if isinstance(m, nn.Conv2d): nn.init.normal_(m.weight, 0, 0.2)
    x, z = torch.randn(1, 3, 7, 15, 17), torch.randn(1, 3, 1, 15, 17)
    with torch.no_grad():
        y = g(z, x)
        for t in (1, 3, 5):
            for dt, changes in [(-1, True), (1, True), (2, False), (3, False), (-2, False)]:
                if not 0 <= t + dt < 7: continue
                x2 = x.clone(); x2[:, :, t + dt] += 1
                diff = (g(z, x2)[:, :, t] - y[:, :, t]).abs().max().item()
                assert (diff > 1e-2) == changes, (t, dt, diff)


def test_hybrid_noise_is_shared_by_frames():
    g = Generator2D(4).eval()
    x = torch.zeros(1, 3, 5, 12, 12)                            # identical frames + one shared noise map
    with torch.no_grad(): y = g(torch.randn(1, 3, 1, 12, 12), x)
    assert torch.allclose(y[:, :, 0], y[:, :, 4], atol=1e-6)


@pytest.mark.parametrize('make', [lambda c: Generator3D(4, grad_checkpoint=c), lambda c: Generator2D(4, grad_checkpoint=c)])
def test_grad_checkpoint_equivalence(make):
    torch.manual_seed(0)
    a, b = make(False), make(True)
    b.load_state_dict(a.state_dict())
    x, z = torch.randn(1, 3, 5, 13, 15), torch.randn(1, 3, 5, 13, 15)
    la, lb = a(z, x).square().mean(), b(z, x).square().mean()
    la.backward(); lb.backward()
    assert abs(la.item() - lb.item()) < 1e-5
    for p, q in zip(a.parameters(), b.parameters()): assert torch.allclose(p.grad, q.grad, atol=1e-5)
    for k, v in a.state_dict().items(): assert torch.allclose(v.float(), b.state_dict()[k].float(), atol=1e-6), k   # BN stats once


# --- losses --------------------------------------------------------------------------------------------------------------
def test_color_loss_zero_on_identical_and_grows_with_shift():
    x = torch.rand(2, 3, 4, 9, 11) * 2 - 1
    for full in (False, True):
        assert color_stats_loss(x, x, full).item() == 0
        shift = torch.tensor([0.3, -0.1, 0.2]).view(1, 3, 1, 1, 1)
        vals = [color_stats_loss(x + s * shift, x, full).item() for s in (0.1, 0.5, 1.0)]
        assert 0 < vals[0] < vals[1] < vals[2]
        assert abs(vals[2] - 0.6 / 3) < 1e-5                      # mean |shift| over channels, variances unchanged
    mu, cov = color_stats(x, full_cov=True)
    assert cov.shape == (2, 4, 3, 3) and torch.allclose(cov, cov.transpose(-1, -2))
    assert torch.allclose(torch.diagonal(cov, dim1=-2, dim2=-1), color_stats(x)[1], atol=1e-6)
    with pytest.raises(SinganGifError, match='same channels and frames'): color_stats_loss(x[:, :, :2], x)


def test_reconstruction_and_rmse():
    a = torch.zeros(1, 3, 2, 4, 4); b = a.clone(); b[:, :, 1] = 2.0
    assert reconstruction_loss(a, b).item() == pytest.approx(1.0)
    assert frame_rmse(a, b) == pytest.approx(1.0)


def test_timer_noise_path():
    z = timer_noise(3, 9, 20, 20, generator=torch.Generator().manual_seed(0))
    assert z.shape == (3, 3, 9, 20, 20)
    means = z.mean(dim=(0, 1, 3, 4))
    assert means[0] < -0.8 and means[-1] > 0.8 and torch.all(means[1:] > means[:-1])
    assert torch.allclose(z[:, :, 4], (z[:, :, 0] + z[:, :, 8]) / 2, atol=1e-5)


# --- config ----------------------------------------------------------------------------------------------------------------
def test_config_defaults_and_errors():
    c = SinGANGIFConfig()
    assert (c.alpha, c.beta, c.gamma, c.gp_weight, c.lr, c.iters, c.n_3d_scales, c.min_size) == (5, 50, 2, 0.1, 5e-4, 8000, 4, 25)
    for p in SinGANGIFConfig.PRESETS: check_config(SinGANGIFConfig.from_preset(p))
    with pytest.raises(ConfigError, match="unknown mode"): check_config(SinGANGIFConfig(mode='gif'))
    with pytest.raises(ConfigError, match='iters must be >= 1'): check_config(SinGANGIFConfig(iters=0))
    with pytest.raises(ConfigError, match='slomo_factor'): check_config(SinGANGIFConfig(mode='singan_all_frames', slomo_factor=2))
    sr = super_resolution_config(SinGANGIFConfig(), factor=4)
    assert sr.beta == 125 and sr.fixed_factor and sr.scale_factor == pytest.approx(4 ** (-1 / 6))
    with pytest.raises(ConfigError): super_resolution_config(SinGANGIFConfig(), factor=1)


# --- training, determinism, checkpoints ---------------------------------------------------------------------------------------
def test_training_result(trained):
    m, d = trained
    assert m.sizes == [(12, 16), (17, 22), (23, 30), (30, 40)] and len(m.generators) == 4
    assert m.noise_amps[0] == 1.0 and all(0 < a < 1 for a in m.noise_amps[1:])
    assert not any(p.requires_grad for p in m.parameters()) and not m.training
    assert [len(h) for h in m.histories] == [2, 2, 2, 2] and 'g_vid' in m.histories[0].keys()
    assert (d / CHECKPOINT).exists() and (d / 'singan_gif.json').exists()
    assert not [p for p in d.iterdir() if p.name.startswith('.')]   # no temporary files left


def test_applications_shapes(trained):
    m, _ = trained
    assert m.sample(2, seed=0).shape == (2, 3, 6, 30, 40)
    assert m.sample(1, frames=24, seed=0).shape == (1, 3, 24, 30, 40)   # lengthening (Sec. 5.3)
    assert torch.equal(m.sample(seed=3), m.sample(seed=3)) and not torch.equal(m.sample(seed=3), m.sample(seed=4))
    assert m.reconstruct().shape == (1, 3, 6, 30, 40) and torch.equal(m.reconstruct(), m.reconstruct())
    assert m.edit(clip(), start_scale=2, passes=2, seed=0).shape == (1, 3, 6, 30, 40)
    mask = torch.zeros(1, 1, 1, 30, 40)
    assert torch.allclose(m.edit(clip(), start_scale=2, mask=mask), sg.resize_video(sg.to_tensor(clip()), (6, 30, 40)))
    assert m.animate(clip()[0], n_frames=5, seed=0).shape == (1, 3, 5, 30, 40)
    assert super_resolve(m, factor=2).shape == (1, 3, 6, 60, 80)
    with pytest.raises(SinganGifError, match='start_scale'): m.edit(clip(), start_scale=4)
    with pytest.raises(SinganGifError, match='uint8 image'): m.animate(np.zeros((4, 4)), 3)


def test_same_seed_same_result_and_other_seed_differs(trained, tmp_path):
    m, _ = trained
    again = train_singan_gif(clip(), tiny_cfg(), tmp_path / 'a', device='cpu', progress=False)
    assert states_equal(m, again) and m.noise_amps == again.noise_amps
    other = train_singan_gif(clip(), tiny_cfg(seed=1), tmp_path / 'b', device='cpu', progress=False)
    assert not torch.equal(m.generators[0].head[0].spatial.weight, other.generators[0].head[0].spatial.weight)


def test_resume_after_interrupt_gives_same_weights(trained, tmp_path, monkeypatch):
    full, _ = trained
    real_train_scale = sg.train_scale
    def interrupted(model, n, *a, **k):
        if n == 2: raise KeyboardInterrupt
        return real_train_scale(model, n, *a, **k)
    monkeypatch.setattr(sg, 'train_scale', interrupted)
    with pytest.raises(KeyboardInterrupt): train_singan_gif(clip(), tiny_cfg(), tmp_path, device='cpu', progress=False)
    monkeypatch.setattr(sg, 'train_scale', real_train_scale)
    with pytest.raises(CheckpointError, match='stopped after 2 of 4 scales'): load_singan_gif(tmp_path)
    assert len(load_singan_gif(tmp_path, allow_partial=True).generators) == 2
    resumed = train_singan_gif(clip(), tiny_cfg(), tmp_path, resume=True, device='cpu', progress=False)
    assert states_equal(full, resumed) and full.noise_amps == resumed.noise_amps
    assert len(resumed.histories) == 4


def test_resume_with_other_config_or_clip_fails(trained, tmp_path):
    _, d = trained
    with pytest.raises(CheckpointError, match='another config'):
        train_singan_gif(clip(), tiny_cfg(iters=3), d, resume=True, progress=False)
    with pytest.raises(CheckpointError, match='another clip'):
        train_singan_gif(clip(seed=5), tiny_cfg(), d, resume=True, progress=False)


def test_checkpoint_round_trip(trained):
    m, d = trained
    l = load_singan_gif(d)
    assert states_equal(m, l) and l.noise_amps == m.noise_amps and l.sizes == m.sizes and l.cfg == m.cfg
    assert torch.equal(l.sample(seed=7), m.sample(seed=7))
    assert [h.to_dict() for h in l.histories] == [h.to_dict() for h in m.histories]


def test_bad_checkpoints(trained, tmp_path):
    _, d = trained
    with pytest.raises(CheckpointError, match='not found'): load_singan_gif(tmp_path)
    (tmp_path / CHECKPOINT).write_bytes((d / CHECKPOINT).read_bytes()[:-100])          # torn
    (tmp_path / 'singan_gif.json').write_text((d / 'singan_gif.json').read_text())
    with pytest.raises(CheckpointError, match=CHECKPOINT): load_singan_gif(tmp_path)
    (tmp_path / CHECKPOINT).write_bytes((d / CHECKPOINT).read_bytes())
    meta = (d / 'singan_gif.json').read_text().replace('"n_frames": 6', '"n_frames": 5')  # mismatched tensors
    (tmp_path / 'singan_gif.json').write_text(meta)
    with pytest.raises(CheckpointError, match='do not fit'): load_singan_gif(tmp_path)
    (tmp_path / 'singan_gif.json').write_text('{"kind": "singan_gif", "_tensors": {"bytes": 1}}')
    with pytest.raises(CheckpointError, match='singan_gif'): load_singan_gif(tmp_path)


def test_input_errors(tmp_path):
    with pytest.raises(SinganGifError, match='at least 12 px'):
        train_singan_gif(np.zeros((3, 10, 40, 3), np.uint8), tiny_cfg(), tmp_path, progress=False)
    with pytest.raises(SinganGifError, match='uint8 frames'):
        train_singan_gif(np.zeros((3, 30, 40, 3), np.float32), tiny_cfg(), tmp_path, progress=False)
    with pytest.raises(SinganGifError):
        train_singan_gif(tmp_path / 'missing.gif', tiny_cfg(), tmp_path, progress=False)
    assert not (tmp_path / CHECKPOINT).exists()


def test_reads_a_gif_file(tmp_path):
    from singan_gif_lib.video import write_video
    p = write_video(tmp_path / 'c.gif', clip(T=4), fps=8)
    m = train_singan_gif(p, tiny_cfg(max_frames=3, scale_factor=0.75, min_size=25), tmp_path / 'run', device='cpu', progress=False)
    assert m.n_frames == 3 and m.fps == pytest.approx(8, rel=0.1) and len(m.generators) == m.n_scales >= 2


def test_modes_slomo_baseline_chunks_amp(tmp_path):
    one = dict(min_size=25, scale_factor=0.75, max_size=40, iters=1)
    slo = train_singan_gif(clip(T=4), tiny_cfg(slomo_factor=2, **one), tmp_path / 's', device='cpu', progress=False)
    assert slo.sample(seed=0).shape[2] == 8 and slo.z_star[0, :, 0].mean() < slo.z_star[0, :, -1].mean()
    base = train_singan_gif(clip(T=4), tiny_cfg(mode='singan_all_frames', **one), tmp_path / 'b', device='cpu', progress=False)
    assert all(isinstance(g, Generator2D) and not g.neighbours for g in base.generators)
    assert 'g_vid' in base.histories[0].keys() and base.histories[0].last('g_vid') == 0
    long = train_singan_gif(clip(T=9), tiny_cfg(chunk_frames=3, chunk_frames_fine=2, **{**one, 'iters': 2}),
                            tmp_path / 'l', device='cpu', progress=False)
    assert long.z_star.shape[2] == 9 and long.reconstruct().shape == (1, 3, 9, 30, 40)
    amp = train_singan_gif(clip(T=4), tiny_cfg(amp=True, grad_checkpoint=True, **one), tmp_path / 'a', device='cpu', progress=False)
    assert torch.isfinite(amp.sample(seed=0)).all()


# --- the seven training defects of the first CPU runs (each test fails on the code before its fix) -----------------------
def _pyramid(cfg, frames=None):
    "An untrained SinGANGIF holding the real pyramid of `frames` (default: the test clip)."
    return sg.untrained_model(clip() if frames is None else frames, cfg, 'cpu')


def test_every_scale_starts_from_its_upsampled_input():
    "1. A new scale, copied from the previous one or fresh, adds a zero residual at step 0 (no clip added twice)."
    m = _pyramid(tiny_cfg(iters=3))
    for n in range(m.n_scales):
        run = sg.ScaleRun(m, n)
        prev = torch.rand(2, 3, 4, *m.sizes[n]) * 2 - 1
        z = run.amp * m.noise(n, 2, 4)
        assert (run.G(z, prev) - prev).abs().max() < 0.05, f"scale {n}"
        for i in range(3): run.step(i)
        run.end_scale()
    assert m.cfg.copy_weights                                                 # scales 1 and 3 were copies


def test_singan_pixel_penalty_is_the_default():
    "2. The critics are penalised with SinGAN's per-pixel gradient penalty."
    from singan_gif_lib.losses import pixel_gradient_penalty, wgan_gp_penalty
    m = _pyramid(tiny_cfg())
    assert SinGANGIFConfig().gp_form == 'pixel' and sg.ScaleRun(m, 0).penalty is pixel_gradient_penalty
    m2 = _pyramid(tiny_cfg(gp_form='sample'))
    assert sg.ScaleRun(m2, 0).penalty is wgan_gp_penalty
    with pytest.raises(ConfigError, match='gp_form'): check_config(tiny_cfg(gp_form='norm'))


def test_eval_mode_matches_training_statistics_on_a_clip_longer_than_the_chunk():
    "3. After a scale, eval-mode (running statistics) and train-mode-by-chunks reconstructions agree within 10 %."
    cfg = tiny_cfg(iters=40, nfc=8, max_nfc=8, n_3d_scales=1, chunk_frames=3, chunk_frames_fine=3, min_size=16, scale_factor=0.6)
    m = _pyramid(cfg, clip(T=9))
    for n in range(m.n_scales):
        run = sg.ScaleRun(m, n)
        for i in range(cfg.iters): run.step(i)
        run.end_scale()
        real, t = m.reals[n], run.chunk
        z = m.z_star * run.amp if n == 0 else None
        with torch.no_grad():
            ev = reconstruction_loss(m.reconstruct(n + 1), real).item()
            trn = reconstruction_loss(train_mode_reconstruction(run, z), real).item()
        assert abs(ev - trn) <= 0.1 * trn, f'scale {n}: eval {ev:.4f} vs train-mode by chunks {trn:.4f}'


def train_mode_reconstruction(run, z):
    "The reconstruction chunk by chunk with G_n in train mode (batch statistics of each joint batch, as in training)."
    m, n, G, t, T = run.model, run.n, run.G, run.chunk, run.model.n_frames
    bns = sg._bn_layers(G)
    for b in bns: b.momentum = 0.0                                        # leave the running statistics alone
    G.train()
    try:
        fake_up = run.fake_input(T)
        return torch.cat([run.joint_forward(run.amp * m.noise(n, 1, t), fake_up[:, :, a:a + t], None if z is None else z[:, :, a:a + t],
                                            run.rec_up[:, :, a:a + t])[1] for a in range(0, T, t)], 2)
    finally:
        for b in bns: b.momentum = 0.1
        G.eval()


def test_samples_differ_from_the_reconstruction(trained):
    "4. z* comes from its own stream: no seed's sample is the reconstruction."
    m, _ = trained
    rec = m.reconstruct()
    samples = m.sample(6, seed=0)
    pair = (samples[0] - samples[1]).abs().mean().item()
    for s in range(6):
        assert (m.sample(seed=s) - rec).abs().mean().item() > 0.3 * pair, f'seed {s}'
    assert not torch.equal(m.z_star, torch.randn(m.z_star.shape, generator=torch.Generator().manual_seed(m.cfg.seed)))


def test_a_diverging_scale_is_reported():
    "7. A scale whose reconstruction ends worse than its upsampled input warns instead of carrying on silently."
    m = _pyramid(tiny_cfg())
    sg.ScaleRun(m, 0).end_scale()
    run = sg.ScaleRun(m, 1)
    with torch.no_grad(): run.G.tail[0].temporal.bias.fill_(3.0)               # a residual that saturates every pixel
    with pytest.warns(UserWarning, match=r'scale 2/4 .* diverged'): out = run.end_scale()
    assert out['rec_end'] > out['rec_start']


def test_replicate_time_padding_keeps_a_still_clip_still():
    "5. With zero padding in time the end frames of a still clip come out different (an edge effect); replicate removes it."
    torch.manual_seed(0)
    g_rep = Generator3D(8, time_padding='replicate').eval()
    for p in g_rep.parameters(): p.data.normal_(0, 0.3)                     # a residual large enough to see
    g_zero = Generator3D(8).eval(); g_zero.load_state_dict(g_rep.state_dict())
    still = (torch.rand(1, 3, 1, 12, 14) * 2 - 1).expand(1, 3, 7, 12, 14)
    out_rep, out_zero = g_rep(0.0, still), g_zero(0.0, still)
    assert (out_rep - out_rep[:, :, 3:4]).abs().max() < 1e-5
    assert (out_zero[:, :, 0] - out_zero[:, :, 3]).abs().max() > 1e-2
    with pytest.raises(ConfigError, match='time_padding'): check_config(tiny_cfg(time_padding='reflect'))


def test_time_correlated_noise_statistics():
    "Option noise_time_corr: every frame N(0, 1), consecutive frames correlated by rho; 0 is the paper's i.i.d. noise."
    z = sg.time_correlated_noise((3000, 1, 5, 1, 1), 0.9, generator=torch.Generator().manual_seed(0))[:, 0, :, 0, 0]
    assert torch.allclose(z.std(0), torch.ones(5), atol=0.06)
    assert abs(torch.corrcoef(z.T)[1, 2].item() - 0.9) < 0.02
    m = _pyramid(tiny_cfg(noise_time_corr=0.9))
    n = m.noise(0, 2, 6); assert n.shape == (2, 3, 6, *m.sizes[0])
    assert m.noise(3, 2, 6).shape[2] == 1                                     # 2D hybrid scales: one map for all frames
