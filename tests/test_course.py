"The course tooling without running a grader: which notebooks are assignments, their questions, and `singan-gif grade`'s errors."
import json
from pathlib import Path

import pytest

from cli_helpers import one_error_line, run
from singan_gif_lib.course import assignment_notebooks, hide_grader_markup, questions, read_notebook

NBS = Path(__file__).resolve().parents[1] / 'nbs'


def test_assignments_and_their_questions():
    found = {p.stem: questions(read_notebook(p)) for p in assignment_notebooks(NBS)}
    assert set(found) == {'04_losses', '05_metrics', '06_layers', '10_singan_gif', '32_mocogan_hd', '40_cinn'}
    assert sum(len(q) for q in found.values()) >= 8                       # the eight exercises the course asks for
    assert found['10_singan_gif'] == {'separable_conv': 2.0, 'color_stats_loss': 2.0}


def test_every_question_has_a_visible_and_a_hidden_test_and_a_fallback():
    for p in assignment_notebooks(NBS):
        cells = read_notebook(p)['cells']
        src = [''.join(c['source']) for c in cells]
        for q in questions(read_notebook(p)):
            start = next(i for i, s in enumerate(src) if s.startswith('# BEGIN QUESTION') and f'name: {q}' in s)
            end = next(i for i in range(start, len(src)) if src[i].startswith('# END QUESTION'))
            tests = [s for s in src[start:end] if s.lstrip('# HIDDEN\n').startswith('def test_')]
            assert any(s.startswith('# HIDDEN') for s in tests) and any(not s.startswith('# HIDDEN') for s in tests), (p.name, q)
            assert 'exercise(' in src[end + 1], f'{p.name} {q}: no exercise() fallback right after the question'


def test_docs_processor_hides_markup_keeps_code():
    c = {'cell_type': 'code', 'source': '#| export\ndef f(x):\n    "doc"\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION'}
    hide_grader_markup(c)
    assert c['source'] == '#| export\ndef f(x):\n    "doc"\n    return x'
    for raw in ('# ASSIGNMENT CONFIG\nname: x', '# BEGIN TESTS', '# END QUESTION'):
        r = {'cell_type': 'raw', 'source': raw}; hide_grader_markup(r); assert 'source' not in r


@pytest.mark.parametrize('content', ['not a notebook', json.dumps({'cells': 3}), '\x89PNG'])
def test_grade_rejects_non_notebooks(capsys, tmp_path, content):
    f = tmp_path / 'returned.ipynb'; f.write_text(content)
    code, out, err = run(capsys, 'grade', f, '--assignments', tmp_path)
    one_error_line(code, err); assert 'returned.ipynb: not a Jupyter notebook' in err and out == ''


def test_grade_rejects_other_notebooks_and_missing_files(capsys, tmp_path):
    (tmp_path / 'autograder').mkdir(); (tmp_path / 'autograder' / '04_losses.zip').write_bytes(b'')
    code, _, err = run(capsys, 'grade', NBS / '00_core.ipynb', '--assignments', tmp_path)
    one_error_line(code, err); assert 'not one of the assignments' in err and '04_losses' in err
    code, _, err = run(capsys, 'grade', tmp_path / 'gone.ipynb', '--assignments', tmp_path)
    one_error_line(code, err); assert 'gone.ipynb: no such file' in err
