"Tests of the command line of the later papers: MoCoGAN-HD (mocogan-train/-sample) and cINN (cinn-train/-animate)."
import shutil
from pathlib import Path

import pytest
import torch

import singan_gif_lib.cli as cli
from cli_helpers import run, one_error_line, gif_time_ms
from singan_gif_lib.video import read_video




@pytest.fixture(scope='module')
def motion_run(tmp_path_factory):
    "A 2-step MoCoGAN-HD motion generator over the shipped 32 px StyleGAN."
    d = tmp_path_factory.mktemp('mocogan')
    assert cli.main(['mocogan-train', '--out', str(d), '--preset', 'ci', '--steps', '2']) == 0
    return d


def test_mocogan_train_writes_one_checkpoint_and_reloads_instead_of_retraining(motion_run, capsys):
    (ckpt,) = motion_run.glob('motion-*.safetensors')
    before = ckpt.stat().st_mtime_ns
    code, out, err = run(capsys, 'mocogan-train', '--out', motion_run, '--preset', 'ci', '--steps', '2')
    assert code == 0 and str(ckpt) in out
    assert ckpt.stat().st_mtime_ns == before  # finished run: loaded, not retrained


def test_mocogan_sample_writes_unrolled_interpolated_gifs(motion_run, tmp_path, capsys):
    code, out, err = run(capsys, 'mocogan-sample', motion_run, '--out', tmp_path, '--n', '2', '--frames', '10', '--interpolate', '2')
    assert code == 0, err
    size, ms = gif_time_ms(tmp_path / 'video_001.gif')  # PIL merges identical frames: count display time, not frames
    assert size == (32, 32) and abs(ms - 19 * 125) <= 40  # (10 - 1) * 2 + 1 frames at 8 fps
    assert not (tmp_path / 'video_002.gif').exists()


def test_mocogan_sample_is_deterministic_under_a_seed(motion_run, tmp_path, capsys):
    for name in ('a', 'b'): assert run(capsys, 'mocogan-sample', motion_run, '--out', tmp_path / name, '--n', '1', '--frames', '4')[0] == 0
    a, b = (read_video(tmp_path / n / 'video_000.gif', fps=8) for n in ('a', 'b'))
    assert (a == b).all()


def test_mocogan_sample_needs_no_training_and_same_start_shares_the_first_frame(tmp_path, capsys):
    code, out, err = run(capsys, 'mocogan-sample', '--out', tmp_path / 'v', '--n', '3', '--frames', '12', '--same-start', '--seed', '2')
    assert code == 0, err
    videos = [read_video(tmp_path / 'v' / f'video_{i:03d}.gif', fps=8).astype(float) for i in range(3)]   # (T, H, W, 3) each
    assert all(len(v) == 12 for v in videos) and not (tmp_path / 'v' / 'video_003.gif').exists()
    first = [v[0] for v in videos]; last = [v[-1] for v in videos]
    assert max(abs(f - first[0]).mean() for f in first) < 1.0                      # one content code: the same first frame
    assert min(abs(last[i] - last[j]).mean() for i in range(3) for j in range(i + 1, 3)) > 2.0   # each its own motion
    code, out, err = run(capsys, 'mocogan-sample', '--out', tmp_path / 'w', '--n', '3', '--frames', '4', '--seed', '2')
    firsts = [read_video(tmp_path / 'w' / f'video_{i:03d}.gif', fps=8)[0].astype(float) for i in range(3)]
    assert abs(firsts[0] - firsts[1]).mean() > 2.0                                   # without it: other content codes


def test_mocogan_errors_are_one_line(motion_run, tmp_path, capsys):
    code, out, err = run(capsys, 'mocogan-sample', tmp_path / 'missing', '--out', tmp_path / 's')
    one_error_line(code, err); assert 'missing: no such folder' in err
    code, out, err = run(capsys, 'mocogan-sample', tmp_path, '--out', tmp_path / 's')  # a folder without a checkpoint
    one_error_line(code, err); assert 'found 0' in err
    code, out, err = run(capsys, 'mocogan-train', '--out', tmp_path / 'r', '--preset', 'ci', '--image-generator', tmp_path / 'none.safetensors')
    one_error_line(code, err); assert 'none.safetensors: no such file' in err
    # an image generator other than the one it was trained on is refused
    from singan_gif_lib.stylegan import load_stylegan, save_stylegan
    G = load_stylegan(32)
    with torch.no_grad():
        for p in G.parameters(): p.add_(0.01)
    other = save_stylegan(G, tmp_path / 'other.safetensors')
    code, out, err = run(capsys, 'mocogan-sample', motion_run, '--out', tmp_path / 's', '--image-generator', other)
    one_error_line(code, err); assert 'another image generator' in err
    assert not (tmp_path / 's').exists()


@pytest.fixture(scope='module')
def cinn_run(tmp_path_factory):
    "The three cINN stages at the ci preset (16 px, a few steps each)."
    d = tmp_path_factory.mktemp('cinn')
    assert cli.main(['cinn-train', '--out', str(d), '--preset', 'ci', '--clips', '32']) == 0
    return d


def test_cinn_train_writes_the_model_and_loads_it_the_second_time(cinn_run, capsys):
    model = cinn_run / 'model.safetensors'
    assert model.exists() and (cinn_run / 'video_ae.safetensors').exists()
    before = (cinn_run / 'video_ae.safetensors').stat().st_mtime_ns
    code, out, err = run(capsys, 'cinn-train', '--out', cinn_run, '--preset', 'ci', '--clips', '32')
    assert code == 0 and str(model) in out
    assert (cinn_run / 'video_ae.safetensors').stat().st_mtime_ns == before


def test_cinn_animate_writes_futures_side_by_side(cinn_run, tmp_path, capsys):
    from singan_gif_lib.data import sample_path
    out = tmp_path / 'futures.gif'
    code, o, err = run(capsys, 'cinn-animate', sample_path('fire'), '--model', cinn_run, '--out', out, '--n', '3', '--direction', '5')
    assert code == 0, err
    v = read_video(out)
    assert v.shape[1:] == (16, 48, 3)  # three 16x16 futures side by side
    # the seed fixes the futures; another seed changes them
    run(capsys, 'cinn-animate', sample_path('fire'), '--model', cinn_run, '--out', tmp_path / 'again.gif', '--n', '3', '--direction', '5')
    run(capsys, 'cinn-animate', sample_path('fire'), '--model', cinn_run, '--out', tmp_path / 'other.gif', '--n', '3', '--direction', '5', '--seed', '1')
    assert (read_video(tmp_path / 'again.gif') == v).all()
    assert not (read_video(tmp_path / 'other.gif') == v).all()


def test_cinn_animate_uses_the_shipped_model_by_default(tmp_path, capsys):
    from singan_gif_lib.data import sample_path
    code, o, err = run(capsys, 'cinn-animate', sample_path('clouds'), '--out', tmp_path / 'a.gif', '--n', '2', '--direction', '0', '--mode', 'deterministic')
    assert code == 0, err
    assert read_video(tmp_path / 'a.gif').shape[1:] == (32, 64, 3)


def test_cinn_animate_moves_unseen_stills_where_it_is_told(tmp_path, capsys):
    "The shipped model on sky stills it never saw: each of the 8 direction bins, the motion measured by phase correlation."
    import imageio.v3 as iio
    from singan_gif_lib.data import SkyTimelapse, measured_direction
    sky = SkyTimelapse(n_clips=3, n_frames=8, size=(32, 32), seed=3)
    hits = []
    for i in range(3):
        still = tmp_path / f'still{i}.png'; iio.imwrite(still, sky.render(i)[0])
        for k in range(8):
            out = tmp_path / f'{i}_{k}.gif'
            code, _, _ = run(capsys, 'cinn-animate', still, '--out', out, '--direction', str(k), '--n', '1', '--seed', str(i))
            assert code == 0
            hits.append(measured_direction(iio.imread(out)[..., :3], sky.params(i)['sky_rows']) == k)
    assert sum(hits) / len(hits) >= 0.5, hits          # chance: 1/8


def test_cinn_errors_are_one_line(cinn_run, tmp_path, capsys):
    from singan_gif_lib.data import sample_path
    gif = sample_path('clouds')
    for argv, msg in [((gif, '--model', cinn_run, '--out', tmp_path / 'a.gif'), 'pass --direction 0..7'),
                      ((gif, '--model', cinn_run, '--out', tmp_path / 'a.gif', '--direction', '8'), 'must be in 0..7'),
                      ((gif, '--model', tmp_path / 'nope', '--out', tmp_path / 'a.gif', '--direction', '0'), 'nope: no such folder or file'),
                      ((tmp_path / 'missing.png', '--model', cinn_run, '--out', tmp_path / 'a.gif', '--direction', '0'), 'missing.png: no such file'),
                      ((gif, '--model', tmp_path, '--out', tmp_path / 'a.gif', '--direction', '0'), 'model.safetensors')]:
        code, out, err = run(capsys, 'cinn-animate', *argv)
        one_error_line(code, err); assert msg in err, err
    assert not (tmp_path / 'a.gif').exists()


def test_mocogan_sample_defaults_to_the_training_length_and_takes_a_file(motion_run, tmp_path, capsys):
    (ckpt,) = motion_run.glob('motion-*.safetensors')
    code, out, err = run(capsys, 'mocogan-sample', ckpt, '--out', tmp_path / 'v', '--n', '1')
    assert code == 0, err
    assert '(6 frames,' in out  # the ci preset trains on 6-frame clips
    two = tmp_path / 'two'; two.mkdir()
    for stem in ('motion-a', 'motion-b'):
        shutil.copy(ckpt, two / f'{stem}.safetensors'); shutil.copy(ckpt.with_suffix('.json'), two / f'{stem}.json')
    code, out, err = run(capsys, 'mocogan-sample', two, '--out', tmp_path / 's')
    one_error_line(code, err); assert 'found 2 (motion-a.safetensors, motion-b.safetensors); pass one file' in err

def test_mocogan_sample_cross_domain_walks_the_clouds_generator_with_sky_motion(tmp_path, capsys):
    "The shipped cross-domain pair (Sec. 4.2): frames of the clouds-texture generator, moving."
    code, out, err = run(capsys, 'mocogan-sample', '--cross-domain', '--out', tmp_path / 'x', '--n', '2', '--frames', '8', '--seed', '1')
    assert code == 0, err
    v = read_video(tmp_path / 'x' / 'video_000.gif', fps=8).astype(float)          # (8, 32, 32, 3)
    assert v.shape == (8, 32, 32, 3)
    assert v[..., 2].mean() > v[..., 0].mean()                                      # the clouds texture: blue sky, white clouds
    assert abs(v[1:] - v[:-1]).mean() > 0.5                                          # it moves
    code, out, err = run(capsys, 'mocogan-sample', tmp_path, '--cross-domain', '--out', tmp_path / 'y')
    one_error_line(code, err); assert 'give no DIR' in err
