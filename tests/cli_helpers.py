"Helpers shared by the command-line tests: run `singan-gif` in-process, check a one-line error, time a GIF."
from PIL import Image

import singan_gif_lib.cli as cli


def run(capsys, *argv):
    "Run `singan-gif ARGV...` in this process: (exit code, stdout, stderr)."
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code, err):
    "A library error: exit code 2 and exactly one `singan-gif: error: ...` line, no traceback."
    assert code == 2, err
    assert err.startswith('singan-gif: error: ') and err.count('\n') == 1 and 'Traceback' not in err


def gif_time_ms(path):
    "Size and total display time of a GIF (PIL merges identical consecutive frames, so time counts frames reliably)."
    with Image.open(path) as im:
        return im.size, sum(im.seek(k) or im.info['duration'] for k in range(im.n_frames))
