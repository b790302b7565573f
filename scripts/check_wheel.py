"""Check the package as a user gets it: build the wheel, install it (not editable) into a fresh venv, and from a folder
outside the repository check `singan-gif --version`, the shipped weights and sample clips, then run every training
notebook under papermill at `ci` with that venv's kernel (what Colab's install cell gives).

The fresh venv takes its dependencies from the project's .venv (a path entry, so the editable install there stays
inactive) instead of downloading them again. Usage: python scripts/check_wheel.py [--preset ci] [--no-notebooks]
"""
import argparse, json, os, shutil, subprocess, sys, sysconfig, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list, **kw) -> str:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode: raise SystemExit(f"FAIL: {' '.join(map(str, cmd))}\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='ci')
    ap.add_argument('--no-notebooks', action='store_true', help='only the install checks')
    ap.add_argument('--all', action='store_true', help='also run every model notebook top to bottom (as in Colab)')
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix='wheelcheck-'))
    try:
        wheels = work / 'wheels'
        run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', wheels, ROOT])
        whl = next(wheels.glob('singan_gif_lib-*.whl'))
        venv = work / 'venv'
        run([sys.executable, '-m', 'venv', venv])
        py = venv / 'bin' / 'python'
        site = Path(run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']))
        (site / '_project_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')   # dependencies of .venv
        run([py, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', whl])
        outside = work / 'user'; outside.mkdir()
        info = json.loads(run([py, '-c', '''
import json, singan_gif_lib
from singan_gif_lib.core import ASSETS
from singan_gif_lib.data import sample_path
print(json.dumps({"version": singan_gif_lib.__version__, "file": singan_gif_lib.__file__,
                  "assets": sorted(p.name for p in ASSETS.glob("*.safetensors")), "water": str(sample_path("water")), "bunny": str(sample_path("bunny"))}))'''], cwd=outside))
        version = run([venv / 'bin' / 'singan-gif', '--version'], cwd=outside)
        meta = run([py, '-m', 'pip', 'show', 'singan_gif_lib'], cwd=outside)
        problems = []
        if not info['file'].startswith(str(venv)): problems.append(f"singan_gif_lib imported from {info['file']}, not the wheel")
        if info['version'] not in version: problems.append(f"singan-gif --version says {version!r}, the package {info['version']}")
        if f"Version: {info['version']}" not in meta: problems.append(f"the wheel's metadata does not carry version {info['version']}")
        if 'Summary: Learn video GANs' not in meta: problems.append("the wheel's metadata has no description")
        for w in ('frame_features.safetensors', 'video_features.safetensors', 'stylegan_sky32.safetensors', 'cinn_sky32_model.safetensors',
                  'style_dvdgan_sky32.safetensors', 'mocogan_sky32.safetensors'):
            if w not in info['assets']: problems.append(f'the wheel lacks assets/{w}')
        for k in ('water', 'bunny'):
            if not Path(info[k]).exists(): problems.append(f'sample_path({k!r}) gave no file outside the repository')
        print(f"wheel {whl.name}: version {info['version']}, {len(info['assets'])} shipped weights, sample clips from {Path(info['water']).parent}")
        if problems:
            print('\n'.join(['FAIL:'] + problems)); return 1
        if a.no_notebooks: return 0
        run([py, '-m', 'ipykernel', 'install', '--prefix', venv, '--name', 'singan-wheel', '--display-name', 'singan_gif_lib wheel'])
        env = {**os.environ, 'JUPYTER_PATH': str(venv / 'share' / 'jupyter')}
        r = subprocess.run([sys.executable, ROOT / 'scripts' / 'run_notebooks.py', '--preset', a.preset, '--out', work / 'executed',
                            '--kernel', 'singan-wheel', '--cwd', outside] + (['--all'] if a.all else []), env=env)
        return r.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
