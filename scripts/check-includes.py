#!/usr/bin/env python3
"""The include graph of src/ against the DEPS each module declares in its CMakeLists.txt.

Every target sees all of src/ (one include directory), so the one-way dependency rule of
docs/architecture.md holds only if nobody includes across an undeclared edge. This check makes
it hold by construction: a file of module A that includes "B/..." needs synscope_B in A's DEPS
(directly: a transitive edge is an edge the module did not say it has), and the declared graph
must have no cycle. The command line (src/cli, the synscope executable) is checked against its
target_link_libraries the same way.

    scripts/check-includes.py            # exit 0 when the graph is as declared, 1 otherwise
    scripts/check-includes.py --graph    # also print the declared graph, one module a line
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)
MODULE = re.compile(r"synscope_module\(\s*(\w+)(.*?)\)", re.S)
LINK = re.compile(r"target_link_libraries\(\s*synscope\s+(.*?)\)", re.S)


def declared():
    """Module -> the modules its CMakeLists.txt names (synscope_X), from every src/*/CMakeLists.txt."""
    deps = {}
    for entry in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, entry, "CMakeLists.txt")
        if not os.path.isfile(path):
            continue
        text = open(path, encoding="utf-8").read()
        for m in MODULE.finditer(text):
            body = m.group(2)
            after = body.split("DEPS", 1)[1] if "DEPS" in body else ""
            deps[m.group(1)] = set(re.findall(r"\bsynscope_(\w+)", after))
        for m in LINK.finditer(text):
            deps[entry] = set(re.findall(r"\bsynscope_(\w+)", m.group(1))) - {"warnings"}
    return deps


def used():
    """Module -> {included module: first file that includes it}."""
    edges = {}
    for entry in sorted(os.listdir(ROOT)):
        folder = os.path.join(ROOT, entry)
        if not os.path.isdir(folder):
            continue
        for dirpath, _, files in os.walk(folder):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                for target in INCLUDE.findall(open(path, encoding="utf-8").read()):
                    if target != entry:
                        edges.setdefault(entry, {}).setdefault(target, os.path.relpath(path, os.path.dirname(ROOT)))
    return edges


def cycle(deps):
    """One cycle of the declared graph as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(deps.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(deps):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def main():
    deps = declared()
    problems = []
    for module, targets in sorted(used().items()):
        if module not in deps:
            problems.append(f"src/{module}: a folder of src/ with no synscope_module() in its CMakeLists.txt")
            continue
        for target, where in sorted(targets.items()):
            if target not in deps:
                continue  # not a module of ours (a system or third-party folder)
            if target not in deps[module]:
                problems.append(f"{where}: includes {target}/ but synscope_{module} does not list synscope_{target} in DEPS")
    loop = cycle(deps)
    if loop:
        problems.append("the declared DEPS have a cycle: " + " -> ".join(loop))
    if "--graph" in sys.argv[1:]:
        for module in sorted(deps):
            print(f"{module}: {' '.join(sorted(deps[module])) or '-'}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check-includes: {len(problems)} undeclared or circular edges", file=sys.stderr)
        return 1
    print(f"check-includes: {sum(len(v) for v in used().values())} module edges, all declared, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
