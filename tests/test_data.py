"Tests of singan_gif_lib.data: procedural textures, bundled samples and on-the-fly datasets."
import numpy as np
import pytest
import torch
from PIL import Image

from singan_gif_lib.core import SinganGifError
from singan_gif_lib import data as D
from singan_gif_lib.data import (TEXTURES, SAMPLES, SAMPLE_SPECS, BUNNY_SPEC, DEFAULT_SAMPLE, DataError, ClipIndexError,
                                 advected_fbm, travelling_waves, make_texture, temporal_smoothness, phase_correlation,
                                 measured_direction, bounce, clip_grid, colour_ramp, SkyTimelapse, BouncingShapes,
                                 TextureClips, sample_path, write_sample, write_sample_data)

SIZE = (24, 32)

@pytest.mark.parametrize('name', list(TEXTURES))
def test_texture_shape_dtype_determinism(name):
    v = make_texture(name, 6, SIZE, seed=3)
    assert v.shape == (6, *SIZE, 3) and v.dtype == np.uint8
    assert np.array_equal(v, make_texture(name, 6, SIZE, seed=3))
    assert np.abs(v.astype(int) - make_texture(name, 6, SIZE, seed=4)).mean() > 2
    assert v.std() > 5  # not a flat image

@pytest.mark.parametrize('name', list(TEXTURES))
def test_texture_moves_smoothly(name):
    v = make_texture(name, 16, (32, 48), seed=0).astype(np.float32)
    assert np.abs(np.diff(v, axis=0)).mean() > 0.5  # it moves
    assert temporal_smoothness(v) < 0.6  # consecutive frames much closer than distant ones
    assert temporal_smoothness(v[np.random.default_rng(0).permutation(16)]) > temporal_smoothness(v) + 0.2

def test_texture_colours():
    fire = make_texture('fire', 8, (32, 32)).astype(float)
    assert fire[:, :3].mean() < 30 and fire[:, -3:].mean() > 120  # black sky above hot base
    assert fire[..., 0].mean() > fire[..., 2].mean() + 20  # red-yellow, not blue
    water = make_texture('water', 8, (32, 32)).astype(float)
    assert water[..., 2].mean() > water[..., 0].mean() + 30
    clouds = make_texture('clouds', 4, (32, 32)).astype(float)
    assert clouds[..., 2].mean() > clouds[..., 0].mean()  # blue sky

@pytest.mark.parametrize('bad, msg', [(dict(n_frames=0), 'n_frames must be a positive integer'),
                                      (dict(n_frames=2.5), 'n_frames must be a positive integer'),
                                      (dict(size=(32,)), '(height, width)'),
                                      (dict(size=(4, 32)), 'at least 8 x 8')])
def test_texture_bad_args(bad, msg):
    kw = dict(n_frames=4, size=(16, 16)); kw.update(bad)
    with pytest.raises(DataError, match=msg.replace('(', r'\(').replace(')', r'\)')):
        make_texture('clouds', **kw)

def test_unknown_texture():
    with pytest.raises(SinganGifError, match="unknown texture 'lava'; available: clouds, water, fire, waterfall"):
        make_texture('lava')

def test_advected_fbm_translation_and_stats():
    f = advected_fbm(4, (16, 32), velocity=(1.0, -2.0), seed=0)
    assert abs(f.mean()) < 1e-4 and abs(f.std() - 1) < 1e-3
    assert np.allclose(f[2], np.roll(f[0], (2, -4), axis=(0, 1)), atol=1e-4)
    assert not np.allclose(f[2], f[0], atol=0.1)
    g = advected_fbm(4, (16, 32), velocity=(1.0, -2.0), evolve=0.5, seed=0)
    assert not np.allclose(g[2], np.roll(g[0], (2, -4), axis=(0, 1)), atol=0.05)  # evolution changes the pattern

def test_smoother_with_larger_beta():
    rough = advected_fbm(1, (64, 64), beta=1.5, seed=0)[0]
    smooth = advected_fbm(1, (64, 64), beta=4.0, seed=0)[0]
    assert np.abs(np.diff(smooth, axis=1)).mean() < 0.5 * np.abs(np.diff(rough, axis=1)).mean()

def test_waves_loop():
    h = travelling_waves(10, (16, 16), seed=1)
    assert h.shape == (3, 10, 16, 16)
    assert np.allclose(travelling_waves(10, (16, 16), seed=1, t_offset=10), h, atol=1e-4)
    assert not np.allclose(travelling_waves(10, (16, 16), seed=1, t_offset=5), h, atol=1e-3)

def test_phase_correlation():
    img = advected_fbm(1, (32, 40), beta=3.0, seed=2)[0]
    dy, dx = phase_correlation(img, np.roll(img, (-4, 7), axis=(0, 1)))
    assert abs(dy + 4) < 0.2 and abs(dx - 7) < 0.2
    with pytest.raises(DataError, match='two equal 2-D images'): phase_correlation(img, img[None])

def test_bounce_and_helpers():
    assert np.allclose(bounce(np.array([-0.25, 0.25, 1.25, 2.25]), 0.0, 1.0), [0.25, 0.25, 0.75, 0.25])
    assert np.allclose(colour_ramp(np.array(0.25), np.array([0, 1]), np.array([[0, 0, 0], [1, 1, 1]])), 0.25)
    assert clip_grid([np.zeros((3, 4, 3), np.uint8)] * 5, ncols=2, pad=1).shape == (11, 9, 3)
    with pytest.raises(DataError, match='at least one image'): clip_grid([])
    with pytest.raises(DataError, match='T>=3'): temporal_smoothness(np.zeros((2, 4, 4, 3)))

@pytest.mark.parametrize('cls', [SkyTimelapse, BouncingShapes, TextureClips])
def test_dataset_items(cls):
    ds = cls(n_clips=12, n_frames=8, size=(32, 32), seed=5)
    assert len(ds) == 12
    x, y = ds[2]
    assert x.shape == (3, 8, 32, 32) and x.dtype == torch.float32
    assert -1 <= x.min() and x.max() <= 1 and x.std() > 0.05
    assert isinstance(y, int)
    assert torch.equal(x, ds[2][0]) and torch.equal(x, cls(n_clips=12, n_frames=8, size=(32, 32), seed=5)[2][0])
    assert not torch.equal(x, cls(n_clips=12, n_frames=8, size=(32, 32), seed=6)[2][0])
    assert (x - ds[3][0]).abs().mean() > 0.02
    assert (x[:, 1:] - x[:, :-1]).abs().mean() > 1e-3  # frames differ
    with pytest.raises(ClipIndexError, match='index 12 out of range for 12 clips'): ds[12]
    with pytest.raises(IndexError): ds[-13]
    with pytest.raises(DataError, match='n_clips must be a positive integer'): cls(n_clips=0)
    with pytest.raises(DataError, match='size must be'): cls(size=(32,))
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch[0].shape == (4, 3, 8, 32, 32) and batch[1].shape == (4,)

def test_sky_labels_match_motion():
    sky = SkyTimelapse(n_clips=64, n_frames=12, size=(48, 48), seed=3)
    labels = [sky.label(i) for i in range(32)]
    assert len(set(labels)) >= 6  # all directions occur
    hits = [measured_direction(sky.render(i), sky.params(i)['sky_rows']) == labels[i] for i in range(32)]
    assert np.mean(hits) >= 0.9
    v = sky.render(0)  # the ground stands still, the sky moves
    rows = sky.params(0)['sky_rows']
    assert np.abs(np.diff(v[:, -3:].astype(float), axis=0)).mean() < 0.05
    assert np.abs(np.diff(v[:, :rows].astype(float), axis=0)).mean() > 0.3
    with pytest.raises(DataError, match='more than lag=4 frames'): measured_direction(v[:3], rows)

def test_sky_is_varied():
    sky = SkyTimelapse(n_clips=40, n_frames=2, size=(32, 32), seed=0)
    firsts = np.stack([sky.render(i)[0] for i in range(40)]).astype(float)  # (40, H, W, 3)
    mean_colours = firsts.mean((1, 2))
    assert mean_colours.std(0).min() > 10  # colours vary between scenes
    assert len({sky.params(i)['direction'] for i in range(40)}) == 8

def test_bouncing_shapes_label_and_bounds():
    ds = BouncingShapes(n_clips=20, n_frames=24, size=(32, 32), seed=0)
    for i in range(20):
        p = ds.params(i)
        assert ds.label(i) == p['direction'][0]
        v = p['velocity'][0]
        assert np.round(np.arctan2(-v[0], v[1]) / (np.pi / 4)) % 8 == p['direction'][0]
    # the shape's centre of mass first moves along the labelled direction
    x = ds.render(1).astype(float).sum(-1)
    x = np.abs(x - np.median(x, axis=(1, 2), keepdims=True))
    yy, xx = np.mgrid[0:32, 0:32]
    c = np.stack([(x * yy).sum((1, 2)) / x.sum((1, 2)), (x * xx).sum((1, 2)) / x.sum((1, 2))], 1)
    d = c[1] - c[0]
    assert np.dot(d, ds.params(1)['velocity'][0]) > 0
    with pytest.raises(DataError, match='n_shapes'): BouncingShapes(n_shapes=0)

def test_texture_clips_labels():
    ds = TextureClips(n_clips=6, n_frames=4, size=(16, 16), textures=['fire', 'water'])
    assert [ds[i][1] for i in range(6)] == [0, 1, 0, 1, 0, 1]
    fire, water = ds.render(0).astype(float), ds.render(1).astype(float)
    assert fire[..., 0].mean() > fire[..., 2].mean() and water[..., 2].mean() > water[..., 0].mean()
    with pytest.raises(DataError, match=r"unknown texture\(s\) \['lava'\]"): TextureClips(textures=['lava'])
    with pytest.raises(DataError, match='crop_scale'): TextureClips(crop_scale=0.5)

@pytest.mark.parametrize('name', SAMPLES)
def test_bundled_samples(name):
    p = sample_path(name)
    assert p.exists() and p.suffix == '.gif' and p.parent.name == ('samples' if name == 'bunny' else 'data')   # the real clip ships in the package
    assert p.stat().st_size < 400_000
    spec = SAMPLE_SPECS.get(name, BUNNY_SPEC)
    with Image.open(p) as im:
        assert im.n_frames == spec['n_frames'] and (im.height, im.width) == tuple(spec['size'])

def test_sample_names():
    assert DEFAULT_SAMPLE in SAMPLES and set(TEXTURES) < set(SAMPLES) and 'bunny' in SAMPLES
    with pytest.raises(DataError, match="unknown sample 'lava'; available: clouds, water, fire, waterfall, bunny"):
        sample_path('lava')
    with pytest.raises(DataError, match='unknown sample'): write_sample('lava', '.')

def test_write_sample_data_and_cache(tmp_path, monkeypatch):
    paths = write_sample_data(tmp_path / 'out', include_bunny=False)
    assert [p.name for p in paths] == [f'{n}.gif' for n in TEXTURES]
    # regenerated GIFs are identical to the bundled ones (deterministic)
    assert (tmp_path / 'out' / 'fire.gif').read_bytes() == sample_path('fire').read_bytes()
    # without the repo's data/ folder, samples are regenerated into the cache
    monkeypatch.setattr(D, '_repo_data_dir', lambda: tmp_path / 'nowhere')
    monkeypatch.setenv('SINGAN_GIF_CACHE', str(tmp_path / 'cache'))
    p = sample_path('water')
    assert p == tmp_path / 'cache' / 'water.gif' and p.exists()
    assert p.read_bytes() == (tmp_path / 'out' / 'water.gif').read_bytes()
