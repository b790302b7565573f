"""Tests of the cINN video autoencoder (stage 1), the image autoencoder, the residual flow pipeline and ImageToVideo."""
import math

import pytest
import torch
from torch import nn

from singan_gif_lib.core import SinganGifError, CheckpointError, ConfigError, save_checkpoint
from singan_gif_lib.video_ae import (VideoAEConfig, VideoAEError, VideoEncoder, VideoDecoder, TemporalCritic, SpatialCritic,
                                     ImageEncoder, ImageDecoder, kl_divergence, reparameterize, temporal_critic_loss,
                                     spatial_critic_loss, autoencoder_loss, check_size, one_hot_eta, stack_dataset,
                                     train_video_autoencoder, train_image_to_video, load_image_to_video, measured_directions,
                                     WarpDecoder, CorrEncoder, warp_frames, correlation_volume, make_video_encoder,
                                     make_video_decoder)

torch.set_num_threads(1)


@pytest.fixture(scope='module')
def cfg():
    return VideoAEConfig.from_preset('ci')


def test_kl_closed_form_known_values():
    mu, lv = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]])
    assert kl_divergence(mu, lv).item() == pytest.approx(0.5 * (1 + 4 - 1 - math.log(4)), abs=1e-6)
    assert kl_divergence(torch.zeros(3, 5), torch.zeros(3, 5)).item() == 0.0


def test_kl_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu, lv = torch.randn(1, 4, generator=g), torch.randn(1, 4, generator=g) * 0.5
    z = reparameterize(mu.expand(100_000, 4), lv.expand(100_000, 4), torch.Generator().manual_seed(1))
    q = torch.distributions.Normal(mu, (0.5 * lv).exp())
    mc = (q.log_prob(z) - torch.distributions.Normal(0., 1.).log_prob(z)).sum(1).mean()
    assert mc.item() == pytest.approx(kl_divergence(mu, lv).item(), abs=0.03)


def test_reparameterize_moments():
    z = reparameterize(torch.full((50_000, 1), 2.0), torch.full((50_000, 1), math.log(9.0)), torch.Generator().manual_seed(0))
    assert z.mean().item() == pytest.approx(2.0, abs=0.05) and z.std().item() == pytest.approx(3.0, abs=0.05)


def test_encoder_decoder_shapes(cfg):
    X = torch.rand(2, 3, 8, 16, 16) * 2 - 1
    mean, logvar = VideoEncoder(cfg)(X)
    assert mean.shape == logvar.shape == (2, cfg.d_z)
    assert VideoDecoder(cfg)(X[:, :, 0], mean).shape == (2, 3, 8, 16, 16)


def test_odd_sizes():
    odd = VideoAEConfig.from_preset('ci', size=(24, 40), n_frames=6, n_up=3)
    Y = VideoDecoder(odd)(torch.zeros(2, 3, 24, 40), torch.randn(2, odd.d_z))
    assert Y.shape == (2, 3, 6, 24, 40) and Y.abs().max() <= 1
    assert VideoEncoder(odd)(Y)[0].shape == (2, odd.d_z)
    assert ImageDecoder(odd)(ImageEncoder(odd)(torch.zeros(1, 3, 24, 40))).shape == (1, 3, 24, 40)
    assert TemporalCritic(odd)(Y)[0].shape == (2,)


def test_unsupported_size_is_a_clear_error():
    with pytest.raises(VideoAEError, match='25x40 is not supported'): check_size((25, 40), 3)
    with pytest.raises(SinganGifError, match='multiples of 8'): VideoAEConfig.from_preset('ci', size=(20, 16), n_up=3)
    with pytest.raises(ConfigError, match='n_frames'): VideoAEConfig.from_preset('ci', n_frames=1)


def test_decoder_depends_on_x0_and_z(cfg):
    torch.manual_seed(0)
    dec = VideoDecoder(cfg).eval()
    x0, z = torch.rand(2, 3, 16, 16) * 2 - 1, torch.randn(2, cfg.d_z)
    with torch.no_grad():
        a, b, c = dec(x0, z), dec(x0.flip(0), z), dec(x0, torch.randn(2, cfg.d_z))
        again = dec(x0, z)
    assert torch.allclose(a, again)
    assert (a - b).abs().mean() > 1e-3 and (a - c).abs().mean() > 1e-3


def test_decoder_is_spectrally_normalised(cfg):
    from torch.nn.utils import parametrize
    dec = VideoDecoder(cfg)
    convs = [m for m in dec.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.Linear))]
    assert convs and all(parametrize.is_parametrized(m, 'weight') for m in convs)


def test_decoder_rejects_bad_inputs(cfg):
    dec = VideoDecoder(cfg)
    with pytest.raises(VideoAEError, match=r'\(B, 3, 16, 16\)'): dec(torch.zeros(1, 3, 8, 8), torch.zeros(1, cfg.d_z))
    with pytest.raises(VideoAEError, match='z must be'): dec(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3))
    with pytest.raises(VideoAEError, match='videos'): VideoEncoder(cfg)(torch.zeros(3, 8, 16, 16))


class _Linear(nn.Module):
    "A critic with a known gradient: D(X) = <w, X>."
    def __init__(self, w): super().__init__(); self.w = nn.Parameter(w)
    def forward(self, x): return (x.flatten(1) * self.w).sum(1), [x]


def test_hinge_and_zero_centred_gp_on_linear_critic():
    w = torch.full((24,), 0.1)
    real = torch.full((4, 3, 2, 2, 2), 0.5 / 2.4)                   # D(real) = 0.5
    fake = -4 * real                                                # D(fake) = -2
    parts = temporal_critic_loss(_Linear(w), real, fake, 10.0)
    assert parts['gp'].item() == pytest.approx(0.24, abs=1e-6)     # ||w||^2
    assert parts['loss'].item() == pytest.approx(0.5 + 0.0 + 10 * 0.24, abs=1e-5)
    assert spatial_critic_loss(_Linear(w), real, -real).item() == pytest.approx(0.5 + 0.5, abs=1e-6)
    assert temporal_critic_loss(_Linear(w), real, fake, 0.0)['gp'].item() == 0.0


def test_autoencoder_loss_is_the_weighted_sum(cfg):
    X = torch.rand(2, 3, 8, 16, 16) * 2 - 1
    Y = torch.rand(2, 3, 8, 16, 16) * 2 - 1
    mu, lv = torch.randn(2, cfg.d_z), torch.randn(2, cfg.d_z)
    p = autoencoder_loss(cfg, X, Y, mu, lv, TemporalCritic(cfg), SpatialCritic(cfg))
    want = cfg.lambda_rec * p['l1'] + p['adv'] + cfg.lambda_f * p['fm'] + 1e-6 * kl_divergence(mu, lv)
    assert p['loss'].item() == pytest.approx(want.item(), rel=1e-5)
    assert p['l1'].item() == pytest.approx((X - Y).abs().mean().item(), rel=1e-6)


def test_one_hot_eta_errors():
    assert one_hot_eta(1, 2, 3).tolist() == [[0, 1, 0], [0, 1, 0]]
    with pytest.raises(VideoAEError, match='0..7'): one_hot_eta(8, 1, 8)
    with pytest.raises(VideoAEError, match='pass eta'): one_hot_eta(None, 1, 8)
    with pytest.raises(VideoAEError, match='no control'): one_hot_eta(1, 1, 0)


def test_stack_dataset_errors(cfg):
    with pytest.raises(VideoAEError, match='empty'): stack_dataset([], cfg)
    with pytest.raises(VideoAEError, match=r'this config needs \(3, 8, 16, 16\)'): stack_dataset([(torch.zeros(3, 4, 16, 16), 0)], cfg)
    with pytest.raises(VideoAEError, match=r'\[-1, 1\]'): stack_dataset([(torch.full((3, 8, 16, 16), 3.0), 0)], cfg)


def test_stage1_checkpoint_round_trip_and_resume(cfg, tmp_path):
    c = cfg.replace(n_steps=4, checkpoint_every=2)
    vids = torch.rand(6, 3, 8, 16, 16) * 2 - 1
    run, h = train_video_autoencoder(c, vids, tmp_path, show_progress=False, perceptual=False, max_steps=2)
    assert run.steps_done == 2 and (tmp_path / 'video_ae.safetensors').exists()
    run2, h2 = train_video_autoencoder(c, vids, tmp_path, resume=True, show_progress=False, perceptual=False)
    assert run2.steps_done == 4 and h2.steps['loss'][0] == 0 and h2.steps['loss'][-1] == 3
    run3, _ = train_video_autoencoder(c, vids, tmp_path, show_progress=False, perceptual=False)    # finished: loaded
    for k, v in run2.decoder.state_dict().items(): assert torch.equal(v, run3.decoder.state_dict()[k]), k
    with pytest.raises(CheckpointError, match='another configuration of video_ae'):
        train_video_autoencoder(c.replace(d_z=8), vids, tmp_path, show_progress=False, perceptual=False)
    longer = c.replace(n_steps=6, gamma=0.5)
    with pytest.raises(CheckpointError, match='another configuration of video_ae'):              # a longer budget needs resume=True
        train_video_autoencoder(longer, vids, tmp_path, show_progress=False, perceptual=False)
    run4, h4 = train_video_autoencoder(longer, vids, tmp_path, resume=True, show_progress=False, perceptual=False)
    assert run4.steps_done == 6 and h4.steps['loss'][-1] == 5
    assert run4.opt_g.param_groups[0]['lr'] == pytest.approx(c.lr * 0.5 ** 6)             # decay continues from the step


def test_pipeline_save_load_and_applications(cfg, tmp_path):
    from singan_gif_lib.data import SkyTimelapse
    c = cfg.replace(n_steps=2, img_steps=2, flow_steps=3, d_z=8, flow_batch=8)
    ds = SkyTimelapse(n_clips=10, n_frames=8, size=(16, 16))
    model, hs = train_image_to_video(c, ds, tmp_path, show_progress=False, perceptual=False)
    v, lab = ds[0]
    nu = model.residual(v, eta=lab)
    assert nu.shape == (1, 8)
    z = model.flow.reverse(nu, model.condition(v[:, 0], lab))
    assert torch.allclose(z, model.encode(v), atol=1e-4)            # invertibility: T(T^-1(z)) = z
    g = lambda: torch.Generator().manual_seed(3)
    a = model.animate(v[:, 0], 4, eta=lab, generator=g())
    assert a.shape == (4, 3, 8, 16, 16) and torch.equal(a, model.animate(v[:, 0], 4, eta=lab, generator=g()))
    assert model.animate(v[:, 0], 3, mode='deterministic').std(0).max() == 0
    assert model.transfer(nu, ds[1][0][:, 0], eta=(lab + 4) % 8).shape == (1, 3, 8, 16, 16)
    assert model.extend(v[:, 0], 2, eta=lab).shape == (3, 15, 16, 16)
    again = load_image_to_video(tmp_path)
    assert torch.allclose(again.animate(v[:, 0], 2, eta=lab, generator=g()), model.animate(v[:, 0], 2, eta=lab, generator=g()), atol=1e-5)
    with pytest.raises(VideoAEError, match='pass eta'): model.animate(v[:, 0], 2)
    with pytest.raises(VideoAEError, match="unknown mode 'x'"): model.animate(v[:, 0], 2, eta=0, mode='x')
    with pytest.raises(VideoAEError, match=r'image \(3, 16, 16\)'): model.animate(torch.zeros(3, 8, 8), 2, eta=0)
    with pytest.raises(VideoAEError, match='video must be'): model.residual(torch.zeros(3, 4, 16, 16), eta=0)


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match='not found'): load_image_to_video(tmp_path / 'nothing')
    save_checkpoint(tmp_path / 'model.safetensors', {'x': torch.zeros(1)}, {'kind': 'other'})
    with pytest.raises(CheckpointError, match='not an ImageToVideo'): load_image_to_video(tmp_path)


def test_measured_directions_on_real_clips():
    from singan_gif_lib.data import SkyTimelapse
    ds = SkyTimelapse(n_clips=8, n_frames=8, size=(32, 32), seed=0)
    vids = torch.stack([ds[i][0] for i in range(8)])
    got = measured_directions(vids, [ds.params(i)['sky_rows'] for i in range(8)])
    assert sum(g == ds[i][1] for i, g in enumerate(got)) >= 6


def test_half_precision_save(cfg, tmp_path):
    from singan_gif_lib.data import SkyTimelapse
    c = cfg.replace(n_steps=1, img_steps=1, flow_steps=2, d_z=8, flow_batch=8)
    model, _ = train_image_to_video(c, SkyTimelapse(n_clips=8, n_frames=8, size=(16, 16)), None, show_progress=False, perceptual=False)
    p = model.save(tmp_path / 'm.safetensors', half=True)
    again = load_image_to_video(p)
    x0 = torch.zeros(3, 16, 16)
    a = again.animate(x0, 2, eta=1, generator=torch.Generator().manual_seed(0))
    b = model.animate(x0, 2, eta=1, generator=torch.Generator().manual_seed(0))
    assert a.dtype == torch.float32 and (a - b).abs().max() < 0.05


def test_stack_dataset_checks_every_clip(cfg):
    good = torch.zeros(3, 8, 16, 16)
    vids, labels = stack_dataset([(good, 0), (good.double(), 1)], cfg)
    assert vids.dtype == torch.float32 and labels.tolist() == [0, 1]
    with pytest.raises(VideoAEError, match=r'\[-1, 1\]'): stack_dataset([(good, 0), (good + 3, 1)], cfg)   # the 2nd clip


def test_warp_moves_by_the_displacement_and_keeps_frame_0():
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(2, 3, 16, 20, generator=g) * 2 - 1
    d = torch.tensor([[0., 0.], [0., 1.], [-2., 2.]]).expand(2, 3, 2)      # (dx, dy): down 1, then left 2 and down 2
    out = warp_frames(x0, d, torch.ones(2, 1, 16, 20))
    assert torch.allclose(out[:, :, 0], x0, atol=1e-5)
    assert torch.allclose(out[:, :, 1, 3:-3], x0[:, :, 2:-4], atol=1e-5)   # row r shows x_0's row r - 1
    assert torch.allclose(out[:, :, 2, 4:-4, 4:-4], x0[:, :, 2:-6, 6:-2], atol=1e-5)
    half = warp_frames(x0, d, torch.full((2, 1, 16, 20), 0.5))             # m = 1/2 moves half as far
    assert torch.allclose(half[:, :, 2, 4:-4, 4:-4], x0[:, :, 3:-5, 5:-3], atol=1e-5)


def test_fresh_warp_decoder_copies_x0_and_then_depends_on_z(cfg):
    w = cfg.replace(decoder='warp')
    dec = make_video_decoder(w)
    assert isinstance(dec, WarpDecoder)
    x0 = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(dec(x0, torch.randn(2, w.d_z)), x0[:, :, None].expand(-1, -1, w.n_frames, -1, -1), atol=1e-6)
        dec.velocity[-1].weight.normal_()
        a, b = dec(x0, torch.randn(2, w.d_z)), dec(x0, torch.randn(2, w.d_z))
    assert (a - b).abs().mean() > 1e-3 and torch.allclose(a[:, :, 0], x0, atol=1e-5)
    with pytest.raises(VideoAEError, match='z must be'): dec(x0, torch.zeros(2, 3))


def test_correlation_volume_peaks_at_the_shift():
    a = torch.randn(3, 4, 14, 14, generator=torch.Generator().manual_seed(1))
    for dy, dx in [(0, 0), (-2, 1), (1, -1)]:
        c = correlation_volume(a, torch.roll(a, (dy, dx), (2, 3)), 2)[:, :, 3:-3, 3:-3].mean((0, 2, 3))
        assert int(c.argmax()) == (dy + 2) * 5 + (dx + 2)
    enc = make_video_encoder(VideoAEConfig.from_preset('ci', encoder='corr'))
    assert isinstance(enc, CorrEncoder) and enc(torch.zeros(2, 3, 8, 16, 16))[0].shape == (2, 16)
    with pytest.raises(ConfigError, match="'resnet3d' or 'corr'"): VideoAEConfig.from_preset('ci', encoder='flow')


def test_shipped_model_reconstructs_better_than_a_still_and_follows_its_control():
    from singan_gif_lib.core import ASSETS
    from singan_gif_lib.data import SkyTimelapse
    model = load_image_to_video(ASSETS / 'cinn_sky32_model.safetensors', 'cpu')
    sky = SkyTimelapse(n_clips=16, n_frames=model.cfg.n_frames, size=model.cfg.size, seed=5)
    vids, _ = stack_dataset(sky, model.cfg)
    rows = [sky.params(i)['sky_rows'] for i in range(16)]
    rec = model.decode(vids[:, :, 0], model.encode(vids))
    assert (rec - vids).abs().mean() < 0.9 * (vids[:, :, :1] - vids).abs().mean()       # better than holding x_0 still
    g = torch.Generator().manual_seed(0)
    got = [measured_directions(model.transfer(torch.randn(8, model.cfg.d_z, generator=g), v[:, 0], torch.arange(8)), [r] * 8)
           for v, r in zip(vids, rows)]
    assert sum(d == k for row in got for k, d in enumerate(row)) / 128 > 0.35           # chance: 1/8
