"Tests of the singan-gif command line: subcommands, exit codes and one-line errors."
import json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pytest

import singan_gif_lib.cli as cli
from cli_helpers import run
from singan_gif_lib.core import SinganGifError
from singan_gif_lib.video import read_video, write_video

ROOT = Path(__file__).resolve().parents[1]



@pytest.fixture
def gif(tmp_path):
    frames = np.stack([np.full((24, 32, 3), 20 * k, np.uint8) for k in range(12)])
    return write_video(tmp_path / 'ramp.gif', frames, fps=12)


def test_help_lists_commands(capsys):
    code, out, err = run(capsys, '--help')
    assert code == 0
    for name in ('info', 'convert', 'make-data'): assert name in out


def test_version(capsys):
    code, out, _ = run(capsys, '--version')
    assert code == 0 and out.startswith('singan-gif ')


def test_info(capsys, gif):
    code, out, err = run(capsys, 'info', gif)
    assert code == 0 and err == ''
    assert out == f'{gif}: 12 frames, 32x24 (WxH), 12.00 fps, 1.00 s\n'


def test_info_json_several_files(capsys, gif, tmp_path):
    mp4 = write_video(tmp_path / 'b.mp4', np.zeros((3, 8, 10, 3), np.uint8), fps=5)
    code, out, _ = run(capsys, 'info', '--json', gif, mp4)
    a, b = [json.loads(l) for l in out.splitlines()]
    assert code == 0 and (a['frames'], a['width'], a['height']) == (12, 32, 24)
    assert (b['frames'], b['width'], b['height'], b['fps'], b['duration']) == (3, 10, 8, 5.0, 0.6)


def test_convert_with_options(capsys, gif, tmp_path):
    out_path = tmp_path / 'sub' / 'small.mp4'
    code, out, err = run(capsys, 'convert', gif, out_path, '--max-size', '16', '--fps', '6', '--max-frames', '4')
    assert code == 0 and err == '' and str(out_path) in out
    v = read_video(out_path)
    assert v.shape == (4, 12, 16, 3) and v.fps == 6.0
    assert v[:, 0, 0, 0].astype(int).tolist() == pytest.approx([0, 40, 80, 120], abs=4)  # every other frame


def test_convert_folder_fps(capsys, gif, tmp_path):
    from PIL import Image
    d = tmp_path / 'frames'; d.mkdir()
    for k, f in enumerate(read_video(gif)): Image.fromarray(f).save(d / f'{k}.png')
    code, _, _ = run(capsys, 'convert', d, tmp_path / 'f.gif', '--fps', '4')
    v = read_video(tmp_path / 'f.gif')
    assert code == 0 and len(v) == 12 and v.fps == 4.0


@pytest.mark.parametrize('argv', [['convert', 'a.gif', 'b.gif', '--max-size', '0'], ['convert', 'a.gif', 'b.gif', '--fps', 'nan'],
                                  ['convert', 'a.gif', 'b.gif', '--max-frames', 'x'], ['nope'], [], ['info']])
def test_usage_errors_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and 'usage: singan-gif' in err


def test_missing_file_one_line(capsys, tmp_path):
    code, out, err = run(capsys, 'info', tmp_path / 'missing.gif')
    assert code == 2 and out == ''
    assert err == f'singan-gif: error: {tmp_path / "missing.gif"}: no such file or folder\n'


def test_corrupt_input_leaves_no_output(capsys, tmp_path, gif):
    bad = tmp_path / 'half.gif'
    bad.write_bytes(gif.read_bytes()[: gif.stat().st_size // 2])
    code, _, err = run(capsys, 'convert', bad, tmp_path / 'out.mp4')
    assert code == 2 and err.count('\n') == 1 and 'truncated' in err
    assert not (tmp_path / 'out.mp4').exists()


def test_bad_output_extension(capsys, gif, tmp_path):
    code, _, err = run(capsys, 'convert', gif, tmp_path / 'out.avi')
    assert code == 2 and "unsupported output extension '.avi'" in err and not (tmp_path / 'out.avi').exists()


def test_multiline_error_becomes_one_line(capsys, monkeypatch):
    def boom(args): raise SinganGifError('first line\nsecond line')
    monkeypatch.setitem(cli.SUBCOMMANDS, 'boom', cli.Subcommand('boom', 'fails', lambda p: None, boom))
    code, _, err = run(capsys, 'boom')
    assert code == 2 and err == 'singan-gif: error: first line second line\n'


def test_keyboard_interrupt_exits_130(capsys, monkeypatch):
    def stop(args): raise KeyboardInterrupt
    monkeypatch.setitem(cli.SUBCOMMANDS, 'stop', cli.Subcommand('stop', 'interrupted', lambda p: None, stop))
    code, _, err = run(capsys, 'stop')
    assert code == 130 and 'interrupted' in err


def test_other_exceptions_are_not_swallowed(capsys, monkeypatch):
    def bug(args): raise ZeroDivisionError('a bug')
    monkeypatch.setitem(cli.SUBCOMMANDS, 'bug', cli.Subcommand('bug', 'bug', lambda p: None, bug))
    with pytest.raises(ZeroDivisionError): cli.main(['bug'])


def test_subcommand_decorator_registers(capsys, monkeypatch):
    monkeypatch.setattr(cli, 'SUBCOMMANDS', dict(cli.SUBCOMMANDS))
    @cli.subcommand('hello', 'Say hello.', lambda p: p.add_argument('--name', default='world'))
    def hello(args):
        print(f'hello {args.name}')
        return 3
    assert cli.SUBCOMMANDS['hello'].run is hello
    assert run(capsys, 'hello', '--name', 'gif') == (3, 'hello gif\n', '')
    assert 'Say hello.' in run(capsys, '--help')[1]


def test_make_data_calls_write_sample_data(capsys, monkeypatch, tmp_path):
    calls = []
    def fake(out_dir, include_bunny=True):
        calls.append((Path(out_dir), include_bunny))
        return [Path(out_dir) / 'a.gif']
    monkeypatch.setattr(cli, 'write_sample_data', fake)   # the name the CLI imported
    code, out, _ = run(capsys, 'make-data', '--out', tmp_path, '--no-bunny')
    assert code == 0 and calls == [(tmp_path, False)] and out == f'{tmp_path / "a.gif"}\n'
    run(capsys, 'make-data')
    assert calls[-1] == (Path('data'), True)


def _subprocess(*argv):
    env = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}
    return subprocess.run([sys.executable, '-m', 'singan_gif_lib.cli', *map(str, argv)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_subprocess_missing_and_corrupt(tmp_path, gif):
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(write_video(tmp_path / 'ok.mp4', np.zeros((4, 8, 8, 3), np.uint8)).read_bytes()[:300])
    r = _subprocess('info', tmp_path / 'missing.gif', bad)
    assert r.returncode == 2 and r.stdout == ''
    assert r.stderr == f'singan-gif: error: {tmp_path / "missing.gif"}: no such file or folder\n'
    r = _subprocess('convert', bad, tmp_path / 'out.gif')
    assert r.returncode == 2 and 'Traceback' not in r.stderr and r.stderr.count('\n') == 1
    assert r.stderr.startswith(f'singan-gif: error: {bad}: ') and not (tmp_path / 'out.gif').exists()


def test_broken_pipe_exits_quietly(capsys, monkeypatch):
    def pipe(args): raise BrokenPipeError
    monkeypatch.setitem(cli.SUBCOMMANDS, 'pipe', cli.Subcommand('pipe', 'closed pipe', lambda p: None, pipe))
    code, _, err = run(capsys, 'pipe')
    assert code == 141 and err == ''


def test_module_entry_point_knows_every_subcommand():
    "`python -m singan_gif_lib.cli` registers every subcommand before it runs `main` (the guard comes last)."
    r = _subprocess('--help')
    assert r.returncode == 0
    missing = [name for name in cli.SUBCOMMANDS if name != 'hello' and name not in r.stdout]
    assert not missing, f'python -m singan_gif_lib.cli --help lacks {missing}'
    r = _subprocess('grade', '--help')
    assert r.returncode == 0 and 'NOTEBOOK' in r.stdout
