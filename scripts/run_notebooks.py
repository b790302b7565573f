"""Run every training notebook (frontmatter `skip_exec: true`) end to end under papermill with a reduced preset.

Checks, for each notebook: it has a cell tagged `parameters` (else papermill would silently run the paper preset),
it runs without error with `-p preset <preset>`, and its output says `RAN_PRESET=<preset>` (the notebook prints it
after building its config). Executed copies go to an ignored folder; the time each took is printed.
"""
import argparse, json, re, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"


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


def main() -> int:
    import papermill as pm
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="ci")
    ap.add_argument("--out", default="executed", help="folder (ignored by git) for the executed copies")
    ap.add_argument("notebooks", nargs="*", help="default: every training notebook in nbs/")
    args = ap.parse_args()
    paths = [Path(p).resolve() for p in args.notebooks] or sorted(NBS.glob("*.ipynb"))
    todo = [p for p in paths if is_training_notebook(json.loads(p.read_text()))]
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    failures, times = [], []
    for p in todo:
        nb = json.loads(p.read_text())
        if not has_parameters_cell(nb):
            failures.append(f"{p.name}: no cell tagged `parameters` (papermill would run the paper preset)")
            continue
        t0 = time.time()
        print(f"papermill {p.name} -p preset {args.preset} ...", flush=True)
        try:
            pm.execute_notebook(str(p), str(out / p.name), parameters={"preset": args.preset}, cwd=str(NBS),
                                progress_bar=False, log_output=False, kernel_name="python3")
        except Exception as e:  # papermill raises PapermillExecutionError with the failing cell
            failures.append(f"{p.name}: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else e}")
            times.append((p.name, time.time() - t0))
            continue
        dt = time.time() - t0
        times.append((p.name, dt))
        ran = ran_preset(json.loads((out / p.name).read_text()))
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
