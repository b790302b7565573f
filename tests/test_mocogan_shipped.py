"""The shipped MoCoGAN-HD motion generator: it fits the shipped image generator, its trajectories fan out, its long
videos stay in distribution, and the typicality term that keeps them there (not in the paper) trains and logs."""
import copy
from types import SimpleNamespace

import pytest
import torch

from singan_gif_lib.core import ASSETS
from singan_gif_lib.mocogan_hd import (SHIPPED_MOTION, MoCoGANHDConfig, ToyImageGenerator, generate_videos, generator_fingerprint, load_mocogan_hd,
                                       sample_w, sky_clips, trajectory_spread, train_motion_generator, typical_band, typicality_penalty,
                                       whitened_norm)
from singan_gif_lib.stylegan import load_stylegan

torch.set_num_threads(1)


@pytest.fixture(scope='module', params=[n for n in SHIPPED_MOTION if (ASSETS / f'{n}.safetensors').exists()])
def shipped(request):
    "Each shipped motion generator (64 px and 32 px sky), with the shipped image generator it walks."
    M, cfg, meta = load_mocogan_hd(ASSETS / f'{request.param}.safetensors')
    G = load_stylegan(meta['image_generator']['size'])
    return M, cfg, meta, G


def test_shipped_motion_generator_was_trained_on_the_shipped_image_generator(shipped):
    M, cfg, meta, G = shipped
    assert meta['image_generator'] == generator_fingerprint(G)
    assert meta['train']['steps'] == cfg.n_steps and cfg.unroll > 1 and cfg.lambda_typical > 0


def test_shipped_trajectories_fan_out_and_a_deaf_decoder_does_not(shipped):
    M, cfg, meta, G = shipped
    n = cfg.n_frames
    z1 = sample_w(G, 1, torch.Generator().manual_seed(3))
    ts = trajectory_spread(M, z1, 3 * n, n_noise=8, generator=torch.Generator().manual_seed(4))
    s, path = ts['spread'], ts['path']
    assert s[0] < 1e-5 and 0 < s[2] < s[n - 1] < s[3 * n - 1]                      # grows with time
    assert s[3 * n - 1] / path[3 * n - 1] > 0.1                                     # the noise decides a real share of the motion
    deaf = copy.deepcopy(M)
    deaf.decoder.weight_ih.data.zero_()                                              # the decoder no longer reads eps
    assert trajectory_spread(deaf, z1, 3 * n, generator=torch.Generator().manual_seed(4))['spread'].max() < 1e-4


def test_shipped_long_videos_stay_in_distribution(shipped):
    M, cfg, meta, G = shipped
    n = cfg.n_frames
    w1 = sample_w(G, 8, torch.Generator().manual_seed(5))
    with torch.no_grad(): codes = M(w1, 3 * n, generator=torch.Generator().manual_seed(6))   # unrolled to 3x the training length
    own_pca = SimpleNamespace(mean=M.pca_mean, basis=M.pca_basis, std=M.pca_std)      # the basis M was trained with
    band = typical_band(sample_w(G, 4096, torch.Generator().manual_seed(7)), own_pca)
    r = whitened_norm(codes, M.pca_mean, M.pca_basis, M.pca_std)                   # (8, 3n)
    assert r[:, -n:].mean() < 1.1 * band[1]
    v = (generate_videos(M, G, w1=w1, n_frames=3 * n, generator=torch.Generator().manual_seed(6)).clamp(-1, 1) + 1) / 2
    early, late = v[:, :, :n], v[:, :, 2 * n:]
    assert (early.mean((0, 2, 3, 4)) - late.mean((0, 2, 3, 4))).abs().max() < 0.06  # no colour drift
    assert 0.8 < (late.std((0, 2, 3, 4)) / early.std((0, 2, 3, 4))).min() and (late.std((0, 2, 3, 4)) / early.std((0, 2, 3, 4))).max() < 1.25
    saturated = lambda x: ((x < 0.02) | (x > 0.98)).float().mean()
    assert saturated(late) < 2 * saturated(early) + 0.01


def test_typicality_term_trains_on_unrolled_codes(tmp_path):
    torch.manual_seed(0)
    G = ToyImageGenerator(z_dim=12, w_dim=16, size=16, width=16).eval().requires_grad_(False)
    c = MoCoGANHDConfig.from_preset('ci', n_steps=2, pca_samples=300, batch_size=2, n_frames=3, n_clips=3, hidden_dim=8, d_width=4,
                                    proj_dim=8, queue_size=8, n_pca=8, unroll=3, lambda_typical=1.0)
    M, h, run = train_motion_generator(c, G, show_progress=False, dataset=sky_clips(c, G.size, n_clips=3), return_run=True)
    assert 'typical' in h.values and len(h.values['typical']) == 2
    assert run.band is not None and run.band[0] < run.band[1]
    far = M.pca_mean + 10 * run.band[1] * M.pca_std[0] * M.pca_basis[0]
    assert typicality_penalty(far.view(1, 1, -1), M, run.band) > 0
    with pytest.raises(Exception, match='unroll must be >= 1'): MoCoGANHDConfig.from_preset('ci', unroll=0)
