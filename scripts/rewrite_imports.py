#!/usr/bin/env python3
"""Rewrite imports of, and references to, lvmkit names that moved.

Usage::

    python scripts/rewrite_imports.py PATH...       # files or folders (.py, .ipynb, .md)
    python scripts/rewrite_imports.py --check PATH  # list what would change, exit 1 if any

The map is ``scripts/moved_names.json``: ``"names"`` maps an old dotted name to its new
dotted name (``"lvmkit.inference.lasso": "lvmkit.lasso.lasso"``); ``"modules"`` maps a
module that was renamed or removed to the module that now holds its remaining names
(``"lvmkit.reproducibility": "lvmkit.book.notebook"``).

What is rewritten, in ``.py`` files and in the code cells of notebooks:

* ``from lvmkit.x import a, b as c`` (one line or parenthesised over several): each name
  goes to its new module; the statement is split into one import per module.
* ``from lvmkit import x [as y]`` and ``import lvmkit.x as y``: the module binding is
  followed; every ``y.name`` whose name moved becomes ``z.name`` with an added
  ``from <parent> import z`` (``z`` the last part of the new module). The old import
  is dropped when nothing else uses it, and renamed when its module was renamed.
* Any dotted reference ``lvmkit.x.y`` in code, strings, comments and docstrings, and in
  markdown cells and ``.md`` files (prose links such as ``{func}`lvmkit.inference.lasso```).

Notebook outputs and metadata are never touched. Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

MAP_FILE = Path(__file__).resolve().parent / "moved_names.json"
DOTTED = re.compile(r"(?<![\w.])lvmkit(?:\.\w+)+")
MAGIC = re.compile(r"^(\s*)([%!].*)$")


class Map:
    """The moved names and modules, with longest-prefix lookup."""

    def __init__(self, data: dict):
        self.names: dict[str, str] = dict(data.get("names", {}))
        self.modules: dict[str, str] = dict(data.get("modules", {}))

    def name(self, dotted: str) -> str | None:
        """New dotted name of ``dotted`` (a name or a module), or ``None`` if unmoved."""
        if dotted in self.names:
            return self.names[dotted]
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            head = ".".join(parts[:i])
            if head in self.modules:
                return ".".join([self.modules[head], *parts[i:]])
        return None

    def dotted_text(self, text: str) -> str:
        def sub(m: re.Match) -> str:
            dotted = m.group(0)
            parts = dotted.split(".")
            # longest prefix that is a known name or module; the rest is attribute access
            for i in range(len(parts), 1, -1):
                new = self.name(".".join(parts[:i]))
                if new is not None:
                    return ".".join([new, *parts[i:]])
            return dotted

        return DOTTED.sub(sub, text)


def _bytes_col(line: str, col: int) -> int:
    """ast's byte offset ``col`` in ``line`` as a character index."""
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def _format_from(indent: str, module: str, names: list[str]) -> str:
    line = f"{indent}from {module} import {', '.join(names)}"
    if len(line) <= 88 or len(names) == 1:
        return line
    body = "".join(f"{indent}    {n},\n" for n in names)
    return f"{indent}from {module} import (\n{body}{indent})"


def _alias(a: ast.alias) -> str:
    return a.name if a.asname is None else f"{a.name} as {a.asname}"


def _module_bindings(tree: ast.AST, mp: Map) -> dict[str, tuple[str, ast.stmt]]:
    """Local name -> (lvmkit module it is bound to, the import statement)."""
    out: dict[str, tuple[str, ast.stmt]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and (node.module == "lvmkit" or node.module.startswith("lvmkit."))
        ):
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if _is_module_name(full, mp):
                    out[a.asname or a.name] = (full, node)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("lvmkit.") and a.asname:
                    out[a.asname] = (a.name, node)
    return out


def _is_module_name(full: str, mp: Map) -> bool:
    """Whether ``lvmkit.x`` names a module (known from the map or importable here)."""
    if full in mp.modules:
        return True
    prefix = full + "."
    if any(k.startswith(prefix) for k in mp.names):
        return True
    return False


def _parse(src: str):
    """(lines, tree) of a source, IPython magics and shell lines blanked for the parser."""
    lines = src.split("\n")
    masked = [("" if MAGIC.match(l) else l) for l in lines]
    return lines, ast.parse("\n".join(masked))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _lvmkit_from(node) -> bool:
    return (
        isinstance(node, ast.ImportFrom)
        and node.level == 0
        and bool(node.module)
        and (node.module == "lvmkit" or node.module.startswith("lvmkit."))
    )


def _trailing_comment(line: str) -> str:
    """The ``  # ...`` that ends an import line (a ``noqa``, say), or ``""``."""
    m = re.search(r"\)?(\s+#.*)$", line)
    return m.group(1) if m and "'" not in line and '"' not in line else ""


def _whole_statement(lines, node, text: str):
    """An edit replacing the statement's lines by ``text`` (dropping them if empty)."""
    if text:
        return (node.lineno, 0, node.end_lineno, len(lines[node.end_lineno - 1]), text)
    if node.end_lineno < len(lines):
        return (node.lineno, 0, node.end_lineno + 1, 0, "")
    return (node.lineno, 0, node.end_lineno, len(lines[node.end_lineno - 1]), "")


def _rewrite_from_imports(src: str, mp: Map) -> str:
    """Step 1: ``from lvmkit.x import a, b as c`` -> one import per new module."""
    lines, tree = _parse(src)
    edits = []
    for node in ast.walk(tree):
        if not _lvmkit_from(node):
            continue
        groups: dict[str, list[str]] = {}
        changed = False
        for a in node.names:
            full = f"{node.module}.{a.name}"
            new = mp.name(full)
            if new is None or new == full:
                groups.setdefault(node.module, []).append(_alias(a))
                continue
            changed = True
            mod, name = new.rsplit(".", 1)
            local = a.asname or a.name
            groups.setdefault(mod, []).append(
                name if name == local else f"{name} as {local}"
            )
        if changed:
            indent = _indent(lines[node.lineno - 1])
            comment = _trailing_comment(lines[node.end_lineno - 1])
            text = "\n".join(
                _format_from(indent, m, ns) + comment for m, ns in groups.items()
            )
            edits.append(_whole_statement(lines, node, text))
    return _apply(lines, edits)


def _rewrite_attributes(src: str, mp: Map, warnings: list[str]) -> str:
    """Step 2: ``y.name`` of a module binding ``y`` whose ``name`` moved -> ``z.name``."""
    lines, tree = _parse(src)
    bindings = _module_bindings(tree, mp)
    bound = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    bound |= {
        a.asname or a.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for a in node.names
    }
    by_module = {module: local for local, (module, _) in bindings.items()}
    edits = []
    moved_uses: dict[str, int] = {}
    new_imports: dict[int, list[str]] = {}  # id(statement) -> import lines to add
    statements = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bindings
        ):
            continue
        local = node.value.id
        module, stmt = bindings[local]
        if module in mp.modules:
            continue  # a module renamed whole: its import was renamed, its names stay
        new = mp.name(f"{module}.{node.attr}")
        if new is None:
            continue
        new_mod, name = new.rsplit(".", 1)
        parent, leaf = new_mod.rsplit(".", 1)
        target = by_module.get(new_mod)
        if target is None:
            target = leaf if leaf not in bound else f"{leaf}_"
            if target != leaf:
                warnings.append(
                    f"{leaf} is already bound: {new_mod} imported as {target}"
                )
            by_module[new_mod] = target
            bound.add(target)
            line = f"from {parent} import {leaf}" + (
                "" if target == leaf else f" as {target}"
            )
            new_imports.setdefault(id(stmt), []).append(line)
            statements[id(stmt)] = stmt
        moved_uses[local] = moved_uses.get(local, 0) + 1
        c0 = _bytes_col(lines[node.value.lineno - 1], node.value.col_offset)
        c1 = _bytes_col(lines[node.end_lineno - 1], node.end_col_offset)
        edits.append((node.value.lineno, c0, node.end_lineno, c1, f"{target}.{name}"))
    uses: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in bindings:
            uses[node.id] = uses.get(node.id, 0) + 1
    for local in moved_uses:
        statements.setdefault(id(bindings[local][1]), bindings[local][1])
    for key, stmt in statements.items():
        drop = {
            local
            for local, n in moved_uses.items()
            if bindings[local][1] is stmt and uses.get(local, 0) == n
        }
        kept = [a for a in stmt.names if (a.asname or a.name) not in drop]
        indent = _indent(lines[stmt.lineno - 1])
        block = []
        if kept and len(kept) == len(stmt.names):
            block.append(
                "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno])[len(indent) :]
            )
        elif kept and isinstance(stmt, ast.ImportFrom):
            block.append(_format_from("", stmt.module, [_alias(a) for a in kept]))
        elif kept:
            block.append("import " + ", ".join(_alias(a) for a in kept))
        block += new_imports.get(key, [])
        text = "\n".join(indent + b.replace("\n", "\n" + indent) for b in block)
        edits.append(_whole_statement(lines, stmt, text))
    return _apply(lines, edits)


def rewrite_code(src: str, mp: Map) -> tuple[str, list[str]]:
    """Rewrite one Python source (a file or a notebook cell); returns (text, warnings)."""
    warnings: list[str] = []
    try:
        out = _rewrite_from_imports(src, mp)
        out = _rewrite_attributes(out, mp, warnings)
    except SyntaxError as err:
        return mp.dotted_text(src), [
            f"not parsed ({err.msg}, line {err.lineno}): "
            f"only dotted references rewritten"
        ]
    return mp.dotted_text(out), warnings


def _apply(lines: list[str], edits: list[tuple[int, int, int, int, str]]) -> str:
    """Apply non-overlapping edits, last first; an edit of a whole statement wins."""
    edits = sorted(set(edits), key=lambda e: (e[0], e[1]), reverse=True)
    text = "\n".join(lines)
    offsets = [0]
    for l in lines:
        offsets.append(offsets[-1] + len(l) + 1)
    last_start = None
    for l0, c0, l1, c1, new in edits:
        a, b = offsets[l0 - 1] + c0, offsets[l1 - 1] + c1
        if last_start is not None and b > last_start:
            continue  # overlaps an edit already applied (inside a rewritten import)
        text = text[:a] + new + text[b:]
        last_start = a
    return text


CELL = "\n#<<lvmkit-rewrite: next cell>>\n"


def rewrite_notebook(path: Path, mp: Map) -> tuple[str, str, list[str]]:
    """The code cells are one program (one kernel): rewritten together, split back."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    cells = nb.get("cells", [])
    code = [i for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    joined = CELL.join("".join(cells[i].get("source", [])) for i in code)
    new, warnings = rewrite_code(joined, mp)
    parts = new.split(CELL)
    if len(parts) != len(code):  # pragma: no cover - an edit ate a separator
        raise RuntimeError(f"{path}: the cells could not be split back")
    for i, text in zip(code, parts, strict=True):
        if text != "".join(cells[i].get("source", [])):
            cells[i]["source"] = text.splitlines(keepends=True)
    for c in cells:
        if c.get("cell_type") != "code":
            src = "".join(c.get("source", []))
            text = mp.dotted_text(src)
            if text != src:
                c["source"] = text.splitlines(keepends=True)
    out = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    return raw, out, warnings


def rewrite_path(path: Path, mp: Map) -> tuple[str, str, list[str]]:
    if path.suffix == ".ipynb":
        return rewrite_notebook(path, mp)
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        new, w = rewrite_code(raw, mp)
        return raw, new, w
    return raw, mp.dotted_text(raw), []


def iter_files(paths: list[str]):
    skip = {
        ".git",
        ".venv",
        "_build",
        "__pycache__",
        ".ipynb_checkpoints",
        "node_modules",
    }
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in (".py", ".ipynb", ".md") and not skip & set(f.parts):
                    if f.name not in ("rewrite_imports.py", "test_rewrite_imports.py"):
                        yield f
        elif p.suffix in (".py", ".ipynb", ".md"):
            yield p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if needed"
    )
    ap.add_argument("--map", default=str(MAP_FILE))
    args = ap.parse_args(argv)
    mp = Map(json.loads(Path(args.map).read_text()))
    changed = 0
    for f in iter_files(args.paths):
        raw, new, warnings = rewrite_path(f, mp)
        for w in warnings:
            print(f"{f}: warning: {w}", file=sys.stderr)
        if new != raw:
            changed += 1
            print(f"{'would rewrite' if args.check else 'rewrote'} {f}")
            if not args.check:
                f.write_text(new, encoding="utf-8")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
