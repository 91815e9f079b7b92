#!/usr/bin/env python3
"""One entry point for building, testing and re-executing the book.

Standard library only, so it runs on a fresh machine with nothing but Python >= 3.10::

    python3 tasks.py book        # -> _build/html/index.html
    python3 tasks.py test        # unit tests + every notebook of _toc.yml through nbval
    python3 tasks.py execute     # authors: re-execute notebooks in place, store outputs
    python3 tasks.py checksums   # authors: rewrite data/MANIFEST.json (+ SHA256SUMS)
    python3 tasks.py env         # only create or update .venv

Each command creates (or reuses) the virtual environment ``.venv`` and installs the
project into it (``pip install -e .[book,test,dev]``) when ``pyproject.toml`` changed.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv as venv_lib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# torch is installed first, on its own, so that pip takes the CPU wheel that CI machines
# keep on disk (here) or the default build of the user's platform (elsewhere): the lock
# deliberately holds neither torch nor its CUDA libraries. Override with
# LVMKIT_TORCH="torch" (or any requirement) to let pip choose.
TORCH_VERSION = "2.13.0"  # the lock resolves torch's own dependencies for this one
TORCH = os.environ.get("LVMKIT_TORCH", f"torch=={TORCH_VERSION}")
# The exact versions of everything else, for every platform and Python, resolved by
# uv from pyproject.toml's ranges: refresh with `python3 tasks.py lock --upgrade`.
LOCK = ROOT / "requirements-lock.txt"
LOCK_EXTRAS = ("book", "test", "dev")
EXTRAS = ".[" + ",".join(LOCK_EXTRAS) + "]"
# Packages of torch's build variant, left out of the lock (pip takes them with torch).
UNLOCKED = re.compile(r"^(torch|triton|nvidia-.*|cuda-.*)$")
TIMES = ROOT / "data" / "execution_times.json"
# Per notebook: UTC date of its last execution, seconds, and the package versions it ran
# with; rendered as the collapsed provenance footer of its page by _ext/provenance.py.
# (execution_times.json keeps its flat {notebook: seconds} form: the execution-statistics
# page sums its values.)
RECORDS = ROOT / "data" / "execution_provenance.json"
CHROMIUM = Path("/usr/bin/chromium")
# Perturbations of `tasks.py test --perturb NAME`: each must leave every stored output
# within its declared tolerance (README, "Reproducibility contract").
PERTURBATIONS = ("blas", "threads", "newest")
# What `python3 tasks.py test` (and CI) runs: the locked environment, then the same
# tests with another BLAS kernel (the stored outputs must survive a change of CPU).
DEFAULT_RUNS = ("lock", "blas")


def bin_dir(venv: Path = VENV) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def python(venv: Path = VENV) -> Path:
    return bin_dir(venv) / ("python.exe" if os.name == "nt" else "python")


BIN, PY = bin_dir(), python()


def log(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def run(cmd: list[str], **kw) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=kw.pop("cwd", ROOT), **kw)


def ensure_env(venv: Path = VENV, locked: bool = True) -> Path:
    """Create ``venv`` and install the project if its inputs changed since last time.

    ``locked``: torch (``TORCH``), then the exact versions of ``requirements-lock.txt``,
    then lvmkit itself without dependencies. Otherwise (the "newest" perturbation) the
    newest releases that pyproject.toml's ranges allow, everything upgraded.
    Returns the environment's Python.
    """
    if sys.version_info < (3, 10):  # noqa: UP036 - run by the system Python, before any venv
        sys.exit("Python >= 3.10 is required")
    py = python(venv)
    inputs = (ROOT / "pyproject.toml").read_bytes() + TORCH.encode()
    inputs += LOCK.read_bytes() if locked else b"newest"
    stamp = venv / f".installed-{hashlib.sha256(inputs).hexdigest()[:16]}"
    if stamp.exists():
        return py
    if not py.exists():
        log(f"creating virtual environment {venv.name}/")
        venv_lib.EnvBuilder(with_pip=True).create(venv)
    what = f"the versions of {LOCK.name}" if locked else "the newest allowed versions"
    log(f"installing {TORCH}, then {what} into {venv.name}/ (first run: a few minutes)")
    pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if locked:
        steps = [[*pip, TORCH], [*pip, "-r", LOCK], [*pip, "--no-deps", "-e", "."]]
    else:
        steps = [[*pip, TORCH], [*pip, "--upgrade", "--upgrade-strategy", "eager",
                                 "-e", EXTRAS]]
    if any(run(step) for step in steps):
        sys.exit("installation failed")
    for old in venv.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return py


def cmd_lock(args: argparse.Namespace) -> int:
    """Re-resolve requirements-lock.txt with uv from pyproject.toml's ranges.

    A deliberate step: afterwards re-execute the notebooks (``tasks.py execute``), look
    at what moved (``git diff``), run the tests and commit the lock with the outputs.
    """
    py = PY if PY.exists() else ensure_env()
    if run([py, "-m", "uv", "--version"], stdout=subprocess.DEVNULL):
        sys.exit("uv is missing from .venv (it is in the dev extra): reinstall .venv")
    pin = ROOT / "_build" / "torch-constraint.txt"
    pin.parent.mkdir(exist_ok=True)
    pin.write_text(f"torch=={TORCH_VERSION}\n")  # torch's own dependencies are resolved
    cmd = [py, "-m", "uv", "pip", "compile", "pyproject.toml", "--quiet",
           *[a for extra in LOCK_EXTRAS for a in ("--extra", extra)],
           "--universal", "--fork-strategy", "fewest", "-c", pin, "--no-header",
           "--output-file", LOCK, *(["--upgrade"] if args.upgrade else [])]
    if run(cmd):
        return 1
    blocks, keep = re.split(r"\n(?=\S)", LOCK.read_text().strip()), []
    for block in blocks:
        name = re.split(r"[=;\s]", block, maxsplit=1)[0].lower()
        if not UNLOCKED.match(name):
            keep.append(block)
    header = ("# The exact versions of the book's environment, for every platform and "
              "Python.\n# Written by `python3 tasks.py lock [--upgrade]` (uv pip compile "
              "--universal) from\n# pyproject.toml; torch and its build-variant packages "
              "(CUDA libraries) are\n# left out on purpose: tasks.py installs torch first "
              "(TORCH), pip adds its own.\n")
    LOCK.write_text(header + "\n".join(keep) + "\n")
    log(f"{LOCK.name}: {len(keep)} packages; now re-execute the notebooks and compare")
    return 0


def toc_files() -> list[str]:
    """Every file listed in _toc.yml, in reading order (without suffix)."""
    text = (ROOT / "_toc.yml").read_text()
    return re.findall(r"^\s*-?\s*(?:file|root):\s*['\"]?([^\s'\"]+)", text, re.M)


def toc_notebooks() -> list[Path]:
    notebooks = []
    for name in toc_files():
        path = ROOT / name
        path = path if path.suffix else path.with_suffix(".ipynb")
        if path.suffix == ".ipynb" and path.exists():
            notebooks.append(path)
    return notebooks


def cmd_book(args: argparse.Namespace) -> int:
    ensure_env()
    opts = ["--keep-going", "--warningiserror"]
    if args.all:  # a fresh site: no page left over from files since removed or excluded
        shutil.rmtree(ROOT / "_build" / "html", ignore_errors=True)
        opts.append("--all")
    rc = run([BIN / "jupyter-book", "build", ".", *opts])
    if rc == 0:
        log(f"book written to {ROOT / '_build' / 'html' / 'index.html'}")
    return rc


def ensure_chromium() -> None:
    """Install Debian's chromium for tests/test_browser.py if it is missing and we are root.

    Never a browser downloaded by playwright's installer. Without root (or apt-get) the
    browser test skips and says why.
    """
    if CHROMIUM.exists() or shutil.which("chromium"):
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        log("chromium is missing and cannot be installed here: the browser test will skip")
        return
    log("installing chromium (apt-get) for the browser test")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run(["apt-get", "update", "-qq"], env=env) or run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], env=env
    ):
        log("apt-get could not install chromium: the browser test will skip")


def cmd_test(args: argparse.Namespace) -> int:
    names = args.perturb or list(DEFAULT_RUNS)
    if names == ["all"]:
        names = ["lock", *PERTURBATIONS]
    if len(names) > 1:  # each in turn, in its own pytest session
        times = {}
        for name in names:
            t0 = time.perf_counter()
            log(f"run {name}: {'the locked environment' if name == 'lock' else 'perturbed'}")
            rc = cmd_test(argparse.Namespace(**{**vars(args), "perturb": [name]}))
            times[name] = time.perf_counter() - t0
            if rc:
                log(f"perturbation {name!r} failed")
                return rc
        log("every run passed: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
        return 0
    perturb = set(names) - {"lock"}
    py = ensure_env(ROOT / ".venv-newest", locked=False) if "newest" in perturb else ensure_env()
    ensure_chromium()
    notebooks = [str(p.relative_to(ROOT)) for p in toc_notebooks()]
    if not notebooks:
        log("no notebooks found in _toc.yml: nothing for nbval to compare")
        return 1
    cmd = [
        py, "-m", "pytest", "tests", *notebooks,
        "--nbval", "--nbval-current-env", "--nbval-cell-timeout=600",
        "-n", args.workers, "--dist", "loadfile", *args.pytest_args,
    ]  # fmt: skip
    if perturb and "newest" not in perturb:  # arithmetic only: the rendered site is the same
        cmd += ["--ignore", "tests/test_browser.py"]
    env = dict(os.environ)
    threads = 1 if "threads" in perturb else args.threads
    if threads:  # every process, notebook kernels included, inherits these
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(threads)
        log(f"{threads} thread(s) per process for torch, numpy and scikit-learn")
    if "blas" in perturb:  # another OpenBLAS kernel, as numpy would pick on another CPU
        env["OPENBLAS_CORETYPE"] = "Prescott"
        log("OPENBLAS_CORETYPE=Prescott: numpy and scipy use OpenBLAS's generic x86-64 kernels")
    label = "+".join(sorted(perturb)) or "lock"
    log(f"pytest ({label}): unit tests and {len(notebooks)} notebooks through nbval")
    rc = run(cmd, env=env)
    if rc == 5:  # pytest's "no tests collected" must not pass silently
        log("pytest collected no tests")
    counts = ROOT / "_build" / "nbval-numbers.md"
    if counts.exists():
        shutil.copy(counts, counts.with_name(f"nbval-numbers-{label}.md"))
    return rc


# Executes one notebook in a fresh kernel of the venv's Python and stores its outputs.
_EXECUTE = """
import sys, nbformat
from pathlib import Path
from nbclient import NotebookClient
path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
               resources={"metadata": {"path": str(path.parent)}}).execute()
for cell in nb.cells:  # one stdout block per cell, however the kernel flushed it
    merged = []
    for out in cell.get("outputs", []):
        if (merged and out.output_type == "stream" and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
        else:
            merged.append(out)
    if "outputs" in cell:
        cell.outputs = merged
nbformat.write(nb, path)
"""


# Executes one notebook at several seeds (its `seed_everything(0)` replaced) in memory and
# writes, per code cell, every printed number at each seed: the seed spread from which a
# cell's declared tolerance is chosen (tests/nbval_numeric.py). Nothing is stored.
_SPREAD = """
import json, sys, nbformat
from pathlib import Path
from nbclient import NotebookClient
sys.path.insert(0, "tests")
from nbval_numeric import split, _text_fields
path, seeds, out = Path(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
stored = nbformat.read(path, as_version=4)
result = {}
for seed in seeds:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace("seed_everything(0)", f"seed_everything({seed})")
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(code):
        if any(o.output_type == "error" for o in cell.outputs):
            print(f"seed {seed}: cell {i} raised (its claim fails at this seed)", flush=True)
        texts = ["".join(tc[tk] for tc, tk in slots)
                 for slots in _text_fields(cell.outputs).values()]
        nums = [float(t) for text in texts for t, _, _ in split(text)[1]]
        result.setdefault(str(i), {})[str(seed)] = nums
    print(f"seed {seed} done", flush=True)
Path(out).write_text(json.dumps(result))
"""


def cmd_spread(args: argparse.Namespace) -> int:
    """Print the seed spread of every printed number of a notebook (see _SPREAD)."""
    import statistics

    py = ensure_env()
    out = ROOT / "_build" / "spread" / (Path(args.notebook).stem + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    seeds = ",".join(str(s) for s in range(1, args.seeds + 1))
    if run([py, "-c", _SPREAD, args.notebook, seeds, out]):
        return 1
    for cell, by_seed in json.loads(out.read_text()).items():
        runs = list(by_seed.values())
        if len({len(r) for r in runs}) != 1:
            log(f"cell {cell}: the number of printed numbers varies with the seed")
            continue
        sds = [statistics.stdev(col) for col in zip(*runs, strict=True)] if len(runs) > 1 else []
        if any(sds):
            log(f"cell {cell}: seed SD of each number: " + ", ".join(f"{v:.2g}" for v in sds))
    log(f"per seed: {out.relative_to(ROOT)}")
    return 0


def execute_notebook(rel: str) -> int:
    return run([PY, "-c", _EXECUTE, rel])


# The versions the kernels run with (the venv's Python, not the one running tasks.py).
_VERSIONS = """
import json, platform
from importlib.metadata import PackageNotFoundError, version
out = {"python": platform.python_version()}
for name in ("lvmkit", "torch", "numpy", "scipy", "scikit-learn", "pytorch-lightning"):
    try:
        out[name] = version(name)
    except PackageNotFoundError:
        pass
print(json.dumps(out))
"""


def package_versions() -> dict[str, str]:
    out = subprocess.run([str(PY), "-c", _VERSIONS], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def record(rel: str, seconds: float, versions: dict[str, str]) -> None:
    """Store notebook ``rel``'s provenance (date in UTC, seconds, versions) in RECORDS."""
    records = json.loads(RECORDS.read_text()) if RECORDS.exists() else {}
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    records[rel] = {
        "executed_utc": now.isoformat().replace("+00:00", "Z"),
        "seconds": round(seconds, 1),
        "versions": versions,
    }
    RECORDS.write_text(json.dumps(dict(sorted(records.items())), indent=1) + "\n")


def cmd_execute(args: argparse.Namespace) -> int:
    ensure_env()
    chosen = [ROOT / n for n in args.notebooks] or toc_notebooks()
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    versions = package_versions()
    for i, nb in enumerate(chosen, 1):
        rel = str(nb.resolve().relative_to(ROOT))
        if rel.endswith("execution-statistics.ipynb"):
            continue  # executed last, once the other times are known
        t0 = time.perf_counter()
        rc = execute_notebook(rel)
        dt = time.perf_counter() - t0
        log(f"[{i}/{len(chosen)}] {rel}: {'ok' if rc == 0 else 'FAILED'} in {dt:.1f} s")
        if rc:
            return rc
        times[rel] = round(dt, 1)
        record(rel, dt, versions)
    TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")
    cmd_checksums()  # execution_times.json is listed in data/MANIFEST.json
    stats = [p for p in toc_notebooks() if p.name == "execution-statistics.ipynb"]
    for nb in stats:
        rel = str(nb.relative_to(ROOT))
        t0 = time.perf_counter()
        rc = execute_notebook(rel)
        dt = time.perf_counter() - t0
        log(f"{rel}: {'ok' if rc == 0 else 'FAILED'} in {dt:.1f} s")
        if rc:
            return rc
        record(rel, dt, versions)
    return cmd_checksums()  # the provenance records are listed in data/MANIFEST.json too


# Provenance of every file under data/: (source, command that regenerates it). A file
# that is not listed here makes `checksums` fail, so nothing enters data/ undocumented.
PY_DATA = ".venv/bin/python"
PROVENANCE: dict[str, tuple[str, str | None]] = {
    "README.md": ("hand-written: provenance and checks of every artifact", None),
    "dictionary.npz": (
        "online dictionary learning (lvmkit.sparse_coding.learn_dictionary) on 40 000 "
        "whitened 12 x 12 patches of scikit-image's bundled photographs "
        "(lvmkit.patches.natural_patches, seed 0)", f"{PY_DATA} scripts/make_dictionary.py"),
    "prior_em.npz": (
        "r <- q (Monte-Carlo EM for the prior, lvmkit.prior_em) on the cached dictionary: "
        "per-latent scales, per-group shapes, 5 replicates of 300 natural patches, and the "
        "sampler checked on model data at the priors visited",
        f"{PY_DATA} scripts/make_prior_em.py"),
    "alternating_chain.npz": (
        "Zhao et al.'s alternating image/latent chain from natural patches under the "
        "ML-fitted sparse model, and the filter energy correlation of its images and of "
        "the Bayes'-loop mixes (lvmkit.book.part2_alternating), 5 replicates",
        f"{PY_DATA} scripts/make_alternating_chain.py"),
    "treeworld.npz": (
        "model M (BinaryFactorModel, EM on 2000 images of TreeWorld.default()), its "
        "amortised encoder Q and the learning curves of part 1",
        f"{PY_DATA} scripts/make_treeworld.py"),
    "part1_replicates.npz": (
        "part 1 over replicates: learning curves of the hierarchy, a misspecified "
        "hierarchy, the flat table over the known support, categorical mixtures (K chosen "
        "on a validation split) and the texture model, 5 training sets each; population "
        "fits; 5 fits of M and Q", f"{PY_DATA} scripts/make_part1_replicates.py"),
    "part3_digits.pt": (
        "float16 state dicts of the part-3 VAEs trained by lvmkit.training.fit on "
        "scikit-learn's bundled digits", f"{PY_DATA} scripts/make_part3.py --data digits"),
    "part3_digits.json": (
        "configuration, training time and metrics of each model in part3_digits.pt",
        f"{PY_DATA} scripts/make_part3.py --data digits"),
    "part3_digits_seeds.pt": (
        "float16 state dicts (MADE masks left out) of the seeded part-3 digits VAEs "
        "(lvmkit.book.part3_seeds.SWEEP, early-stopped on a validation split)",
        f"{PY_DATA} scripts/make_part3.py --data digits --part seeds --jobs 2"),
    "part3_digits_seeds.json": (
        "configuration, seed, training time, early-stopping epoch, metrics and per-image "
        "held-out log-likelihoods of each model in part3_digits_seeds.pt",
        f"{PY_DATA} scripts/make_part3.py --data digits --part seeds --jobs 2"),
    "part3_shapes.pt": (
        "float16 state dicts of the part-3 VAEs trained by lvmkit.training.fit on the "
        "synthetic shapes (lvmkit.datasets.load_shapes_split)",
        f"{PY_DATA} scripts/make_part3.py --data shapes"),
    "part3_shapes.json": (
        "configuration, training time and metrics of each model in part3_shapes.pt",
        f"{PY_DATA} scripts/make_part3.py --data shapes"),
    "part3_shapes_seeds.pt": (
        "float16 state dicts of the shapes models of chapters/part3/structure.ipynb (six "
        "decoders at 5+ seeds, and the data-size sweep), trained by lvmkit.training.fit",
        f"{PY_DATA} scripts/make_part3_shapes.py --jobs 2"),
    "part3_shapes_seeds.json": (
        "configuration, budget, early-stopping epoch, training time and metrics of each "
        "model in part3_shapes_seeds.pt", f"{PY_DATA} scripts/make_part3_shapes.py --jobs 2"),
    "bayes_loop.npz": (
        "Monte-Carlo EM of the Laplace scales of the part-2 sparse model on natural "
        "patches, and the replicated Bayes'-loop measurements after the fit",
        f"{PY_DATA} scripts/make_bayes_loop.py"),
    "execution_times.json": (
        "wall-clock seconds per notebook on the author's machine", "python3 tasks.py execute"),
    "execution_provenance.json": (
        "per notebook: execution date (UTC), seconds and package versions",
        "python3 tasks.py execute"),
}
MANIFEST = ROOT / "data" / "MANIFEST.json"
SUMS = ROOT / "data" / "SHA256SUMS"


def data_files() -> list[Path]:
    """Every file under data/ except the manifest, its derived SHA256SUMS and caches."""
    skip = {MANIFEST, SUMS}
    return [p for p in sorted((ROOT / "data").rglob("*"))
            if p.is_file() and p not in skip and "__pycache__" not in p.parts
            and not p.name.startswith(".")]


def cmd_checksums(args: argparse.Namespace | None = None) -> int:
    """Rewrite data/MANIFEST.json (and the derived data/SHA256SUMS) from data/'s files."""
    entries, missing = [], []
    for path in data_files():
        rel = path.relative_to(ROOT / "data").as_posix()
        if rel not in PROVENANCE:
            missing.append(rel)
            continue
        source, command = PROVENANCE[rel]
        entries.append({"path": rel, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                        "bytes": path.stat().st_size, "source": source, "command": command})
    if missing:
        log(f"no provenance for {missing}: add them to PROVENANCE in tasks.py")
        return 1
    doc = {"about": "Every file under data/: SHA-256, size, source and the command that "
                    "regenerates it. Written by `python3 tasks.py checksums`; "
                    "lvmkit.artifacts verifies the hash on every load.",
           "files": entries}
    MANIFEST.write_text(json.dumps(doc, indent=1) + "\n")
    SUMS.write_text("".join(f"{e['sha256']}  {e['path']}\n" for e in entries))
    log(f"data/MANIFEST.json and data/SHA256SUMS: {len(entries)} files")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("env", help="create or update .venv only")
    p.set_defaults(func=lambda args: ensure_env() and 0)
    p = sub.add_parser("book", help="build the HTML book into _build/html")
    p.add_argument("--all", action="store_true", help="rebuild every page")
    p.set_defaults(func=cmd_book)
    p = sub.add_parser("test", help="run unit tests and nbval over every notebook in _toc.yml")
    p.add_argument("--workers", default="auto", help="pytest-xdist workers (default: auto)")
    p.add_argument("--threads", type=int, default=0,
                   help="threads per process (sets OMP/MKL/OPENBLAS_NUM_THREADS)")
    p.add_argument("--perturb", action="append", choices=["lock", *PERTURBATIONS, "all"],
                   help="repeatable; default: lock, then blas. lock: the locked .venv; "
                   "blas: OPENBLAS_CORETYPE=Prescott; threads: 1 thread per process; "
                   "newest: .venv-newest, no lock, everything upgraded; all: each in turn")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("lock", help="re-resolve requirements-lock.txt with uv")
    p.add_argument("--upgrade", action="store_true", help="take the newest allowed versions")
    p.set_defaults(func=cmd_lock)
    p = sub.add_parser("execute", help="re-execute notebooks in place (default: all in _toc.yml)")
    p.add_argument("notebooks", nargs="*")
    p.set_defaults(func=cmd_execute)
    p = sub.add_parser("spread", help="authors: seed spread of a notebook's printed numbers")
    p.add_argument("notebook")
    p.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5)")
    p.set_defaults(func=cmd_spread)
    p = sub.add_parser("checksums", help="rewrite data/MANIFEST.json and data/SHA256SUMS")
    p.set_defaults(func=cmd_checksums)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
