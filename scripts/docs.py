"""The documentation site, offline: nbdev's processing of every notebook, an HTML build, and a check in a real browser.

  python scripts/docs.py proc     # nbdev's docs processing (the processors and show_doc execution `nbdev_docs` runs
                                  # before quarto) of every notebook into _proc/; fails on the first notebook that breaks
  python scripts/docs.py build    # _proc/ -> _docs/*.html with nbconvert: a sidebar linking every page, local MathJax
  python scripts/docs.py check    # every page of _docs/ in headless Chromium (playwright); screenshots in _docs/_check/

Quarto is not installed here (the deploy workflow's `nbdev_docs` stays the publishing path); `build` renders the same
processed notebooks with nbconvert so that what a reader sees can be checked: every page loads, every image and
video has a size, no JavaScript error, no Python traceback or error text in an output, no widget without saved
state, every equation typeset by MathJax.
"""
import argparse, html, json, os, re, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC, DOCS = ROOT / 'nbs', ROOT / '_proc', ROOT / '_docs'
WIDGET_VIEW, WIDGET_STATE = 'application/vnd.jupyter.widget-view+json', 'application/vnd.jupyter.widget-state+json'


def notebooks(folder: Path) -> list[Path]:
    "The site's notebooks in sidebar order: index first, then by number."
    nbs = sorted(p for p in folder.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.name))


def proc(n_workers: int) -> int:
    "nbdev's processing of every notebook (FilterDefaults: frontmatter, show_doc execution, hidden cells...) into _proc/."
    os.chdir(ROOT)
    from nbdev.serve import proc_nbs
    shutil.rmtree(PROC, ignore_errors=True)
    t0 = time.time()
    try: proc_nbs(str(NBS), n_workers=n_workers, force=True)
    except Exception as e:
        print(f'FAIL: nbdev docs processing: {type(e).__name__}: {e}', file=sys.stderr); return 1
    done = {p.name for p in PROC.glob('*.ipynb')}
    missing = [p.name for p in notebooks(NBS) if p.name not in done]
    if missing:
        print(f'FAIL: nbdev docs processing wrote no page for {", ".join(missing)}', file=sys.stderr); return 1
    print(f'ok: nbdev processed {len(done)} notebooks into {PROC.relative_to(ROOT)}/ in {time.time() - t0:.0f} s')
    return 0


# ---------------------------------------------------------------------------------------------------------------
def _directives(src: str) -> tuple[dict, str]:
    "Quarto cell options (`#| key: value` lines at the top) and the source without them."
    d, lines = {}, src.split('\n')
    while lines and lines[0].startswith('#|'):
        m = re.match(r'#\|\s*([\w-]+)\s*:?\s*(.*)', lines.pop(0))
        if m: d[m.group(1)] = m.group(2).strip()
    return d, '\n'.join(lines)


def _frontmatter(nb: dict) -> dict:
    "The YAML frontmatter nbdev's processing puts in the first raw cell (title, description...), as a dict."
    import yaml
    for c in nb['cells'][:2]:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and src.startswith('---'):
            c['source'] = ''
            return yaml.safe_load(src.strip().strip('-')) or {}
    return {}


# show_doc's "[source](url){target=... style=...}" is quarto's link-attribute syntax: plain HTML here
_SOURCE_LINK = re.compile(r'\[source\]\(([^)]+)\)\{target="_blank" style="([^"]*)"\}')
def _source_links(text: str) -> str:
    return _SOURCE_LINK.sub(lambda m: f'<a href="{m.group(1)}" target="_blank" style="{m.group(2)}">source</a>', text)


def prepare(nb: dict) -> dict:
    "Apply what quarto would: frontmatter -> title, `echo: false` hides inputs, `output: false` hides outputs."
    meta = _frontmatter(nb)
    cells = []
    if meta.get('title'):
        head = f"# {meta['title']}" + (f"\n\n> {meta['description']}" if meta.get('description') else '')
        cells.append({'cell_type': 'markdown', 'id': 'site-title', 'metadata': {}, 'source': head})
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and not src.strip(): continue
        if c['cell_type'] == 'markdown': c['source'] = _source_links(src)
        for o in c.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if md is not None: o['data']['text/markdown'] = _source_links(''.join(md))
        if c['cell_type'] == 'code':
            d, body = _directives(src)
            c['source'] = body
            if d.get('echo') == 'false' or not body.strip(): c.setdefault('metadata', {})['tags'] = ['remove_input']
            if d.get('output') == 'false': c['outputs'] = []
            if not body.strip() and not c.get('outputs'): continue
        cells.append(c)
    nb['cells'] = cells
    return nb


COLAB_BADGE_URL = 'https://colab.research.google.com/assets/colab-badge.svg'
COLAB_BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">
<rect width="117" height="20" rx="3" fill="#555"/><rect x="40" width="77" height="20" rx="3" fill="#f9ab00"/>
<g fill="#fff" font-family="Verdana,sans-serif" font-size="11"><text x="6" y="14">Open</text><text x="45" y="14">in Colab</text></g></svg>
"""

MATHJAX = Path(os.environ.get('MATHJAX_DIR', '/usr/share/javascript/mathjax'))    # Debian's libjs-mathjax (2.7)
MATHJAX_PARTS = ['MathJax.js', 'config/TeX-AMS_CHTML.js', 'config/Safe.js', 'extensions', 'jax/input/TeX', 'jax/element',
                 'jax/output/CommonHTML', 'fonts/HTML-CSS/TeX/woff', 'localization/en']

SIDEBAR_CSS = """
body { margin: 0; }
#site-nav { position: fixed; top: 0; left: 0; bottom: 0; width: 230px; overflow-y: auto; padding: 12px 10px;
            background: #f6f7f9; border-right: 1px solid #ddd; font: 13px/1.5 system-ui, sans-serif; z-index: 10; }
#site-nav a { display: block; color: #234; text-decoration: none; padding: 1px 4px; border-radius: 3px; }
#site-nav a.current { background: #dde6f3; font-weight: 600; }
#site-nav .block { margin-top: 8px; color: #777; font-size: 11px; text-transform: uppercase; }
#site-main { margin-left: 250px; }
"""
BLOCKS = {'0': 'Foundations', '1': 'SinGAN-GIF', '2': 'Gradient penalties (iVGAN)', '3': 'StyleGAN and MoCoGAN-HD',
          '4': 'cINN image-to-video', '5': 'Video from a single image', '8': 'Course', '9': 'Command line'}


def _nav(pages: list[tuple[str, str]], current: str) -> str:
    out, last = ['<nav id="site-nav"><a href="index.html"><b>singan_gif_lib</b></a>'], None
    for name, title in pages:
        if name == 'index': continue
        block = BLOCKS.get(name[0], '') if name[0].isdigit() else ''
        if block != last: out.append(f'<div class="block">{html.escape(block)}</div>'); last = block
        cls = ' class="current"' if name == current else ''
        out.append(f'<a href="{name}.html"{cls}>{html.escape(title)}</a>')
    return '\n'.join(out + ['</nav>'])


def build() -> int:
    "Render every processed notebook to _docs/<name>.html with a shared sidebar and a local MathJax."
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    if not PROC.exists(): print('FAIL: no _proc/ (run `python scripts/docs.py proc` first)', file=sys.stderr); return 1
    shutil.rmtree(DOCS, ignore_errors=True); DOCS.mkdir()
    if not (MATHJAX / 'MathJax.js').exists():
        print(f'FAIL: no MathJax 2 at {MATHJAX} (Debian: apt-get install libjs-mathjax fonts-mathjax)', file=sys.stderr); return 1
    for part in MATHJAX_PARTS:                                 # what CommonHTML output of TeX needs, fonts included
        src, dst = MATHJAX / part, DOCS / 'mathjax' / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst) if src.is_dir() else shutil.copy(src, dst)
    exporter = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True, mathjax_url='mathjax/MathJax.js?config=TeX-AMS_CHTML,Safe')
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}), enabled=True)
    pages, nbs = [], {}
    for p in notebooks(PROC):
        nb = prepare(json.loads(p.read_text()))
        title = next((''.join(c['source'])[2:].split('\n')[0] for c in nb['cells'] if c['cell_type'] == 'markdown'
                      and ''.join(c['source']).startswith('# ')), p.stem)
        pages.append((p.stem, f"{p.stem[:2]} {title}" if p.stem[:2].isdigit() else title)); nbs[p.stem] = nb
    for name, title in pages:
        title = title
        body, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(nbs[name]), as_version=4),
                                              resources={'metadata': {'name': f'{title} - singan_gif_lib'}})
        body = body.replace('</head>', f'<style>{SIDEBAR_CSS}</style>\n</head>', 1)
        body = re.sub(r'<body([^>]*)>', lambda m: f'<body{m.group(1)}>\n{_nav(pages, name)}\n<div id="site-main">', body, count=1)
        body = body.replace('</body>', '</div>\n</body>', 1)
        body = re.sub(r'<script>\s*\(function\(\) \{\s*function addWidgetsRenderer\(\).*?</script>', '', body, count=1, flags=re.S)
        # offline: no require.js or widget-manager from a CDN (no page keeps widget outputs), the Colab badge from a local file
        body = re.sub(r'<script[^>]*src="https://(cdnjs\.cloudflare\.com/ajax/libs/require\.js|unpkg\.com/@jupyter-widgets)[^"]*"[^>]*>\s*</script>', '', body)
        body = body.replace(COLAB_BADGE_URL, 'colab-badge.svg')
        # links between notebooks: foo.ipynb -> foo.html
        body = re.sub(r'href="([\w./-]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{Path(m.group(1)).name}.html{m.group(2) or ""}"', body)
        (DOCS / f'{name}.html').write_text(body)
    (DOCS / 'colab-badge.svg').write_text(COLAB_BADGE_SVG)
    size = sum(f.stat().st_size for f in DOCS.glob('*.html')) / 1e6
    print(f'ok: {len(pages)} pages in {DOCS.relative_to(ROOT)}/ ({size:.1f} MB of HTML, MathJax local)')
    return 0


# ---------------------------------------------------------------------------------------------------------------
ERROR_TEXT = re.compile(r'Traceback \(most recent call last\)|\b\w+Error: |\bException: ')
CHECK_JS = r"""
() => {
  const bad = [];
  for (const img of document.querySelectorAll('img')) {
    if (!img.complete || img.naturalWidth === 0) bad.push('image with no size: ' + (img.getAttribute('src') || '').slice(0, 60));
  }
  for (const v of document.querySelectorAll('video')) {
    if (v.videoWidth === 0) bad.push('video with no size (' + (v.error ? 'error ' + v.error.code : 'not decoded') + '): ' + (v.currentSrc || '').slice(0, 60));
  }
  for (const e of document.querySelectorAll('.MathJax_Error, merror, .mjx-merror')) bad.push('MathJax error: ' + e.textContent.slice(0, 80));
  const outputs = [...document.querySelectorAll('.jp-OutputArea-output, .jp-RenderedText, pre')].map(e => e.innerText);
  return {bad, outputs, mathjax: typeof MathJax !== 'undefined', n_math: document.querySelectorAll('.MathJax, .MathJax_Display, mjx-container').length};
}
"""


def _chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path: return path
    raise SystemExit('FAIL: no Chromium found (Debian: apt-get install chromium)')


def _widgets_without_state(page: Path) -> int:
    "Widget views in a page whose model id is not in the page's saved widget state."
    text = page.read_text()
    views = re.findall(r'"model_id":\s*"(\w+)"', text)
    m = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">\s*(\{.*?\})\s*</script>', text, re.S)
    state = json.loads(m.group(1)).get('state', {}) if m else {}
    return sum(1 for v in views if v not in state)


def mp4_problems(text: str) -> list[str]:
    "Embedded MP4s that some browsers cannot play: H.264 profiles other than baseline/main/high (4:4:4 is 244), odd sizes."
    import base64
    out = []
    for k, b64 in enumerate(re.findall(r'data:video/mp4;base64,([A-Za-z0-9+/=]+)', text)):
        data = base64.b64decode(b64)
        i, j = data.find(b'avcC'), data.find(b'avc1', max(0, data.find(b'stsd')))   # the sample entry, not the ftyp brand
        if i < 0 or j < 0: out.append(f'video {k}: not H.264 in MP4'); continue
        profile = data[i + 5]
        w, h = int.from_bytes(data[j + 28:j + 30], 'big'), int.from_bytes(data[j + 30:j + 32], 'big')
        if profile not in (66, 77, 100): out.append(f'video {k}: H.264 profile {profile} (4:4:4 or another that Safari/Firefox do not play)')
        if w % 2 or h % 2: out.append(f'video {k}: odd size {w}x{h} (yuv420p needs even sizes)')
    return out


def check(pages: list[str], timeout_s: float) -> int:
    "Load every page in headless Chromium; print each problem; exit 1 if there is one."
    from playwright.sync_api import sync_playwright
    files = [DOCS / f'{p}.html' for p in pages] if pages else sorted(DOCS.glob('*.html'))
    if not files: print('FAIL: no pages in _docs/ (run `make docs`)', file=sys.stderr); return 1
    shots = DOCS / '_check'; shots.mkdir(exist_ok=True)
    problems, t0 = [], time.time()
    import functools, http.server, threading                  # served over HTTP like the real site (file:// blocks fonts)
    handler = functools.partial(type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}), directory=str(DOCS))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{server.server_address[1]}'
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=['--no-sandbox', '--autoplay-policy=no-user-gesture-required'])
        for f in files:
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            errors = []
            page.on('pageerror', lambda e, errors=errors: errors.append(f'JavaScript error: {e}'))
            page.on('console', lambda m, errors=errors: errors.append(f'console error: {m.text[:160]}')
                    if m.type == 'error' and not m.text.startswith('Failed to load resource') else None)   # reported with their URL below
            page.on('requestfailed', lambda r, errors=errors: errors.append(f'could not load {r.url[:120]} ({r.failure})'))
            page.on('response', lambda r, errors=errors: errors.append(f'could not load {r.url[:120]} (HTTP {r.status})') if r.status >= 400 else None)
            try:
                resp = page.goto(f'{base}/{f.name}', wait_until='load', timeout=timeout_s * 1000)
                if resp is not None and not resp.ok: errors.append(f'page did not load (status {resp.status})')
                page.wait_for_function('() => typeof MathJax === "undefined" || (MathJax.Hub && MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0)',
                                       timeout=timeout_s * 1000)
                page.wait_for_timeout(300)
                for v in page.query_selector_all('video'):                  # make the browser decode each video's metadata
                    v.evaluate('v => { v.preload = "auto"; v.load(); }')
                page.wait_for_function('() => [...document.querySelectorAll("video")].every(v => v.readyState >= 1 || v.error)', timeout=timeout_s * 1000)
                res = page.evaluate(CHECK_JS)
                errors += res['bad']
                for out in res['outputs']:
                    m = ERROR_TEXT.search(out or '')
                    if m: errors.append(f'error text in an output: {out[max(0, m.start() - 40):m.start() + 80]!r}')
                errors += mp4_problems(f.read_text())
                n = _widgets_without_state(f)
                if n: errors.append(f'{n} widget output(s) without saved state')
                if f.stem in ('index', '10_singan_gif'): page.screenshot(path=str(shots / f'{f.stem}.png'), full_page=False)
            except Exception as e:
                errors.append(f'{type(e).__name__}: {str(e).splitlines()[0]}')
            page.close()
            problems += [f'{f.name}: {e}' for e in errors]
            print(f"{'FAIL' if errors else 'ok  '} {f.name} ({len(errors)} problem{'s' * (len(errors) != 1)})")
        browser.close()
    server.shutdown()
    for p in problems: print('  ' + p)
    print(f'{len(files)} pages in {time.time() - t0:.0f} s, {len(problems)} problems; screenshots in {shots.relative_to(ROOT)}/')
    return 1 if problems else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('proc'); p.add_argument('--workers', type=int, default=2)
    sub.add_parser('build')
    p = sub.add_parser('check'); p.add_argument('pages', nargs='*', help='page names (default: all)'); p.add_argument('--timeout', type=float, default=60)
    a = ap.parse_args(argv)
    if a.cmd == 'proc': return proc(a.workers)
    if a.cmd == 'build': return build()
    return check(a.pages, a.timeout)


if __name__ == '__main__':
    sys.exit(main())
