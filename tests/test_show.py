"Tests of singan_gif_lib.show: conversions, inline HTML, the player widget, frame strips and errors."
import base64, io, re

import numpy as np
import pytest
import torch
from PIL import Image

from singan_gif_lib.core import SinganGifError
from singan_gif_lib.video import Video, VideoShapeError
from singan_gif_lib.show import (VideoPlayer, as_frames, display_scale, frame_strip,
                                 save_frame_strip, show_videos, strip_indices)


@pytest.fixture
def clip():
    "A (5, 6, 8, 3) uint8 clip whose frames all differ, covering 0 and 255."
    rng = np.random.default_rng(0)
    c = rng.integers(0, 256, (5, 6, 8, 3), dtype=np.uint8)
    c[0, 0, 0] = [0, 128, 255]
    return c


def to_tensor(c: np.ndarray) -> torch.Tensor:
    "(T,H,W,3) uint8 -> (1,3,T,H,W) float in [-1, 1], as the library's networks see videos."
    return torch.from_numpy(c).permute(3, 0, 1, 2)[None].float() / 127.5 - 1


def gifs(html: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(b))) for b in re.findall(r'data:image/gif;base64,([^"]+)', html)]


# --- as_frames: every layout gives the same frames ---------------------------------------------------------

def test_tensor_and_uint8_give_same_frames(clip):
    x = to_tensor(clip)
    for v in (x, x[0], x[0].permute(1, 2, 3, 0), x.numpy(), x.double(), x.half(), x.bfloat16()):
        f = as_frames(v)
        assert f.dtype == np.uint8 and f.shape == clip.shape
        if v.dtype in (torch.float16, torch.bfloat16): assert np.abs(f.astype(int) - clip).max() <= 1
        else: np.testing.assert_array_equal(f, clip)
    np.testing.assert_array_equal(as_frames(clip), clip)


def test_float_mapping_values():
    x = torch.tensor([-1.0, -0.999, 0.0, 0.999, 1.0, -3.0, 7.0]).view(1, 1, 7, 1).expand(1, 1, 7, 3)
    np.testing.assert_array_equal(as_frames(x)[0, 0, :, 0], [0, 0, 128, 255, 255, 0, 255])


def test_as_frames_ambiguous_prefers_channels_last():
    x = torch.linspace(-1, 1, 3 * 2 * 2 * 3).view(3, 2, 2, 3)  # could be (T,H,W,3) or (3,T,H,W)
    np.testing.assert_array_equal(as_frames(x), as_frames(x.numpy()))
    assert as_frames(x).shape == (3, 2, 2, 3)


def test_as_frames_matches_video_module(clip):
    from singan_gif_lib import video
    x = video.to_tensor(clip)
    np.testing.assert_array_equal(as_frames(x), video.to_frames(x))
    np.testing.assert_array_equal(as_frames(x), clip)


def test_video_subclass_keeps_fps_in_show_videos(clip):
    v = Video(clip, fps=25)
    np.testing.assert_array_equal(as_frames(v), clip)
    slow = gifs(show_videos(clip, return_html=True))[0]
    fast = gifs(show_videos(v, return_html=True))[0]
    assert slow.info['duration'] == 100 and fast.info['duration'] == 40


@pytest.mark.parametrize('bad, msg', [
    (np.zeros((6, 8, 3), np.uint8), '(T, H, W, 3)'),            # a single image
    (np.zeros((6, 8), np.uint8), '(T, H, W, 3)'),               # 2D
    (np.zeros((2, 6, 8, 4), np.uint8), '(T, H, W, 3)'),         # RGBA
    (np.zeros((2, 6, 8, 1), np.uint8), '(T, H, W, 3)'),         # grey
    (torch.zeros(2, 4, 3, 6, 8), 'batch of 2'),
    (torch.zeros(1, 4, 3, 6, 8), '(1, 3, T, H, W)'),            # 4 channels, float
    (torch.zeros(6, 8), '(1, 3, T, H, W)'),
    (np.zeros((0, 6, 8, 3), np.uint8), 'empty'),
    (torch.zeros(1, 3, 0, 6, 8), 'empty'),
    (np.full((1, 2, 2, 3), np.inf, np.float32), 'NaN or infinite'),
    (torch.full((1, 3, 1, 2, 2), float('nan')), 'NaN or infinite'),
    (np.zeros((1, 2, 2, 3), np.int32), 'int32'),
    (np.zeros((1, 2, 2, 3), bool), 'bool'),
])
def test_as_frames_errors(bad, msg):
    with pytest.raises(VideoShapeError, match=re.escape(msg)) as e: as_frames(bad, name='sample')
    assert isinstance(e.value, SinganGifError) and 'sample' in str(e.value)


# --- show_videos ------------------------------------------------------------------------------------------

def test_display_scale():
    assert [display_scale(h) for h in (1, 6, 48, 64, 127, 128, 300)] == [128, 22, 3, 2, 2, 1, 1]
    assert display_scale(0) == 128 and display_scale(10, 25) == 3


def test_show_videos_html(clip):
    html = show_videos({'a': clip, 'b': to_tensor(clip[:3])}, return_html=True)
    g = gifs(html)
    assert len(g) == 2 and '>a<' in html and '>b<' in html
    assert [(im.size, im.n_frames) for im in g] == [((8, 6), 5), ((8, 6), 3)]   # data kept at true size
    assert 'height="132"' in html and 'pixelated' in html                       # shown 22x larger
    assert 'height="40"' in show_videos(clip, height=40, return_html=True)


def test_show_videos_list_titles_columns(clip):
    html = show_videos([clip, clip, clip], titles=['x', 'y', 'z'], columns=2, return_html=True)
    assert html.count('<table') == 2 and len(gifs(html)) == 3


def test_show_videos_h264(clip):
    html = show_videos(clip[:, :5, :7], codec='h264', return_html=True)  # odd sizes are padded
    assert '<video' in html and 'data:video/mp4' in html


def test_show_videos_displays(clip, monkeypatch):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, 'display', lambda *a, **k: shown.append(a))
    assert show_videos(clip) is None


@pytest.mark.parametrize('kw, msg', [
    (dict(codec='webm'), 'codec'), (dict(fps=0), 'fps'), (dict(titles=['a', 'b']), '1 videos but 2 titles')])
def test_show_videos_errors(clip, kw, msg):
    with pytest.raises(SinganGifError, match=msg): show_videos(clip, **kw)


def test_show_videos_input_errors(clip):
    with pytest.raises(SinganGifError, match='no videos'): show_videos([])
    with pytest.raises(SinganGifError, match='not both'): show_videos({'a': clip}, titles=['a'])
    with pytest.raises(SinganGifError, match="video 'bad'"): show_videos({'ok': clip, 'bad': clip[0]})
    with pytest.raises(SinganGifError, match='video #1'): show_videos([clip, clip[..., :2]])


# --- VideoPlayer ------------------------------------------------------------------------------------------

def png_array(b: bytes) -> np.ndarray: return np.asarray(Image.open(io.BytesIO(b)).convert('RGB'))


def test_player_steps_frames_in_sync(clip):
    p = VideoPlayer({'long': clip, 'short': to_tensor(clip[:2])}, fps=10)
    assert p.n_frames == 5 and p.scale == 22 and p.slider.max == 4 and p.play.max == 4
    assert p.titles == ['long', 'short'] and p.play.interval == 100
    np.testing.assert_array_equal(png_array(p.images[0].value)[::22, ::22], clip[0])
    for i in range(7):
        p.slider.value = i % 5
        assert p.frame == i % 5
        np.testing.assert_array_equal(png_array(p.images[0].value)[::22, ::22], clip[i % 5])
        np.testing.assert_array_equal(png_array(p.images[1].value)[::22, ::22], clip[(i % 5) % 2])


def test_player_show_frame_and_setter(clip):
    p = VideoPlayer([clip, clip[:3]], scale=1)
    assert p.titles == ['#0', '#1']
    p.show_frame(4); assert p.frame == 4
    np.testing.assert_array_equal(png_array(p.images[1].value), clip[1])
    p.frame = 6; assert p.frame == 1
    np.testing.assert_array_equal(png_array(p.images[0].value), clip[1])
    p.fps.value = 25; assert p.play.interval == 40
    assert 'needs a running kernel' in repr(p) and '2 videos' in repr(p)


def test_player_encodes_each_frame_once(clip, monkeypatch):
    import singan_gif_lib.show as show
    calls = []
    png = show._png
    monkeypatch.setattr(show, '_png', lambda f, s=1: calls.append(s) or png(f, s))
    p = VideoPlayer(clip, scale=2)
    for i in (1, 0, 1, 6, 5): p.show_frame(i)
    assert calls == [2, 2] and len(p._cache) == 2


@pytest.mark.parametrize('kw, msg', [(dict(fps=0), 'fps'), (dict(fps=-1), 'fps'), (dict(scale=0), 'scale')])
def test_player_errors(clip, kw, msg):
    with pytest.raises(SinganGifError, match=msg): VideoPlayer(clip, **kw)
    with pytest.raises(SinganGifError, match='4 channels|(T, H, W, 3)'.replace('(', r'\(').replace(')', r'\)')):
        VideoPlayer(np.zeros((2, 4, 4, 4), np.uint8))


# --- frame strips -----------------------------------------------------------------------------------------

def test_strip_indices():
    assert strip_indices(5, 3).tolist() == [0, 2, 4]
    assert strip_indices(10, 4).tolist() == [0, 3, 6, 9]
    assert strip_indices(1, 3).tolist() == [0, 0, 0]
    with pytest.raises(SinganGifError, match='n >= 1'): strip_indices(5, 0)


def test_frame_strip_shape_and_content(clip):
    fig = frame_strip({'a': clip, 'b': to_tensor(clip[:2])}, n=3)
    assert len(fig.axes) == 6
    assert [a.get_title() for a in fig.axes] == ['t=0', 't=2', 't=4', 't=0', 't=0', 't=1']
    assert fig.axes[0].get_ylabel() == 'a' and fig.axes[3].get_ylabel() == 'b'
    np.testing.assert_array_equal(fig.axes[1].get_images()[0].get_array().data, clip[2])
    np.testing.assert_array_equal(fig.axes[5].get_images()[0].get_array().data, clip[1])
    assert tuple(fig.get_size_inches()) == pytest.approx((3.6, 2.6))
    assert tuple(frame_strip(clip, n=2, figsize=(4, 2)).get_size_inches()) == (4, 2)


def test_save_frame_strip(tmp_path, clip):
    out = save_frame_strip(tmp_path / 'a' / 's.png', [clip, clip], n=4, dpi=50)
    im = Image.open(out)
    assert out == tmp_path / 'a' / 's.png' and im.format == 'PNG' and im.size == (240, 130)
    assert save_frame_strip(tmp_path / 's.pdf', clip).read_bytes()[:4] == b'%PDF'


def test_save_frame_strip_errors_leave_no_file(tmp_path, clip):
    with pytest.raises(SinganGifError, match=r"s\.xyz.*'\.xyz'"): save_frame_strip(tmp_path / 's.xyz', clip)
    with pytest.raises(SinganGifError, match='empty'): save_frame_strip(tmp_path / 's.png', clip[:0])
    (tmp_path / 'old.png').write_bytes(b'old')
    with pytest.raises(SinganGifError): save_frame_strip(tmp_path / 'old.png', clip[..., :1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['old.png']
    assert (tmp_path / 'old.png').read_bytes() == b'old'
