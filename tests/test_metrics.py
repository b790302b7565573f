"Unit tests for singan_gif_lib.metrics: Fréchet distance vs scipy, single-video metrics, PSNR/SSIM, SWD, errors."
import math
import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn
from singan_gif_lib.core import SinganGifError
from singan_gif_lib.metrics import (MetricError, as_video_batch, video_frames, frechet_distance, fit_gaussian,
    frechet_distance_from_features, sgfid, sifid, fvd, diversity, acd, psnr, ssim, video_patches, sliced_wasserstein_patches)


def _ref_fid(a, b):
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return ((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_frechet_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(300, 5))
    b = rng.normal(size=(250, 5)) @ rng.normal(size=(5, 5)) + rng.normal(size=5)
    assert frechet_distance_from_features(a, b) == pytest.approx(_ref_fid(a, b), rel=1e-7)
    assert frechet_distance_from_features(torch.tensor(a), torch.tensor(b)) == pytest.approx(_ref_fid(a, b), rel=1e-7)


def test_frechet_identical_symmetric_translation():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(100, 4))
    assert frechet_distance_from_features(a, a) == pytest.approx(0, abs=1e-9)
    assert frechet_distance_from_features(a, a + 2) == pytest.approx(4 * 4, rel=1e-9)   # shift by 2 in 4 dims
    b = rng.normal(size=(80, 4)) * 3
    assert frechet_distance_from_features(a, b) == pytest.approx(frechet_distance_from_features(b, a), rel=1e-9)


def test_frechet_diagonal_closed_form():
    # diagonal Gaussians: sum (mu diff)^2 + sum (sqrt(s1) - sqrt(s2))^2
    s1, s2 = np.diag([1., 4., 9.]), np.diag([4., 4., 1.])
    assert frechet_distance([0, 0, 0], s1, [1, 0, 0], s2) == pytest.approx(1 + 1 + 0 + 4)


def test_frechet_rank_deficient_stable():
    rng = np.random.default_rng(0)
    d = frechet_distance_from_features(rng.normal(size=(3, 50)), rng.normal(size=(4, 50)))
    assert np.isfinite(d) and d > 0


def test_frechet_errors():
    with pytest.raises(MetricError, match='shapes do not match'): frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))
    with pytest.raises(MetricError, match='non-finite'): frechet_distance(np.array([np.nan, 0]), np.eye(2), np.zeros(2), np.eye(2))
    with pytest.raises(MetricError, match='at least 2'): fit_gaussian(np.zeros((1, 3)))
    with pytest.raises(MetricError, match=r'must be \(N, D\)'): fit_gaussian(np.zeros(3))
    with pytest.raises(SinganGifError, match='NaN'): fit_gaussian(np.full((3, 2), np.nan))


def test_shapes_and_errors():
    assert as_video_batch(torch.zeros(3, 2, 4, 4)).shape == (1, 3, 2, 4, 4)
    v = torch.arange(2 * 3 * 2 * 1 * 1.).reshape(2, 3, 2, 1, 1)
    f = video_frames(v)
    assert f.shape == (4, 3, 1, 1) and f[1, :, 0, 0].tolist() == v[0, :, 1, 0, 0].tolist()
    with pytest.raises(MetricError, match='expected'): as_video_batch(torch.zeros(2, 4, 2, 4, 4))


@pytest.fixture
def conv_fn():
    torch.manual_seed(0)
    return nn.Conv2d(3, 3, 3, stride=2).requires_grad_(False)


def test_sgfid_properties(conv_fn):
    torch.manual_seed(1)
    v = torch.rand(3, 5, 16, 16) * 2 - 1
    assert sgfid(v, v, conv_fn) == pytest.approx(0, abs=1e-6)
    assert sgfid(v, v[:, [4, 2, 0, 1, 3]], conv_fn) == pytest.approx(0, abs=1e-6)   # order-blind
    near, far = sgfid(v, v * 0.9, conv_fn), sgfid(v, v * 0.3, conv_fn)
    assert 0 < near < far
    # generated sample of another size (SinGAN-GIF generates other aspect ratios)
    assert np.isfinite(sgfid(v, torch.rand(3, 3, 20, 12) * 2 - 1, conv_fn))
    # batch of samples -> mean
    assert sgfid(v, torch.stack([v * 0.9, v * 0.3]), conv_fn) == pytest.approx((near + far) / 2, rel=1e-6)


def test_sgfid_sifid_errors(conv_fn):
    v = torch.rand(3, 4, 16, 16)
    with pytest.raises(MetricError, match='single video'): sgfid(torch.stack([v, v]), v, conv_fn)
    with pytest.raises(MetricError, match='maps'): sgfid(v, v, lambda x: x.flatten(1))
    with pytest.raises(MetricError, match='one real and one fake'): sifid(v, torch.stack([v, v]), conv_fn)
    with pytest.raises(MetricError, match='maps'): sifid(v, v, lambda x: x.flatten(1))


def test_sifid_per_frame(conv_fn):
    torch.manual_seed(2)
    v = torch.rand(3, 4, 16, 16) * 2 - 1
    assert sifid(v, v, conv_fn) == pytest.approx(0, abs=1e-6)
    assert sifid(v, v[:, [1, 0, 3, 2]], conv_fn) > 0.01
    # fake longer than real: frame t is compared with real frame t mod T
    assert sifid(v, torch.cat([v, v], 1), conv_fn) == pytest.approx(0, abs=1e-6)


def test_fvd():
    torch.manual_seed(0)
    fn = lambda x: x.mean((3, 4)).flatten(1)
    a = torch.rand(10, 3, 3, 4, 4) * 2 - 1
    assert fvd(a, a, fn) == pytest.approx(0, abs=1e-9)
    assert fvd(a, a + 0.5, fn) == pytest.approx(0.25 * 9, rel=1e-6)          # mean shift 0.5 in 9 dims
    assert fvd(a, a, fn, batch_size=3) == pytest.approx(0, abs=1e-9)
    with pytest.raises(MetricError, match='at least 2'): fvd(a[:1], a, fn)
    with pytest.raises(MetricError, match='real_videos'): fvd(torch.zeros(2, 1, 3, 4, 4), a, fn)


def test_diversity():
    assert diversity(torch.tensor([[0., 0.], [0., 2.], [2., 0.], [2., 2.]])) == pytest.approx((2 * 4 + 2 * math.sqrt(8)) / 6)
    assert diversity(np.ones((3, 5))) == pytest.approx(0)
    with pytest.raises(MetricError, match='at least 2'): diversity(torch.zeros(1, 4))


def test_acd():
    v = torch.zeros(2, 3, 3, 2, 2)
    v[0, :, 1] = 1; v[0, :, 2] = 2                      # frame distances: sqrt(12) each
    assert acd(v) == pytest.approx((math.sqrt(12) + 0) / 2)
    assert acd(v[:1], mode='pairwise') == pytest.approx((math.sqrt(12) * 2 + math.sqrt(48)) / 3)
    assert acd(v[:1], feature_fn=lambda x: x.mean((1, 2, 3))[:, None]) == pytest.approx(1.0)
    with pytest.raises(MetricError, match='at least 2 frames'): acd(v[:, :, :1])
    with pytest.raises(MetricError, match='mode'): acd(v, mode='l1')


def test_psnr():
    x = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    assert psnr(x, x) == math.inf
    assert psnr(x, x - 0.2) == pytest.approx(10 * math.log10(4 / 0.04), rel=1e-6)
    assert psnr(np.zeros(10), np.full(10, 255.), data_range=255) == pytest.approx(0)
    with pytest.raises(MetricError, match='shapes differ'): psnr(x, x[0])


def test_ssim():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 3, 16, 16) * 2 - 1
    assert ssim(x, x) == pytest.approx(1)
    assert ssim(x[0], x[0]) == pytest.approx(1)                                # single (3, T, H, W) video
    y = x + 0.2 * torch.randn_like(x)
    assert ssim(x, y) == pytest.approx(ssim(y, x))
    assert 1 > ssim(x, y) > ssim(x, x + 0.6 * torch.randn_like(x))
    a, b, c1 = torch.full((1, 1, 11, 11), 0.25, dtype=torch.float64), torch.full((1, 1, 11, 11), 0.75, dtype=torch.float64), 4e-4
    assert ssim(a, b) == pytest.approx((2 * 0.25 * 0.75 + c1) / (0.25 ** 2 + 0.75 ** 2 + c1), rel=1e-9)
    # same local means, opposite structure around a flat grey: structure term ~ -1 -> SSIM < 0
    z = torch.rand(1, 1, 16, 16, dtype=torch.float64) * 0.2
    assert ssim(0.5 + z, 0.5 - z + 2 * z.mean()) < 0
    with pytest.raises(MetricError, match='smaller than'): ssim(torch.zeros(1, 3, 10, 20), torch.zeros(1, 3, 10, 20))
    with pytest.raises(MetricError, match='shapes differ'): ssim(x, x[:1])
    with pytest.raises(MetricError, match='expected images'): ssim(torch.zeros(16, 16), torch.zeros(16, 16))


def test_video_patches_content():
    v = torch.arange(3 * 2 * 3 * 3.).reshape(3, 2, 3, 3)
    p = video_patches(v, (2, 2, 2))
    assert p.shape == (4, 3 * 2 * 2 * 2)
    torch.testing.assert_close(p[0], v[:, :, :2, :2].reshape(-1))
    torch.testing.assert_close(p[3], v[:, :, 1:, 1:].reshape(-1))
    with pytest.raises(MetricError, match='larger than'): video_patches(v, (3, 2, 2))


def test_swd():
    torch.manual_seed(0)
    v = torch.rand(3, 6, 12, 12) * 2 - 1
    assert sliced_wasserstein_patches(v, v, patch=(2, 3, 3)) == pytest.approx(0, abs=1e-12)
    assert sliced_wasserstein_patches(v, v, patch=(2, 3, 3), seed=1) == sliced_wasserstein_patches(v, v, patch=(2, 3, 3), seed=1)
    a = sliced_wasserstein_patches(v, v + 0.1, patch=(2, 3, 3)); b = sliced_wasserstein_patches(v, v + 0.5, patch=(2, 3, 3))
    assert 0 < a < b and b == pytest.approx(5 * a, rel=1e-6)                  # a constant shift scales linearly
    # time reversal keeps single-frame patch statistics but not 2-frame ones... only for asymmetric motion; use shuffle
    s = v[:, torch.tensor([3, 0, 5, 1, 4, 2])]
    assert sliced_wasserstein_patches(v, s, patch=(1, 3, 3)) == pytest.approx(0, abs=1e-12)
    assert sliced_wasserstein_patches(v, s, patch=(2, 3, 3)) > 0.01
    # different sizes are fine
    assert np.isfinite(sliced_wasserstein_patches(v, torch.rand(3, 4, 10, 14), patch=(2, 3, 3), max_patches=100))


def test_feature_nets_shapes():
    from singan_gif_lib.metrics import FrameFeatureNet, VideoFeatureNet
    f, v = FrameFeatureNet(3), VideoFeatureNet(5)
    assert f.feature_maps(torch.zeros(2, 3, 16, 20)).shape == (2, 64, 8, 10)
    assert f(torch.zeros(2, 3, 16, 20)).shape == (2, 3)
    assert v(torch.zeros(2, 3, 4, 16, 16)).shape == (2, 5) and v.embed(torch.zeros(1, 3, 4, 16, 16)).shape == (1, 128)
    # GroupNorm, no batch statistics: a sample's features do not depend on the rest of the batch
    f.eval(); x = torch.randn(3, 3, 16, 16)
    torch.testing.assert_close(f.embed(x)[:1], f.embed(x[:1]), rtol=1e-4, atol=1e-5)
    n_params = sum(p.numel() for m in (FrameFeatureNet(), VideoFeatureNet()) for p in m.parameters())
    assert n_params < 1_000_000


def test_train_and_load_tiny(tmp_path):
    from singan_gif_lib.data import TextureClips, BouncingShapes
    from singan_gif_lib.metrics import train_feature_nets, load_feature_net, load_frame_features, load_video_features
    kw = dict(n_clips=50, n_frames=4, size=(16, 16))
    res = train_feature_nets([TextureClips(**kw)], [TextureClips(**kw), BouncingShapes(**kw)], n_per_dataset=8,
                             steps=2, batch_size=4, out_dir=tmp_path)
    assert set(res) == {'frame_test_accuracy', 'video_test_accuracy'} and all(0 <= a <= 1 for a in res.values())
    net, meta = load_feature_net('video', tmp_path / 'video_features.safetensors')
    assert meta['n_classes'] == 4 + 8 and meta['classes'][4] == 'BouncingShapes:bin0' and not net.training
    fm = load_frame_features(path=tmp_path / 'frame_features.safetensors')
    assert fm(torch.zeros(2, 3, 16, 16)).shape == (2, 64, 8, 8)
    vf = load_video_features(path=tmp_path / 'video_features.safetensors')
    assert vf(torch.zeros(3, 4, 16, 16)).shape == (1, 128)


def test_load_errors(tmp_path):
    from singan_gif_lib.core import CheckpointError, save_checkpoint
    from singan_gif_lib.metrics import load_feature_net, load_frame_features
    with pytest.raises(CheckpointError, match='not found'): load_feature_net('frame', tmp_path / 'none.safetensors')
    save_checkpoint(tmp_path / 'bad.safetensors', {'x': torch.zeros(2)}, {'n_classes': 4})
    with pytest.raises(CheckpointError, match='bad.safetensors: weights do not fit'): load_feature_net('frame', tmp_path / 'bad.safetensors')
    with pytest.raises(MetricError, match="kind must be"): load_feature_net('audio')
    with pytest.raises(MetricError, match="output must be"): load_frame_features('logits')


def test_shipped_weights_load():
    from singan_gif_lib.core import ASSETS
    from singan_gif_lib.metrics import load_feature_net
    for kind in ('frame', 'video'):
        path = ASSETS / f'{kind}_features.safetensors'
        assert path.stat().st_size < 4_000_000
        _, meta = load_feature_net(kind)
        assert meta['test_accuracy'] > 1.5 / meta['n_classes']          # clearly better than chance


def test_train_feature_nets_rejects_unknown_kinds(tmp_path):
    from singan_gif_lib.metrics import train_feature_nets, default_feature_datasets, MetricError
    fd, vd = default_feature_datasets(n_frames=4, size=(16, 16))
    with pytest.raises(MetricError, match="kinds must be"):
        train_feature_nets(fd, vd, n_per_dataset=4, steps=1, out_dir=tmp_path, kinds=('audio',))
    assert not list(tmp_path.iterdir())  # nothing written


def test_train_feature_nets_retrains_only_the_kinds_asked(tmp_path):
    from singan_gif_lib.metrics import train_feature_nets, default_feature_datasets, load_feature_net
    fd, vd = default_feature_datasets(n_frames=4, size=(16, 16))
    acc = train_feature_nets(fd, vd, n_per_dataset=8, steps=2, batch_size=4, out_dir=tmp_path, kinds=('frame',))
    assert set(acc) == {'frame_test_accuracy'}
    assert sorted(p.name for p in tmp_path.iterdir()) == ['frame_features.json', 'frame_features.safetensors']
    net, meta = load_feature_net('frame', tmp_path / 'frame_features.safetensors')
    assert meta['steps'] == 2 and meta['n_per_dataset'] == 8 and meta['n_classes'] == 4
