"Tests of the SinGAN-GIF subcommands of the command line: train, sample, animate, upscale, and their one-line errors."
import json, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import singan_gif_lib.cli as cli
from cli_helpers import run, one_error_line, gif_time_ms
import singan_gif_lib.singan_gif as sg
from singan_gif_lib.data import sample_path
from singan_gif_lib.video import read_video, write_video

ROOT = Path(__file__).resolve().parents[1]
TINY = ['--preset', 'ci', '--max-size', '34', '--frames', '4', '--iters', '3']  # 2 scales (25x33, 26x34), seconds





@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A tiny trained run folder (shared by the tests that only read it)."
    d = tmp_path_factory.mktemp('run') / 'clouds'
    assert cli.main(['train', str(sample_path('clouds')), '--out', str(d), *TINY]) == 0
    return d


def test_help_lists_singan_commands(capsys):
    code, out, _ = run(capsys, '--help')
    assert code == 0
    for name in ('train', 'sample', 'animate', 'upscale'): assert name in out


def test_train_config_from_flags():
    args = cli.build_parser().parse_args(['train', 'x.gif', '--out', 'o', '--preset', 'ci', '--iters', '7', '--mode', 'singan_all_frames'])
    cfg = cli.train_config(args)
    assert (cfg.iters, cfg.mode, cfg.max_size, cfg.nfc) == (7, 'singan_all_frames', 40, 16)  # flags over the ci preset
    assert cli.train_config(cli.build_parser().parse_args(['train', 'x.gif', '--out', 'o'])) == sg.SinGANGIFConfig.from_preset('small')  # default: small


def test_train_presets_are_the_configs():
    assert set(cli.TRAIN_PRESETS) == set(sg.SinGANGIFConfig.PRESETS)


def test_train_writes_checkpoint_and_gifs(trained, capsys):
    for f in ('singan_gif.safetensors', 'singan_gif.json', 'real.gif', 'reconstruction.gif'): assert (trained / f).exists()
    real = read_video(trained / 'real.gif')
    assert real.shape == (4, 26, 34, 3) and real.fps == 10.0
    size, ms = gif_time_ms(trained / 'reconstruction.gif')
    assert size == (34, 26) and ms == pytest.approx(400, abs=30)
    model = sg.load_singan_gif(trained)
    assert model.n_scales == 2 and model.cfg.iters == 3 and model.cfg.max_frames == 4


def test_sample_counts_sizes_and_seed(trained, tmp_path, capsys):
    code, out, err = run(capsys, 'sample', trained, '--out', tmp_path / 's', '--n', '3', '--frames', '8',
                         '--height-scale', '1.5', '--width-scale', '2')
    assert code == 0 and err == '' and 'sample_000.gif' in out
    files = sorted((tmp_path / 's').glob('*.gif'))
    assert [f.name for f in files] == ['sample_000.gif', 'sample_001.gif', 'sample_002.gif']
    size, ms = gif_time_ms(files[0])
    assert size == (68, 39) and ms == pytest.approx(800, abs=30)      # 8 frames at 10 fps, 26*1.5 x 34*2
    run(capsys, 'sample', trained, '--out', tmp_path / 't', '--n', '1', '--seed', '5')
    run(capsys, 'sample', trained, '--out', tmp_path / 'u', '--n', '1', '--seed', '5')
    run(capsys, 'sample', trained, '--out', tmp_path / 'v', '--n', '1', '--seed', '6')
    a, b, c = (np.asarray(Image.open(tmp_path / d / 'sample_000.gif').convert('RGB')) for d in 'tuv')
    assert (a == b).all()                                                             # same seed, same GIF
    m = sg.load_singan_gif(trained)                                                   # 3 iterations: nearly flat, so compare floats
    assert not np.allclose(m.sample(1, seed=5).numpy(), m.sample(1, seed=6).numpy(), atol=1e-7)


def test_resume_continues_interrupted_run(tmp_path, capsys, monkeypatch):
    d = tmp_path / 'r'
    real_train_scale = sg.train_scale
    def stop_at_scale_1(model, n, *a, **k):
        if n == 1: raise KeyboardInterrupt
        return real_train_scale(model, n, *a, **k)
    monkeypatch.setattr(sg, 'train_scale', stop_at_scale_1)
    code, _, err = run(capsys, 'train', sample_path('clouds'), '--out', d, *TINY)
    assert code == 130 and not (d / 'real.gif').exists()
    assert json.loads((d / 'singan_gif.json').read_text())['n_done'] == 1
    code, _, err = run(capsys, 'sample', d, '--out', tmp_path / 's')                 # unfinished: a clear error
    one_error_line(code, err); assert '1 of 2 scales' in err
    monkeypatch.setattr(sg, 'train_scale', real_train_scale)
    code, out, err = run(capsys, 'train', sample_path('clouds'), '--out', d, *TINY, '--resume')
    assert code == 0 and 'reconstruction.gif' in out
    assert json.loads((d / 'singan_gif.json').read_text())['n_done'] == 2


def test_resume_with_other_config_is_an_error(trained, capsys):
    before = (trained / 'singan_gif.safetensors').read_bytes()
    code, _, err = run(capsys, 'train', sample_path('clouds'), '--out', trained, *TINY[:-1], '5', '--resume')
    one_error_line(code, err)
    assert 'another config' in err and 'singan_gif.safetensors' in err
    assert (trained / 'singan_gif.safetensors').read_bytes() == before                # untouched


def test_missing_and_corrupt_input(tmp_path, capsys):
    code, _, err = run(capsys, 'train', tmp_path / 'missing.gif', '--out', tmp_path / 'o', '--preset', 'ci')
    one_error_line(code, err); assert 'missing.gif' in err
    bad = tmp_path / 'bad.gif'; bad.write_bytes(b'GIF89a this is not a gif')
    code, _, err = run(capsys, 'train', bad, '--out', tmp_path / 'o', '--preset', 'ci')
    one_error_line(code, err); assert 'bad.gif' in err
    assert not (tmp_path / 'o' / 'real.gif').exists()


def test_too_small_gif_says_the_size_needed(tmp_path, capsys):
    small = write_video(tmp_path / 'small.gif', np.random.default_rng(0).integers(0, 255, (4, 20, 30, 3), np.uint8))
    code, _, err = run(capsys, 'train', small, '--out', tmp_path / 'o', '--preset', 'ci')
    one_error_line(code, err)
    assert 'small.gif' in err and 'at least 25x38' in err
    assert not (tmp_path / 'o' / 'singan_gif.safetensors').exists()


def test_missing_corrupt_and_foreign_checkpoints(trained, tmp_path, capsys):
    code, _, err = run(capsys, 'sample', tmp_path / 'nothing', '--out', tmp_path / 's')
    one_error_line(code, err); assert 'nothing' in err
    d = tmp_path / 'corrupt'; d.mkdir()
    (d / 'singan_gif.safetensors').write_bytes(b'\x00' * 10); (d / 'singan_gif.json').write_text('{}')
    code, _, err = run(capsys, 'sample', d, '--out', tmp_path / 's')
    one_error_line(code, err); assert 'corrupt' in err
    d = tmp_path / 'foreign'; d.mkdir()
    (d / 'singan_gif.safetensors').write_bytes((trained / 'singan_gif.safetensors').read_bytes())
    meta = json.loads((trained / 'singan_gif.json').read_text()); meta['kind'] = 'ivgan'
    (d / 'singan_gif.json').write_text(json.dumps(meta))
    code, _, err = run(capsys, 'animate', d, sample_path('water'), '--out', tmp_path / 'a.gif')
    one_error_line(code, err); assert 'not a SinGAN-GIF checkpoint' in err
    assert not (tmp_path / 's').exists() and not (tmp_path / 'a.gif').exists()


def test_animate_and_upscale(trained, tmp_path, capsys):
    png = tmp_path / 'still.png'
    Image.fromarray(read_video(sample_path('fire'))[0]).save(png)
    code, out, err = run(capsys, 'animate', trained, png, '--out', tmp_path / 'a.gif', '--frames', '5')
    assert code == 0 and err == ''
    size, ms = gif_time_ms(tmp_path / 'a.gif'); assert size == (34, 26) and ms == pytest.approx(500, abs=30)
    code, out, err = run(capsys, 'upscale', trained, '--out', tmp_path / 'u.gif', '--factor', '2')
    assert code == 0 and err == ''
    assert read_video(tmp_path / 'u.gif').shape[1:] == (52, 68, 3)
    bad = tmp_path / 'bad.png'; bad.write_bytes(b'not a png')
    code, _, err = run(capsys, 'animate', trained, bad, '--out', tmp_path / 'b.gif')
    one_error_line(code, err); assert 'bad.png' in err and not (tmp_path / 'b.gif').exists()


def test_subprocess_error_exit_code(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'singan_gif_lib.cli', 'sample', str(tmp_path / 'none'), '--out', str(tmp_path / 's')],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and r.stdout == ''
    assert r.stderr.startswith('singan-gif: error: ') and r.stderr.count('\n') == 1 and 'none' in r.stderr


def test_one_scale_model_cannot_upscale_or_animate(tmp_path, capsys):
    d = tmp_path / 'one'
    assert run(capsys, 'train', sample_path('water'), '--out', d, '--preset', 'ci', '--max-size', '33', '--frames', '2', '--iters', '2')[0] == 0
    assert sg.load_singan_gif(d).n_scales == 1                                   # 25x33: the coarsest scale is the finest
    code, _, err = run(capsys, 'upscale', d, '--out', tmp_path / 'u.gif')
    one_error_line(code, err); assert 'at least 2 scales' in err and not (tmp_path / 'u.gif').exists()
    code, _, err = run(capsys, 'animate', d, sample_path('water'), '--out', tmp_path / 'a.gif')
    one_error_line(code, err); assert 'at least 2 scales' in err
