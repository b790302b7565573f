"Tests of singan_gif_lib.stylegan: modulated conv maths, shapes, determinism, training checkpoints, shipped weights."
import copy

import pytest
import torch
import torch.nn.functional as F

from singan_gif_lib.core import CheckpointError, ConfigError, SinganGifError
from singan_gif_lib.core import ASSETS
from singan_gif_lib.layers import LayerError
from singan_gif_lib.stylegan import (ModulatedConv2d, MappingNetwork, StyleCritic, StyleGANConfig, StyleGANError,
                                     StyleGenerator, load_stylegan, save_stylegan, sky_frames, train_stylegan)


def tiny_cfg(**kw) -> StyleGANConfig:
    "An 8 px model that trains in a fraction of a second per step."
    d = dict(size=8, channel_base=64, channel_max=16, z_dim=8, w_dim=8, batch_size=4, n_steps=3, n_images=8,
             checkpoint_every=0, r1_every=2)
    return StyleGANConfig.from_preset('ci', **{**d, **kw})


def unit_style(m: ModulatedConv2d) -> ModulatedConv2d:
    with torch.no_grad(): m.affine.weight.zero_(); m.affine.bias.fill_(1.0)
    return m


def test_modconv_unit_style_no_demod_is_plain_conv():
    torch.manual_seed(0)
    m = unit_style(ModulatedConv2d(3, 4, 3, w_dim=5, demodulate=False))
    x, w = torch.randn(2, 3, 6, 6), torch.randn(2, 5)
    with torch.no_grad():
        torch.testing.assert_close(m(x, w), F.conv2d(x, m.weight * m.scale, padding=1), atol=1e-5, rtol=1e-5)
        m.fused = False
        torch.testing.assert_close(m(x, w), F.conv2d(x, m.weight * m.scale, padding=1), atol=1e-5, rtol=1e-5)


def test_modconv_style_scales_input_channels():
    "Eq. 1: a style s on input channel i equals scaling that input channel by s."
    torch.manual_seed(1)
    m = ModulatedConv2d(3, 2, 3, w_dim=4, demodulate=False)
    x, w = torch.randn(1, 3, 5, 5), torch.randn(1, 4)
    with torch.no_grad():
        s = m.affine(w)                                                  # (1, 3)
        torch.testing.assert_close(m(x, w), F.conv2d(x * s[:, :, None, None], m.weight * m.scale, padding=1), atol=1e-5, rtol=1e-5)


def test_demodulated_weight_has_unit_norm_per_output_channel():
    torch.manual_seed(2)
    m = ModulatedConv2d(4, 6, 3, w_dim=5)
    with torch.no_grad():
        wt = m.modulated_weight(m.affine(torch.randn(3, 5)) * 7)          # (3, 6, 4, 3, 3)
    torch.testing.assert_close(wt.pow(2).sum([2, 3, 4]), torch.ones(3, 6), atol=1e-5, rtol=1e-5)
    # and the output does not depend on the overall scale of the style
    x, w = torch.randn(3, 4, 5, 5), torch.randn(3, 5)
    with torch.no_grad():
        a = m(x, w)
        m.affine.weight.mul_(3); m.affine.bias.mul_(3)
        torch.testing.assert_close(m(x, w), a, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('up', [False, True])
def test_modconv_odd_sizes_and_fused_equals_unfused(up):
    torch.manual_seed(3)
    m = ModulatedConv2d(4, 5, 3, w_dim=6, up=up)
    x, w = torch.randn(2, 4, 7, 9), torch.randn(2, 6)
    with torch.no_grad():
        y = m(x, w)
        mu = copy.deepcopy(m); mu.fused = False
        torch.testing.assert_close(mu(x, w), y, atol=1e-4, rtol=1e-4)
    assert y.shape == ((2, 5, 14, 18) if up else (2, 5, 7, 9))


def test_modconv_errors():
    m = ModulatedConv2d(4, 5, 3, w_dim=6)
    with pytest.raises(LayerError, match='w_dim=6'): m(torch.randn(2, 4, 5, 5), torch.randn(2, 3))
    with pytest.raises(LayerError, match='odd'): ModulatedConv2d(4, 5, 4, 6)


def test_mapping_network():
    mp = MappingNetwork(8, 6, 3)
    with torch.no_grad():
        assert mp(torch.randn(5, 8)).shape == (5, 6)
        torch.testing.assert_close(mp(torch.ones(1, 8)), mp(3 * torch.ones(1, 8)))   # pixel norm
    with pytest.raises(StyleGANError, match=r'\(B, 8\)'): mp(torch.randn(2, 4))


@pytest.mark.parametrize('preset,size', [('ci', 32), ('small', 64)])
def test_generator_and_critic_shapes_per_preset(preset, size):
    cfg = StyleGANConfig.from_preset(preset)
    assert cfg.size == size
    G, D = StyleGenerator(cfg), StyleCritic(cfg)
    with torch.no_grad():
        z = torch.randn(2, cfg.z_dim)
        w = G.mapping(z)
        assert w.shape == (2, cfg.w_dim)
        img = G.synthesis(w, noise_mode='none')
        assert img.shape == (2, 3, size, size)
        assert D(img).shape == (2, 1)
        assert G.mean_w(64, torch.Generator().manual_seed(0)).shape == (cfg.w_dim,)


def test_paper_config_is_stylegan2():
    cfg = StyleGANConfig()
    assert (cfg.z_dim, cfg.w_dim, cfg.mapping_layers, cfg.betas, cfg.channels(256)) == (512, 512, 8, (0.0, 0.99), 64)
    with pytest.raises(ConfigError, match='power of 2'): StyleGANConfig.from_preset('ci', size=24)


def test_noise_modes():
    torch.manual_seed(0)
    G = StyleGenerator(tiny_cfg())
    with torch.no_grad():
        for layer in G.layers: layer.noise_strength.fill_(1.0)   # noise matters
        z = torch.randn(2, 8)
        torch.testing.assert_close(G(z, noise_mode='const'), G(z, noise_mode='const'))
        a = G(z, noise_mode='random', generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(a, G(z, noise_mode='random', generator=torch.Generator().manual_seed(1)))
        assert not torch.allclose(a, G(z, noise_mode='random', generator=torch.Generator().manual_seed(2)))
        assert not torch.allclose(G(z, noise_mode='none'), G(z, noise_mode='const'))
    with pytest.raises(StyleGANError, match='noise_mode'): G(z, noise_mode='fixed')


def test_truncation_zero_gives_mean_image():
    G = StyleGenerator(tiny_cfg())
    with torch.no_grad():
        w = G.mapping(torch.randn(3, 8))
        t = G.truncate(w, 0.0)
        torch.testing.assert_close(t, t[:1].expand(3, -1))
        torch.testing.assert_close(G.truncate(w, 1.0), w)


def test_train_resume_and_load_finished(tmp_path):
    cfg = tiny_cfg(n_steps=4, checkpoint_every=2)
    G_full, h_full = train_stylegan(cfg, show_progress=False)                      # no out_dir: in memory
    G_a, h_a = train_stylegan(cfg, out_dir=tmp_path, max_steps=2, show_progress=False)
    assert len(h_a.values['critic_loss']) == 2
    G_b, h_b = train_stylegan(cfg, out_dir=tmp_path, resume=True, show_progress=False)   # resumes at step 2
    assert h_b.steps['critic_loss'] == [0, 1, 2, 3]
    torch.testing.assert_close(G_b.sample(2), G_full.sample(2), atol=1e-5, rtol=1e-4)    # same as uninterrupted
    G_c, _ = train_stylegan(cfg, out_dir=tmp_path, show_progress=False)                  # finished: loaded
    torch.testing.assert_close(G_c.sample(2), G_b.sample(2))
    assert not any(p.requires_grad for p in G_c.parameters())


def test_train_rejects_wrong_dataset():
    with pytest.raises(StyleGANError, match=r'\(3, 8, 8\)'):
        train_stylegan(tiny_cfg(), dataset=sky_frames(4, 16), show_progress=False)
    with pytest.raises(StyleGANError, match='empty'):
        train_stylegan(tiny_cfg(), dataset=[], show_progress=False)


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    G = StyleGenerator(tiny_cfg())
    p = save_stylegan(G, tmp_path / 'g.safetensors', {'history': {'steps': {}, 'values': {}}})
    G2 = load_stylegan(path=p)
    torch.testing.assert_close(G2.sample(3, seed=5), G.sample(3, seed=5))
    assert G2.cfg == G.cfg and not G2.training


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match='missing.safetensors'): load_stylegan(path=tmp_path / 'missing.safetensors')
    with pytest.raises(CheckpointError, match='stylegan_sky48'): load_stylegan(size=48)
    from singan_gif_lib.core import save_checkpoint
    save_checkpoint(tmp_path / 'other.safetensors', {'x': torch.zeros(1)}, {'config': {}})
    with pytest.raises(CheckpointError, match='not a StyleGAN'): load_stylegan(path=tmp_path / 'other.safetensors')
    G = StyleGenerator(tiny_cfg())
    p = save_stylegan(G, tmp_path / 'g.safetensors')
    # weights that do not fit the config in the .json
    import json
    meta = json.loads(p.with_suffix('.json').read_text()); meta['config']['channel_max'] = 8
    p.with_suffix('.json').write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match='do not fit'): load_stylegan(path=p)
    assert issubclass(StyleGANError, SinganGifError)


@pytest.mark.parametrize('size', [32, 64])
def test_shipped_weights(size):
    if not (ASSETS / f'stylegan_sky{size}.safetensors').exists(): pytest.skip(f'stylegan_sky{size} not trained yet')
    G = load_stylegan(size)
    assert G.size == size and not G.training
    x = G.sample(4, seed=0)
    assert x.shape == (4, 3, size, size) and x.abs().max() < 3
    assert x.std(0).mean() > 0.02                            # different z give different images
    assert 'history' in G.train_info and G.train_info['step'] > 0


def test_latent_walk_loops_and_checks_args():
    from singan_gif_lib.stylegan import latent_walk
    torch.manual_seed(0)
    G = StyleGenerator(tiny_cfg()).eval()
    clip = latent_walk(G, n_frames=6, n_keys=3, seed=1)
    assert clip.shape == (3, 6, 8, 8) and clip.abs().max() <= 1
    # the frame after the last one would be the first: the walk visits key k at frame k * T / K
    keys = latent_walk(G, n_frames=3, n_keys=3, seed=1)
    torch.testing.assert_close(keys, clip[:, ::2], atol=1e-4, rtol=1e-4)
    with pytest.raises(StyleGANError, match='n_keys >= 2'): latent_walk(G, n_keys=1)


def test_checkpoint_name_is_pinned():
    "A cached run is found by its file name: a change of the hashed key (config, data name, length, seed) would orphan it."
    from singan_gif_lib.stylegan import checkpoint_path
    class Frames:
        seed = 3
        def __len__(self): return 10
    assert checkpoint_path('runs', StyleGANConfig.from_preset('ci'), Frames()).name == 'stylegan32-9f1a48a43d.safetensors'


def test_shipped_64px_generator_passes_the_image_checks():
    "Sharpness, colour and patch SWD of the shipped 64 px generator against real sky frames, pooled over 4 real and 6 generated sets of 64."
    from singan_gif_lib.stylegan import image_checks_over_draws, sky_frames
    torch.set_num_threads(min(2, torch.get_num_threads()))
    G = load_stylegan(64)
    reals = [sky_frames(64, 64, seed=1001 * (k + 1)).frames for k in range(4)]
    with torch.no_grad(): fakes = [G.sample(64, seed=d) for d in range(6)]
    checks = image_checks_over_draws(reals, fakes)
    assert all(ok for _, _, ok in checks.values()), checks
