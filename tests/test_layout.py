"""The package's layering: every module imports only modules of notebooks with smaller numbers, no paper module imports
another paper's, and package imports sit at the top of a module (none inside functions)."""
import ast, re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / 'singan_gif_lib'
SHARED = {'core', 'video', 'show', 'data', 'losses', 'metrics', 'layers'}        # the 0x block: foundations every paper may use
PAPER_OF = {'singan_gif': 'singan_gif', 'bench': 'singan_gif', 'ivgan': 'ivgan', 'stylegan': 'stylegan', 'mocogan_hd': 'mocogan_hd',
            'cinn': 'cinn', 'video_ae': 'cinn', 'style_dvdgan': 'style_dvdgan'}                               # module -> paper (bench times SinGAN-GIF; video_ae and cinn are one paper)


def modules() -> dict[str, tuple[int, ast.Module]]:
    out = {}
    for p in sorted(PKG.glob('*.py')):
        if p.name.startswith('_'): continue
        text = p.read_text()
        m = re.search(r'File to edit: \.\./nbs/(\d+)_\w+\.ipynb', text)
        assert m, f'{p.name}: not generated from a notebook'
        out[p.stem] = (int(m.group(1)), ast.parse(text))
    return out


def package_imports(tree: ast.Module):
    "(imported module, node, at top level) for every import of a singan_gif_lib module."
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: names = [node.module] if node.module else [a.name for a in node.names]
            elif node.module == 'singan_gif_lib': names = [a.name for a in node.names]
            elif node.module and node.module.startswith('singan_gif_lib.'): names = [node.module.split('.')[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split('.')[1] for a in node.names if a.name.startswith('singan_gif_lib.')]
        for n in names:
            if n != '__version__': yield n, node, id(node) in top


def test_imports_go_down_and_stay_at_the_top():
    mods = modules()
    assert {'core', 'layers', 'cli', 'singan_gif'} <= set(mods)
    for name, (num, tree) in mods.items():
        for dep, node, at_top in package_imports(tree):
            assert dep in mods, (name, dep)
            assert mods[dep][0] < num or dep == name, f'{name} (notebook {num:02d}) imports {dep} (notebook {mods[dep][0]:02d})'
            assert at_top, f'{name}.py line {node.lineno}: import of {dep} inside a function'


def test_no_paper_module_imports_another_paper():
    mods = modules()
    for name, (_, tree) in mods.items():
        if name not in PAPER_OF: continue
        for dep, node, _ in package_imports(tree):
            assert dep in SHARED or PAPER_OF.get(dep) == PAPER_OF[name], f'{name}.py line {node.lineno} imports the paper module {dep}'


def test_notebook_numbers_follow_blocks():
    mods = modules()
    for name in SHARED: assert mods[name][0] < 10, name
    assert mods['cli'][0] > max(n for k, (n, _) in mods.items() if k != 'cli')
