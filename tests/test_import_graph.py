"""Dependencies run one way (docs/architecture.md): the import graph of every package, read
from the source with ast (imports inside functions count too), against the rules.

- bzcore (the portable core) imports only itself;
- bzsim (the simulator) imports bzcore and itself: nothing of the host or provisioning;
- bzprov (provisioning) imports bzcore, itself, the host's base modules and its link/;
- the host's engine packages import bzcore and the host, the simulator only where it stands in
  for hardware the host talks to, nothing of provisioning, and never bzgate.commands;
- a command module imports anything but another command module (options.py is shared);
- only bzgate.cli imports the commands.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"bzgate": REPO / "host" / "bzgate", "bzcore": REPO / "firmware" / "bzcore",
         "bzsim": REPO / "sim", "bzprov": REPO / "provisioning"}
HOST_BASE = {"bzgate", "bzgate.errors", "bzgate.keys", "bzgate.jsonfile"}
# The simulator as the host meets hardware: the air as a bleak backend, virtual boards as ports.
SIM_AS_HARDWARE = {"bzsim.air.bleak_backend", "bzsim.board.registry"}
SHARED_OPTIONS = "bzgate.commands.options"


def module_name(path: Path, package: str) -> str:
    parts = path.relative_to(ROOTS[package]).with_suffix("").parts
    return ".".join((package, *parts)).removesuffix(".__init__")


def imported(path: Path, package: str) -> set[str]:
    """The project modules a file imports ("from bzgate import store" names bzgate.store)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # a module named in the list is what is imported; other names come from node.module
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                out.add(name if name.split(".")[0] in ROOTS and is_module(name) else node.module)
    return {m for m in out if m.split(".")[0] in ROOTS and is_module(m)}


def is_module(name: str) -> bool:
    package, *parts = name.split(".")
    base = ROOTS[package].joinpath(*parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    edges = {}
    for package, root in ROOTS.items():
        for path in root.rglob("*.py"):
            if "shims" not in path.relative_to(root).parts:  # MicroPython files, run on the board
                edges[module_name(path, package)] = imported(path, package)
    return edges


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def broken_rule(source: str, target: str) -> str | None:
    """Why source may not import target, or None when it may."""
    if under(source, "bzcore"):
        return None if under(target, "bzcore") else "the portable core imports only itself"
    if under(source, "bzsim"):
        return None if under(target, "bzcore", "bzsim") else "the simulator needs nothing of the host"
    if under(source, "bzprov"):
        ok = under(target, "bzcore", "bzprov", "bzgate.link") or target in HOST_BASE
        return None if ok else "provisioning uses the core, the host's base modules and link/"
    if source == "bzgate.cli":
        return None
    if under(source, "bzgate.commands") and source != SHARED_OPTIONS:
        if under(target, "bzgate.commands") and target not in ("bzgate.commands", SHARED_OPTIONS):
            return "a command imports no other command"
        return None
    if under(target, "bzgate.commands"):
        return "engine modules never import commands/"
    if under(target, "bzprov"):
        return "the host's engine does not depend on provisioning"
    if under(target, "bzsim") and target not in SIM_AS_HARDWARE:
        return "the host's engine meets the simulator only as hardware"
    return None


def test_the_graph_is_read_from_every_package():
    edges = graph()
    assert {"bzcore.config", "bzsim.air.server", "bzprov.configure", "bzgate.cli",
            "bzgate.commands.collect", "bzgate.store"} <= set(edges)
    assert "bzgate.store.dialect" in edges["bzgate.store"]  # "from bzgate.store import ..." seen
    assert "bzgate.store" in edges["bzgate.commands.status"]  # "from bzgate import store" seen


def test_dependencies_run_one_way():
    broken = sorted(f"{source} -> {target}: {why}" for source, targets in graph().items()
                    for target in targets if (why := broken_rule(source, target)))
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("source, target", [
    ("bzsim.air.server", "bzgate.store"), ("bzcore.config", "bzgate.errors"),
    ("bzprov.configure", "bzgate.store"), ("bzgate.store", "bzgate.commands.options"),
    ("bzgate.commands.status", "bzgate.commands.collect"), ("bzgate.trace.matching", "bzprov.fleet"),
    ("bzgate.link.serial", "bzsim.air.server")])
def test_each_rule_refuses_what_it_names(source, target):
    assert broken_rule(source, target) is not None
