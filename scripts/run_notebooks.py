"""Run every training notebook (frontmatter `skip_exec: true`) end to end under papermill with a reduced preset.

Checks, for each notebook: it has a cell tagged `parameters` (else papermill would silently run the paper preset),
it runs without error with `-p preset <preset>`, and its output says `RAN_PRESET=<preset>` (the notebook prints it
after building its config). Executed copies go to an ignored folder, cleaned as they would be committed (no
injected-parameters cell, no widget outputs: progress bars are text); the time each took is printed.
`--clean NB...` applies that cleaning to notebooks in place.
"""
import argparse, json, os, re, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def is_training_notebook(nb: dict) -> bool:
    for c in nb["cells"]:
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if c["cell_type"] in ("markdown", "raw") and re.search(r"^-?\s*skip_exec:\s*true\s*$", src, re.M | re.I):
            return True
    return False


def has_parameters_cell(nb: dict) -> bool:
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"] if c["cell_type"] == "code")


def ran_preset(nb: dict) -> set:
    found = set()
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            found.update(re.findall(r"RAN_PRESET=(\w+)", text))
    return found


def clean_outputs(nb: dict) -> dict:
    """Make an executed notebook fit to commit: drop papermill's injected-parameters cell (the `parameters` cell keeps
    the notebook's defaults; the output's RAN_PRESET line says what ran), keep only the text form of widget outputs
    (progress bars, players: they need a running kernel) and drop the saved widget state."""
    nb["cells"] = [c for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    for c in nb["cells"]:
        outs = []
        for o in c.get("outputs", []):
            data = o.get("data", {})
            if WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
                if not any(k.startswith("text/") for k in data): continue      # a bare progress widget: nothing to keep
            outs.append(o)
        if "outputs" in c: c["outputs"] = outs
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def main() -> int:
    import papermill as pm
    os.environ["SINGAN_GIF_PROGRESS"] = "text"          # kernels inherit it: text progress bars, no widgets in the outputs
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="ci")
    ap.add_argument("--out", default="executed", help="folder (ignored by git) for the executed copies")
    ap.add_argument("--kernel", default="python3", help="Jupyter kernel to run them with (e.g. one of an installed wheel)")
    ap.add_argument("--cwd", default=None, help="working directory of the notebooks (default: nbs/)")
    ap.add_argument("--all", action="store_true", help="also run the model notebooks (top to bottom, no parameters)")
    ap.add_argument("--clean", action="store_true", help="only apply `clean_outputs` to the given notebooks in place")
    ap.add_argument("notebooks", nargs="*", help="default: every training notebook in nbs/")
    args = ap.parse_args()
    if args.clean:
        for p in args.notebooks:
            path = Path(p); path.write_text(json.dumps(clean_outputs(json.loads(path.read_text())), indent=1, ensure_ascii=False) + "\n")
        return 0
    paths = [Path(p).resolve() for p in args.notebooks] or sorted(NBS.glob("*.ipynb"))
    todo = [p for p in paths if args.all or is_training_notebook(json.loads(p.read_text()))]
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    failures, times = [], []
    for p in todo:
        nb = json.loads(p.read_text())
        if not is_training_notebook(nb):                       # a model notebook: top to bottom as it is
            t0 = time.time(); print(f"papermill {p.name} ...", flush=True)
            try:
                pm.execute_notebook(str(p), str(out / p.name), cwd=args.cwd or str(NBS), progress_bar=False, log_output=False,
                                    kernel_name=args.kernel)
                print(f"  {p.name}: {time.time() - t0:.1f} s", flush=True)
            except Exception as e:
                failures.append(f"{p.name}: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else e}")
            times.append((p.name, time.time() - t0))
            continue
        if not has_parameters_cell(nb):
            failures.append(f"{p.name}: no cell tagged `parameters` (papermill would run the paper preset)")
            continue
        t0 = time.time()
        print(f"papermill {p.name} -p preset {args.preset} ...", flush=True)
        try:
            pm.execute_notebook(str(p), str(out / p.name), parameters={"preset": args.preset}, cwd=args.cwd or str(NBS),
                                progress_bar=False, log_output=False, kernel_name=args.kernel)
        except Exception as e:  # papermill raises PapermillExecutionError with the failing cell
            failures.append(f"{p.name}: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else e}")
            times.append((p.name, time.time() - t0))
            continue
        dt = time.time() - t0
        times.append((p.name, dt))
        done = clean_outputs(json.loads((out / p.name).read_text()))
        (out / p.name).write_text(json.dumps(done, indent=1, ensure_ascii=False) + "\n")
        ran = ran_preset(done)
        if ran != {args.preset}:
            failures.append(f"{p.name}: expected RAN_PRESET={args.preset} in its output, found {sorted(ran) or 'none'}")
        print(f"  {p.name}: {dt:.1f} s, ran preset {sorted(ran)}", flush=True)
    print("\nnotebook times (papermill, preset %s):" % args.preset)
    for name, dt in times:
        print(f"  {dt:7.1f} s  {name}")
    if failures:
        print("\n".join(["FAIL:"] + failures))
        return 1
    print(f"{len(todo)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
