"""Course assignments from the paper notebooks (Otter-Grader), and the checks that they grade both ways.

  python scripts/assignments.py build [--out assignments]   # student/, solution/, autograder/ for every assignment notebook
  python scripts/assignments.py check                       # build into a temporary folder, then for every assignment:
      the solution scores full marks; the student version runs top to bottom without an error (alone in an empty
      folder, as in Colab) and scores 0 on every exercise; with exactly one exercise filled in from the solution it
      scores exactly that exercise; no hidden test and no solution line appears in the student's code or tests.
"""
from __future__ import annotations
import argparse, copy, json, re, shutil, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from singan_gif_lib.course import QuestionScore, assignment_notebooks, build_assignments, grade, grade_lines, questions, read_notebook  # noqa: E402


def solution_lines(nb: dict) -> set[str]:
    "Stripped lines between `# BEGIN SOLUTION` and `# END SOLUTION` in the source notebook's code cells (non-trivial ones)."
    out, outside, inside = set(), set(), False
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        for l in ''.join(c['source']).split('\n'):
            s = l.strip()
            if s.startswith('# BEGIN SOLUTION'): inside = True
            elif s.startswith('# END SOLUTION'): inside = False
            elif inside and len(s) > 12: out.add(s)
            elif not inside: outside.add(s)
    return out - outside                                       # lines that also appear outside a solution are not answers


def hidden_tests(nb: dict) -> list[str]:
    "Names of the hidden test functions of the source notebook."
    return [m.group(1) for c in nb['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).lstrip().startswith('# HIDDEN')
            for m in [re.search(r'def (\w+)\(', ''.join(c['source']))] if m]


def answer_cells(nb: dict) -> dict[str, list[str]]:
    "Question -> ids of its answer cells in a student notebook (those before its `grader.check` cell)."
    out, current = {}, []
    for c in nb['cells']:
        s = ''.join(c['source']).strip()
        if 'otter_answer_cell' in c.get('metadata', {}).get('tags', []): current.append(c['id'])
        m = re.fullmatch(r'grader\.check\("(\w+)"\)', s)
        if m: out[m.group(1)], current = current, []
    return out


def run_notebook(path: Path) -> None:
    "Run a student notebook alone in an empty folder, as in Colab: its first cell writes the public tests it needs."
    import papermill as pm
    with tempfile.TemporaryDirectory() as d:
        nb = Path(d) / path.name; shutil.copy(path, nb)
        pm.execute_notebook(str(nb), str(nb.with_suffix('.executed.ipynb')), cwd=d, progress_bar=False, kernel_name='python3')
        if not (Path(d) / 'tests').is_dir(): raise RuntimeError(f'{path.name}: its first cell wrote no tests/')


def check(out: Path, only: list[str] | None = None) -> int:
    failures, names = [], [n for n in build_assignments(ROOT / 'nbs', out) if not only or n in only]
    for src in assignment_notebooks(ROOT / 'nbs'):
        if only and src.stem not in only: continue
        name, t0, before = src.stem, time.time(), len(failures)
        source = read_notebook(src); qs = questions(source)
        student_nb, solution_nb = out / 'student' / name / src.name, out / 'solution' / name / src.name
        def scores(path):
            return {s.name: (s.points, s.possible) for s in grade(path, out)}
        sol = scores(solution_nb)
        if any(p != m for p, m in sol.values()) or set(sol) != set(qs): failures.append(f'{name}: the solution scores {sol}')
        try: run_notebook(student_nb)
        except Exception as e: failures.append(f'{name}: the student version does not run: {str(e).strip().splitlines()[-1] if str(e).strip() else e}')
        stu = scores(student_nb)
        if any(p != 0 for p, _ in stu.values()) or set(stu) != set(qs): failures.append(f'{name}: the student version scores {stu}')
        snb, solnb = json.loads(student_nb.read_text()), json.loads(solution_nb.read_text())
        by_id = {c['id']: c for c in solnb['cells'] if 'id' in c}
        for q in (qs if len(qs) > 1 else []):                     # one exercise filled in from the solution (one question: the solution)
            nb = copy.deepcopy(snb)
            ids = answer_cells(nb)[q]
            for c in nb['cells']:
                if c.get('id') in ids: c['source'] = by_id[c['id']]['source']
            one = student_nb.with_name(f'{name}-only-{q}.ipynb'); one.write_text(json.dumps(nb))
            got = scores(one); one.unlink()
            want = {k: (m if k == q else 0.0) for k, (_, m) in sol.items()}
            if {k: v[0] for k, v in got.items()} != want: failures.append(f'{name}: with only {q} filled in it scores {got}, expected {want}')
        text = '\n'.join([''.join(c['source']) for c in snb['cells'] if c['cell_type'] == 'code'] +        # code, not the prompts' hints
                         [p.read_text() for p in (out / 'student' / name).rglob('*.py')])
        leaked = [l for l in solution_lines(source) if l in text] + [t for t in hidden_tests(source) if t in text]
        if leaked: failures.append(f'{name}: the student version shows {leaked[:3]}')
        total = grade_lines([QuestionScore(k, *v) for k, v in sol.items()])[-1]
        verdict = 'student 0, each exercise alone scores itself, nothing leaks' if len(failures) == before else f'{len(failures) - before} problem(s)'
        print(f'{name}: {len(qs)} exercises, solution {total}, {verdict}; {time.time() - t0:.0f} s', flush=True)
    for f in failures: print('FAIL:', f, file=sys.stderr)
    if not failures: print(f'ok: {len(names)} assignments ({", ".join(names)}) grade both ways')
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('build'); b.add_argument('--out', default=str(ROOT / 'assignments'))
    c = sub.add_parser('check'); c.add_argument('--only', nargs='*', help='check only these assignments (default: all)')
    a = ap.parse_args()
    if a.cmd == 'build':
        out = Path(a.out); names = build_assignments(ROOT / 'nbs', out)
        print(f'{len(names)} assignments in {out}/: student/ (hand these out), solution/, autograder/ (grade with `singan-gif grade NOTEBOOK.ipynb`)')
        return 0
    with tempfile.TemporaryDirectory() as tmp: return check(Path(tmp), a.only)


if __name__ == '__main__':
    sys.exit(main())
