"Unit tests for singan_gif_lib.video: reading, writing, conversions, resizing and every read error."
import math

import numpy as np
import pytest
import torch
from PIL import Image

from singan_gif_lib.core import SinganGifError
from singan_gif_lib.video import (Video, VideoReadError, VideoShapeError, VideoWriteError, read_video, resize_video,
                                  to_frames, to_tensor, video_info, write_video)


def clip(t=6, h=10, w=12, seed=0):
    "Smooth random uint8 frames (T, H, W, 3), each frame different (so GIF does not merge them)."
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (t, h // 2, w // 2, 3)).astype(np.uint8)
    return base.repeat(2, 1).repeat(2, 2)  # 2x2 blocks survive H.264 well


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('v')
    c = clip()
    return dict(dir=d, clip=c, gif=write_video(d / 'c.gif', c, fps=10), mp4=write_video(d / 'c.mp4', c, fps=10))


# ---------------------------------------------------------------- Video
def test_video_keeps_fps_and_durations():
    v = Video(np.zeros((3, 2, 2, 3), np.uint8), fps=5, durations=[100, 200, 300])
    assert v.fps == 5.0 and v.durations == [100.0, 200.0, 300.0]
    assert math.isclose(v.duration, 0.6)
    assert isinstance(v[1:], Video) and v[1:].fps == 5.0 and v[1:].durations is None
    assert math.isclose(Video(np.zeros((4, 1, 1, 3), np.uint8), fps=8).duration, 0.5)


# ---------------------------------------------------------------- round trips
def test_gif_round_trip_exact_when_few_colours(tmp_path):
    c = np.zeros((4, 6, 8, 3), np.uint8)
    for k in range(4): c[k, :, : 2 * (k + 1)] = [255, 0, 0]  # 2 colours: the palette is exact
    p = write_video(tmp_path / 'a.gif', c, fps=5)
    v = read_video(p)
    np.testing.assert_array_equal(v, c)
    assert v.fps == 5.0 and v.durations == [200.0] * 4


def test_gif_round_trip_close_and_timing(files):
    v = read_video(files['gif'])
    assert v.shape == files['clip'].shape and v.dtype == np.uint8
    assert np.abs(v.astype(int) - files['clip']).mean() < 3
    assert v.fps == 10.0 and math.isclose(v.duration, 0.6)


def test_gif_uneven_fps_keeps_length(tmp_path):
    v = read_video(write_video(tmp_path / 'a.gif', clip(t=8), fps=8))
    assert v.durations == [130, 120, 130, 120, 130, 120, 130, 120]
    assert v.fps == 8.0 and math.isclose(v.duration, 1.0)


def test_gif_fps_above_50_is_capped(tmp_path):
    v = read_video(write_video(tmp_path / 'a.gif', clip(t=3), fps=100))
    assert v.durations == [20.0] * 3


def test_mp4_round_trip(files):
    v = read_video(files['mp4'])
    assert v.shape == files['clip'].shape and v.fps == 10.0
    assert np.abs(v.astype(int) - files["clip"]).mean() < 12  # H.264 on random 2x2 blocks; a channel swap gives ~80


def test_mp4_odd_size_is_padded_even(tmp_path):
    c = clip(h=10, w=12)[:, :9, :11]
    v = read_video(write_video(tmp_path / 'odd.mp4', c, fps=10))
    assert v.shape == (6, 10, 12, 3)
    assert np.abs(v[:, :9, :11].astype(int) - c).mean() < 12


def test_webm_round_trip(tmp_path):
    v = read_video(write_video(tmp_path / 'a.webm', clip(), fps=5))
    assert v.shape == (6, 10, 12, 3) and v.fps == 5.0


def test_write_accepts_float_layouts(tmp_path):
    c = clip(t=3)
    x = to_tensor(c)  # (1, 3, T, H, W)
    for name, frames in [('a', x), ('b', x[0]), ('c', x[0].permute(1, 2, 3, 0)), ('d', x[0].permute(1, 2, 3, 0).numpy())]:
        np.testing.assert_array_equal(read_video(write_video(tmp_path / f'{name}.gif', frames)), read_video(write_video(tmp_path / 'u.gif', c)))


def test_write_creates_parent_and_leaves_no_temp(tmp_path):
    p = write_video(tmp_path / 'sub' / 'dir' / 'a.mp4', clip(t=2))
    assert p.exists() and sorted(x.name for x in p.parent.iterdir()) == ['a.mp4']


@pytest.mark.parametrize('frames,msg', [
    (np.zeros((4, 5, 3), np.uint8), 'got shape (4, 5, 3)'),
    (np.zeros((2, 4, 5, 4), np.uint8), '3 colour channels'),
    (np.zeros((2, 4, 5, 3), np.int64), 'dtype int64'),
    (torch.zeros(2, 3, 2, 4, 4), 'batch of one'),
    (np.zeros((0, 4, 5, 3), np.uint8), 'empty video'),
    (np.full((1, 2, 2, 3), np.nan, np.float32), 'NaN'),
])
def test_write_bad_frames(tmp_path, frames, msg):
    with pytest.raises(VideoShapeError, match=msg.replace('(', r'\(').replace(')', r'\)')):
        write_video(tmp_path / 'x.gif', frames)
    assert not any(tmp_path.iterdir())


def test_write_bad_extension_and_fps(tmp_path):
    with pytest.raises(VideoWriteError, match=r"x\.avi: unsupported output extension '\.avi'"): write_video(tmp_path / 'x.avi', clip())
    with pytest.raises(VideoWriteError, match='fps must be a positive number'): write_video(tmp_path / 'x.gif', clip(), fps=0)
    with pytest.raises(VideoWriteError, match='fps must be a positive number'): write_video(tmp_path / 'x.gif', clip(), fps=float('inf'))
    assert not any(tmp_path.iterdir())


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    import singan_gif_lib.video as vm
    p = write_video(tmp_path / 'a.gif', clip(t=2))
    before = p.read_bytes()
    def boom(path, frames, fps):
        path.write_bytes(b'partial'); raise RuntimeError('disk full')
    monkeypatch.setitem(vm._WRITERS, '.gif', boom)
    with pytest.raises(RuntimeError): write_video(p, clip(t=3))
    assert p.read_bytes() == before and sorted(x.name for x in tmp_path.iterdir()) == ['a.gif']


# ---------------------------------------------------------------- read options
def test_max_frames_and_max_size(files):
    v = read_video(files['mp4'], max_frames=2, max_size=6)
    assert v.shape == (2, 5, 6, 3)
    v = read_video(files['gif'], max_size=100)  # never enlarges
    assert v.shape == files['clip'].shape
    assert read_video(files['gif'], max_size=3).shape == (6, 2, 3, 3)


def test_fps_resampling_picks_frames(files):
    g = read_video(files['gif'])
    half = read_video(files['gif'], fps=5)
    assert len(half) == 3 and half.fps == 5.0
    np.testing.assert_array_equal(half, g[[0, 2, 4]])
    double = read_video(files['gif'], fps=20)
    assert len(double) == 12
    np.testing.assert_array_equal(double, g[[0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]])
    np.testing.assert_array_equal(read_video(files['gif'], fps=5, max_frames=2), g[[0, 2]])
    assert len(read_video(files['mp4'], fps=5)) == 3


def test_uneven_gif_durations(tmp_path):
    ims = [Image.fromarray(f) for f in clip(t=3)]
    ims[0].save(tmp_path / 'u.gif', save_all=True, append_images=ims[1:], duration=[300, 100, 0], loop=0)
    v = read_video(tmp_path / 'u.gif')
    assert v.durations == [300.0, 100.0, 100.0]  # 0 ms plays as 100 ms, as in browsers
    assert v.fps == 10.0 and math.isclose(v.duration, 0.5)
    assert len(read_video(tmp_path / 'u.gif', fps=10)) == 5


def test_grayscale_and_transparent_gif(tmp_path):
    ims = [Image.fromarray(np.full((5, 6), k, np.uint8), 'L') for k in (0, 100, 200)]
    ims[0].save(tmp_path / 'g.gif', save_all=True, append_images=ims[1:], duration=50, loop=0)
    v = read_video(tmp_path / 'g.gif')
    assert v.shape == (3, 5, 6, 3) and v.fps == 20.0
    assert v[:, 0, 0].tolist() == [[0, 0, 0], [100, 100, 100], [200, 200, 200]]
    pal = [0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759
    a, b = Image.new('P', (4, 4), 1), Image.new('P', (4, 4), 2)
    a.putpalette(pal); b.putpalette(pal)
    a.save(tmp_path / 't.gif', save_all=True, append_images=[b], transparency=1, duration=100, loop=0)
    v = read_video(tmp_path / 't.gif')
    assert v[0].max() == 0  # fully transparent red frame -> black
    assert v[1, 0, 0].tolist() == [0, 255, 0]


def test_still_image_is_one_frame(tmp_path):
    Image.fromarray(clip(t=1)[0]).save(tmp_path / 'a.png')
    v = read_video(tmp_path / 'a.png')
    assert v.shape == (1, 10, 12, 3)


def test_folder_numeric_order_and_fps(tmp_path):
    c = clip(t=11)
    for k in range(11): Image.fromarray(c[k]).save(tmp_path / f'frame_{k}.png')
    (tmp_path / 'notes.txt').write_text('ignored')
    v = read_video(tmp_path)
    np.testing.assert_array_equal(v, c)
    assert v.fps == 10.0
    assert read_video(tmp_path, fps=24).fps == 24.0 and len(read_video(tmp_path, fps=24)) == 11  # no resampling
    assert read_video(tmp_path, max_frames=4).shape == (4, 10, 12, 3)


def test_folder_jpg_and_grayscale(tmp_path):
    Image.new('L', (6, 4), 50).save(tmp_path / '1.jpg')
    Image.new('RGB', (6, 4), (50, 50, 50)).save(tmp_path / '2.jpg')
    v = read_video(tmp_path)
    assert v.shape == (2, 4, 6, 3) and abs(int(v[0, 0, 0, 0]) - 50) <= 2


# ---------------------------------------------------------------- read errors
def expect(path, msg, **kw):
    with pytest.raises(VideoReadError) as e: read_video(path, **kw)
    assert str(path) in str(e.value) and msg in str(e.value), str(e.value)
    assert isinstance(e.value, SinganGifError)
    return str(e.value)


def test_missing_file(tmp_path): expect(tmp_path / 'missing.gif', 'no such file')


def test_folder_without_frames(tmp_path):
    (tmp_path / 'readme.txt').write_text('x')
    expect(tmp_path, 'no frames')


def test_folder_frame_size_mismatch(tmp_path):
    Image.new('RGB', (4, 4)).save(tmp_path / '1.png'); Image.new('RGB', (5, 4)).save(tmp_path / '2.png')
    with pytest.raises(VideoReadError, match=r'2\.png: frame size 5x4 differs'): read_video(tmp_path)


def test_folder_bad_frame(tmp_path):
    Image.new('RGB', (4, 4)).save(tmp_path / '1.png'); (tmp_path / '2.png').write_text('not a png')
    with pytest.raises(VideoReadError, match=r'2\.png: cannot read frame'): read_video(tmp_path)


@pytest.mark.parametrize('ext,msg', [('.gif', 'not a GIF file'), ('.mp4', 'cannot decode as video'), ('.webm', 'cannot decode as video'),
                                     ('.png', 'not a PNG file')])
def test_text_file_renamed(tmp_path, ext, msg):
    p = tmp_path / f'notes{ext}'
    p.write_text('these are my notes, not a video\n' * 20)
    expect(p, msg)


@pytest.mark.parametrize('kind', ['gif', 'mp4'])
def test_truncated_half(files, tmp_path, kind):
    src = files[kind]
    p = tmp_path / f'half.{kind}'
    p.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    expect(p, 'truncated')


def test_truncated_mp4_without_faststart(tmp_path):
    import imageio_ffmpeg
    p = tmp_path / 'plain.mp4'
    w = imageio_ffmpeg.write_frames(str(p), (12, 10), fps=10, macro_block_size=1, ffmpeg_log_level='error')  # moov at the end
    w.send(None)
    for f in clip(t=10): w.send(np.ascontiguousarray(f))
    w.close()
    (tmp_path / 'half.mp4').write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    expect(tmp_path / 'half.mp4', 'truncated')


def test_gif_header_only(files, tmp_path):
    p = tmp_path / 'head.gif'
    p.write_bytes(files['gif'].read_bytes()[:10])
    expect(p, 'GIF')


def test_empty_file_is_zero_frames(tmp_path):
    for ext in ('.gif', '.mp4'):
        (tmp_path / f'e{ext}').write_bytes(b'')
        expect(tmp_path / f'e{ext}', 'no frames')


def test_audio_only_mp4_has_no_video_stream(tmp_path):
    import subprocess, imageio_ffmpeg
    p = tmp_path / 'audio.mp4'
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-v', 'error', '-f', 'lavfi', '-i', 'anullsrc', '-t', '0.2', '-y', str(p)], check=True)
    expect(p, 'no video stream')


@pytest.mark.parametrize('name,msg', [('clip.txt', "unsupported extension '.txt'"), ('clip', "unsupported extension '(none)'")])
def test_unsupported_extension(tmp_path, name, msg):
    (tmp_path / name).write_text('x')
    expect(tmp_path / name, msg)


@pytest.mark.parametrize('kw,msg', [(dict(max_frames=0), 'max_frames must be a positive integer'),
                                    (dict(max_frames=2.5), 'max_frames must be a positive integer'),
                                    (dict(max_size=-3), 'max_size must be a positive integer'),
                                    (dict(fps=0), 'fps must be a positive number'),
                                    (dict(fps=float('nan')), 'fps must be a positive number')])
def test_bad_read_options(files, kw, msg): expect(files['gif'], msg, **kw)


# ---------------------------------------------------------------- video_info
def test_video_info(files):
    for kind in ('gif', 'mp4'):
        i = video_info(files[kind])
        assert (i['frames'], i['height'], i['width'], i['fps']) == (6, 10, 12, 10.0)
        assert math.isclose(i['duration'], 0.6)


def test_video_info_errors(files, tmp_path):
    with pytest.raises(VideoReadError, match='no such file'): video_info(tmp_path / 'nope.mp4')
    p = tmp_path / 'half.mp4'
    p.write_bytes(files['mp4'].read_bytes()[:200])
    with pytest.raises(VideoReadError, match='half.mp4'): video_info(p)


# ---------------------------------------------------------------- tensors
def test_to_tensor_to_frames_round_trip_exact():
    c = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, -1)  # every uint8 value
    x = to_tensor(c)
    assert x.shape == (1, 3, 1, 16, 16) and x.dtype == torch.float32
    assert x.min().item() == -1.0 and x.max().item() == 1.0
    assert math.isclose(x[0, 0, 0, 8, 0].item(), 128 / 127.5 - 1, abs_tol=1e-6)
    np.testing.assert_array_equal(to_frames(x), c)
    np.testing.assert_array_equal(to_frames(x[0]), c)
    v = clip()
    assert to_tensor(v)[0, :, 2, 3, 4].tolist() == pytest.approx((v[2, 3, 4] / 127.5 - 1).tolist())


def test_to_frames_clamps_and_rounds():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0]).view(1, 1, 1, 5).expand(3, 1, 1, 5)
    assert to_frames(x)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]


@pytest.mark.parametrize('bad', [np.zeros((2, 4, 4, 3), np.float32), np.zeros((4, 4, 3), np.uint8), np.zeros((2, 4, 4, 1), np.uint8)])
def test_to_tensor_errors(bad):
    with pytest.raises(VideoShapeError, match='to_tensor expects uint8 frames'): to_tensor(bad)


@pytest.mark.parametrize('bad', [torch.zeros(2, 3, 1, 4, 4), torch.zeros(1, 4, 1, 4, 4), torch.zeros(3, 4, 4), torch.zeros(3, 1, 4, 4, dtype=torch.uint8), np.zeros((3, 1, 4, 4))])
def test_to_frames_errors(bad):
    with pytest.raises(VideoShapeError, match='to_frames expects'): to_frames(bad)


# ---------------------------------------------------------------- resize
def test_resize_shapes_and_identity():
    x = torch.randn(2, 3, 4, 8, 10)
    for size in [(2, 4, 5), (8, 16, 20), (4, 3, 30), (1, 1, 1), (7, 8, 10)]:
        assert resize_video(x, size).shape == (2, 3, *size)
    assert torch.equal(resize_video(x, (4, 8, 10)), x)


def test_resize_area_when_shrinking_space():
    x = torch.randn(1, 1, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    y = resize_video(x, (3, 2, 2))
    torch.testing.assert_close(y, x.view(1, 1, 3, 2, 3, 2, 3).mean((4, 6)))  # 3x3 block means
    # bilinear sampling would only look at the centre pixel of each block
    assert not torch.allclose(y, torch.nn.functional.interpolate(x, size=(3, 2, 2), mode='trilinear'), atol=1e-3)


def test_resize_linear_in_time():
    x = torch.arange(4.0).view(1, 1, 4, 1, 1).expand(1, 1, 4, 2, 2).contiguous()
    torch.testing.assert_close(resize_video(x, (2, 2, 2))[0, 0, :, 0, 0], torch.tensor([0.5, 2.5]))
    up = resize_video(x, (8, 2, 2))[0, 0, :, 0, 0]
    torch.testing.assert_close(up, torch.tensor([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0]))


def test_resize_bilinear_when_enlarging_space():
    x = torch.tensor([0.0, 1.0]).view(1, 1, 1, 1, 2).expand(1, 1, 1, 2, 2).contiguous()
    y = resize_video(x, (1, 2, 4))[0, 0, 0, 0]
    torch.testing.assert_close(y, torch.tensor([0.0, 0.25, 0.75, 1.0]))


@pytest.mark.parametrize('value', [-1.0, 0.0, 0.25, 1.0, 0.3])
def test_resize_preserves_constant(value):
    c = torch.full((1, 3, 5, 7, 9), value)
    for size in [(3, 4, 5), (9, 13, 20), (5, 3, 20), (2, 7, 9), (11, 2, 3)]:
        y = resize_video(c, size)
        assert torch.equal(y, torch.full_like(y, value)) if value != 0.3 else torch.allclose(y, torch.full_like(y, value), atol=1e-7)


def test_resize_errors():
    x = torch.zeros(1, 3, 2, 4, 4)
    with pytest.raises(VideoShapeError, match='(B, C, T, H, W)'.replace('(', r'\(').replace(')', r'\)')): resize_video(x[0], (1, 2, 2))
    with pytest.raises(VideoShapeError, match='float tensor'): resize_video(x.to(torch.uint8), (1, 2, 2))
    with pytest.raises(VideoShapeError, match='three positive integers'): resize_video(x, (0, 2, 2))
    with pytest.raises(VideoShapeError, match='three positive integers'): resize_video(x, (2, 2))
    with pytest.raises(VideoShapeError, match='three positive integers'): resize_video(x, (2, 2.0, 2))


def test_gif_12fps_centisecond_rounding(tmp_path):
    v = read_video(write_video(tmp_path / 'a.gif', clip(t=12), fps=12))
    assert sorted(set(v.durations)) == [80.0, 90.0]
    assert v.fps == 12.0 and math.isclose(v.duration, 1.0)


def test_gif_fps_fit_when_length_is_rounded(tmp_path):
    v = read_video(write_video(tmp_path / 'a.gif', clip(t=20), fps=12))  # 20/12 s is stored as 1.67 s
    assert v.fps == 12.0 and math.isclose(v.duration, 1.67)
