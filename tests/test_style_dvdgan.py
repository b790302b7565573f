"DVD-GAN with style blocks (the slides' paper) at tiny sizes: the properties the notebook teaches, as tests."
import math

import pytest
import torch
from torch import nn

from singan_gif_lib.core import ConfigError
from singan_gif_lib.layers import ModulatedConv2d
from singan_gif_lib.style_dvdgan import (SpatialCritic, StyleDVDGANConfig, StyleDVDGANError, StyleDVDGenerator, TemporalCritic,
                                         critic_inputs, load_generator, pixels_seen, save_generator, train_style_dvdgan)

CI = StyleDVDGANConfig.from_preset('ci')


def test_demodulation_gives_unit_variance():
    torch.manual_seed(0)
    m = ModulatedConv2d(64, 32, 3, w_dim=8)
    with torch.no_grad(): m.affine.weight.normal_()
    v = m(torch.randn(16, 64, 24, 24), torch.randn(16, 8))[:, :, 1:-1, 1:-1].var(dim=(0, 2, 3))
    assert abs(v.mean().item() - 1) < 0.1 and (v > 0.75).all() and (v < 1.3).all()


@pytest.mark.parametrize('preset', ['ci', 'small', 'paper'])
def test_no_batchnorm_in_the_style_generator(preset):
    G = StyleDVDGenerator(StyleDVDGANConfig.from_preset(preset))
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in G.modules())
    assert any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in StyleDVDGenerator(StyleDVDGANConfig.from_preset(preset, block='cbn')).modules())


def test_paper_generator_has_about_20M_parameters():
    n = sum(p.numel() for p in StyleDVDGenerator(StyleDVDGANConfig.from_preset('paper')).parameters())
    assert 15e6 < n < 25e6, n


def test_output_frame0_and_dependence():
    torch.manual_seed(0); G = StyleDVDGenerator(CI).eval()
    x0, z = torch.rand(2, 3, CI.size, CI.size) * 2 - 1, torch.randn(2, CI.z_dim)
    with torch.no_grad():
        v = G(x0, z)
        assert v.shape == (2, 3, CI.n_frames, CI.size, CI.size) and v.abs().max() <= 1
        assert torch.equal(v[:, :, 0], x0)
        assert (G(x0, torch.randn(2, CI.z_dim)) - v)[:, :, 1:].abs().max() > 1e-4
        assert (G(-x0, z) - v)[:, :, 1:].abs().max() > 1e-4
    with pytest.raises(StyleDVDGANError, match='x0 must be'): G(x0[:, :2], z)
    with pytest.raises(StyleDVDGANError, match='z must be'): G(x0, z[:, :3])


@pytest.mark.parametrize('preset', ['ci', 'small', 'paper'])
def test_pixels_seen_is_what_the_critics_receive(preset):
    cfg = StyleDVDGANConfig.from_preset(preset)
    ds, dt = critic_inputs(torch.zeros(2, 3, cfg.n_frames, cfg.size, cfg.size), cfg)
    assert (ds.numel() + dt.numel()) // (2 * 6) == pixels_seen(cfg.K, cfg.n_frames, cfg.size, cfg.size, cfg.phi, cfg.phi)
    if preset == 'ci':
        assert SpatialCritic(cfg)(ds).shape == (2 * cfg.K,) and TemporalCritic(cfg)(dt).shape == (2,)
    with pytest.raises(StyleDVDGANError, match='must divide'): pixels_seen(2, 4, 15, 16, 2, 2)


def test_config_errors():
    with pytest.raises(ConfigError, match='power of 2'): StyleDVDGANConfig(size=48, grid=4)
    with pytest.raises(ConfigError, match="'style' or 'cbn'"): StyleDVDGANConfig(block='bn')
    with pytest.raises(ConfigError, match="'residual' or 'warp'"): StyleDVDGANConfig(output='flow')
    with pytest.raises(ConfigError, match='lambda_mask must be >= 0'): StyleDVDGANConfig(lambda_mask=-1.0)


@pytest.mark.parametrize('output', ['residual', 'warp'])
def test_train_resume_and_round_trip(tmp_path, output):
    cfg = StyleDVDGANConfig.from_preset('ci', n_steps=6, n_clips=8, output=output, lambda_mask=1.0)
    G_full, h = train_style_dvdgan(cfg, show_progress=False)
    assert all(math.isfinite(h.last(k)) for k in ('w_dist_s', 'w_dist_t', 'generator_loss'))
    assert ('mask_mean' in h.values) == (output == 'warp')                # the warp output logs its mask's mean
    train_style_dvdgan(cfg, out_dir=tmp_path, max_steps=3, show_progress=False)
    G_res, _ = train_style_dvdgan(cfg, out_dir=tmp_path, resume=True, show_progress=False)
    for a, b in zip(G_full.state_dict().values(), G_res.state_dict().values()): assert torch.allclose(a, b, atol=1e-6)
    G2 = load_generator(save_generator(G_full, tmp_path / 'g'))
    x0, z = torch.rand(1, 3, cfg.size, cfg.size) * 2 - 1, torch.randn(1, cfg.z_dim)
    assert torch.allclose(G2(x0, z), G_full(x0, z), atol=1e-6)


def test_cli_train_and_animate(capsys, tmp_path):
    from cli_helpers import one_error_line, run
    from singan_gif_lib.video import read_video, write_video
    import numpy as np
    code, out, err = run(capsys, 'dvdgan-train', '--out', tmp_path / 'm', '--preset', 'ci', '--steps', '2')
    assert code == 0 and (tmp_path / 'm' / 'generator.safetensors').exists(), err
    write_video(tmp_path / 'still.gif', np.full((2, 20, 24, 3), 120, np.uint8), fps=4)
    code, out, err = run(capsys, 'dvdgan-animate', tmp_path / 'still.gif', '--out', tmp_path / 'f.gif', '--model', tmp_path / 'm', '--n', '3')
    assert code == 0, err
    v = read_video(tmp_path / 'f.gif')
    assert v.shape[0] == CI.n_frames and v.shape[2] == 3 * CI.size          # three futures side by side
    code, out, err = run(capsys, 'dvdgan-animate', tmp_path / 'still.gif', '--out', tmp_path / 'g.gif', '--model', tmp_path / 'nope')
    one_error_line(code, err); assert 'nope: no such folder or file' in err and not (tmp_path / 'g.gif').exists()
    (tmp_path / 'bad.png').write_text('not an image')
    code, out, err = run(capsys, 'dvdgan-animate', tmp_path / 'bad.png', '--out', tmp_path / 'g.gif', '--model', tmp_path / 'm')
    one_error_line(code, err); assert 'bad.png' in err and not (tmp_path / 'g.gif').exists()


def test_shipped_model_loads_and_animates():
    from singan_gif_lib.style_dvdgan import load_style_dvdgan
    G = load_style_dvdgan()
    assert G.cfg.preset == 'small' and G.cfg.size == 32 and G.train_info['step'] == G.cfg.n_steps
    x0 = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad(): v = G(x0, torch.randn(2, G.cfg.z_dim, generator=torch.Generator().manual_seed(0)))
    assert v.shape == (2, 3, G.cfg.n_frames, 32, 32) and torch.equal(v[:, :, 0], x0) and torch.isfinite(v).all()


def test_shipped_model_moves_the_clouds_of_held_out_stills():
    "The shipped sky model's futures drift like the real clips (phase correlation of the sky), at about the real sky's motion energy."
    import numpy as np
    from singan_gif_lib.data import phase_correlation
    from singan_gif_lib.metrics import patch_swd
    from singan_gif_lib.style_dvdgan import load_style_dvdgan, make_dataset
    G = load_style_dvdgan()
    test = make_dataset(G.cfg, 'test'); ds = test.dataset
    real = torch.stack([test[i][0] for i in range(8)])                                   # (8, 3, T, S, S)
    rows = [ds.params(i)['sky_rows'] for i in range(8)]
    with torch.no_grad(): fut = G(real[:, :, 0], torch.randn(8, G.cfg.z_dim, generator=torch.Generator().manual_seed(0)))
    shift = lambda v, r: float(np.hypot(*phase_correlation(v[:, 0, :r].mean(0).numpy(), v[:, -1, :r].mean(0).numpy())))
    sky = lambda v: np.mean([(v[i, :, 1:, :r] - v[i, :, :-1, :r]).abs().mean().item() for i, r in enumerate(rows)])
    s_fut, s_real = np.mean([shift(fut[i], r) for i, r in enumerate(rows)]), np.mean([shift(real[i], r) for i, r in enumerate(rows)])
    assert s_fut > 0.5 * s_real, (s_fut, s_real)                                          # the clouds drift (a fading sky: ~0)
    assert 0.5 < sky(fut) / sky(real) < 2.0
    assert patch_swd(real, fut) < 2 * patch_swd(real, real[:, :, :1].expand_as(real))   # no smearing far beyond a still clip's


def test_shipped_model_keeps_the_landscape_still():
    "On held-out sky stills the shipped model's landscape (the dataset's true land pixels) barely moves, and most of it never changes."
    import numpy as np
    from singan_gif_lib.style_dvdgan import load_style_dvdgan, make_dataset
    G = load_style_dvdgan()
    test = make_dataset(G.cfg, 'test'); ds = test.dataset
    real = torch.stack([test[i][0] for i in range(8)])                                   # (8, 3, T, S, S)
    land = torch.from_numpy(np.stack([ds.land_mask(i) for i in range(8)]))              # (8, S, S)
    with torch.no_grad(): fut = G(real[:, :, 0], torch.randn(8, G.cfg.z_dim, generator=torch.Generator().manual_seed(0)))
    motion = lambda v: (v[:, :, 1:] - v[:, :, :-1]).abs().mean((1, 2))                    # (8, S, S)
    assert motion(real)[land].max() == 0                                                 # the real landscape never moves
    assert motion(fut)[land].mean() < 0.05 * motion(real)[~land].mean()                  # critics' mask 0.63, Eq. M3 with one mask update per step 0.13, this one (4) 0.021
    assert ((fut - fut[:, :, :1]).abs().amax((1, 2)) < 0.02)[land].float().mean() > 0.97  # critics' mask 7 %, one mask update 92 %, this one 99.3 %
