"""Make README.md from nbs/index.ipynb (nbdev_readme needs quarto, which cannot be installed here).

`python scripts/make_readme.py` writes README.md; `--check` fails if README.md is out of date.
"""
import argparse, sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, then run `make readme`. -->\n\n"


def render() -> str:
    nb = nbformat.read(ROOT / "nbs" / "index.ipynb", as_version=4)
    keep = []
    for c in nb.cells:
        src = c.source.lstrip()
        if c.cell_type == "code" and (src.startswith("#| hide") or src.startswith("#|hide")):
            continue  # hidden cells (Colab install, imports) are not part of the page
        if c.cell_type == "code":
            c.source = "\n".join(l for l in c.source.splitlines() if not l.startswith("#|"))
            c.outputs = [o for o in c.outputs if o.get("output_type") == "stream"]
        keep.append(c)
    nb.cells = keep
    body, _ = MarkdownExporter().from_notebook_node(nb)
    return HEADER + body.strip() + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="fail if README.md differs from what the notebook gives")
    args = ap.parse_args()
    text, readme = render(), ROOT / "README.md"
    if args.check:
        if not readme.exists() or readme.read_text() != text:
            print("FAIL: README.md is out of sync with nbs/index.ipynb: run `make readme` and commit it")
            return 1
        print("ok: README.md in sync with nbs/index.ipynb")
        return 0
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(readme)
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
