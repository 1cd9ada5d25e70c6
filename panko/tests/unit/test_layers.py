"""The import graph keeps the layers the architecture page draws.

doc/source/contributor/architecture.rst: a module imports modules of its
own layer or of a lower one, never of a higher one; there is no import
cycle; nothing but the tests imports the tests, and no test imports
``conftest``.
"""

import ast
import pathlib

import pytest

import panko

PACKAGE = pathlib.Path(panko.__file__).parent
REPOSITORY = PACKAGE.parent

# The rank of each unit: a module may import a unit of a lower rank, or
# another module of its own unit (the longest prefix that names it).
RANKS = {
    'panko': 0,
    'panko.safe_text': 0,
    'panko.scrub': 0,
    'panko.profiler': 0,
    'panko.storage': 1,
    'panko.ingestion': 2,
    'panko.api.errors': 3,
    'panko.api.policies': 3,
    'panko.api.query': 4,
    'panko.api.rbac': 5,
    'panko.api.hooks': 6,
    'panko.api.controllers': 7,
    'panko.api': 8,
    'panko.dispatcher': 8,
    'panko.opts': 9,
    'panko.service': 10,
    'panko.publisher': 11,
    'panko.cmd': 11,
    'panko.wsgi': 11,
}


def module_name(path):
    parts = path.relative_to(REPOSITORY).with_suffix('').parts
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def is_module(name):
    path = REPOSITORY.joinpath(*name.split('.'))
    return path.with_suffix('.py').is_file() or path.is_dir()


def imported_modules(path):
    """Every module a file imports, at its top or inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f'{node.module}.{alias.name}'
                found.add(name if is_module(name) else node.module)
    return found


def unit_of(name):
    matches = [unit for unit in RANKS
               if name == unit or name.startswith(unit + '.')]
    return max(matches, key=len) if matches else None


def package_modules():
    for path in sorted(PACKAGE.rglob('*.py')):
        name = module_name(path)
        if not name.startswith('panko.tests'):
            yield name, path


def import_graph():
    return {name: {target for target in imported_modules(path)
                   if target.split('.')[0] == 'panko'}
            for name, path in package_modules()}


def test_every_module_has_a_layer():
    assert [name for name, _ in package_modules()
            if unit_of(name) is None] == []


def test_no_module_imports_a_higher_layer():
    upward = []
    for name, targets in import_graph().items():
        unit = unit_of(name)
        for target in targets:
            other = unit_of(target)
            if other != unit and RANKS[other] >= RANKS[unit]:
                upward.append(f'{name} -> {target}')
    assert upward == []


def test_no_import_cycle():
    graph = import_graph()
    cycles = []
    state = {}

    def visit(name, trail):
        state[name] = 'open'
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 'open':
                cycles.append(trail[trail.index(target):] + [target])
            elif target in graph and target not in state:
                visit(target, trail + [target])
        state[name] = 'done'

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize('folder', ['panko', 'tools', 'devstack'])
def test_only_tests_import_the_tests(folder):
    offenders = []
    for path in sorted((REPOSITORY / folder).rglob('*.py')):
        if 'tests' in path.relative_to(REPOSITORY).parts:
            continue
        if any(name.startswith('panko.tests')
               for name in imported_modules(path)):
            offenders.append(str(path.relative_to(REPOSITORY)))
    assert offenders == []


def test_no_test_imports_conftest():
    offenders = [str(path.relative_to(REPOSITORY))
                 for folder in ('panko', 'tools', 'devstack')
                 for path in sorted((REPOSITORY / folder).rglob('*.py'))
                 if any(name.split('.')[-1] == 'conftest'
                        for name in imported_modules(path))]
    assert offenders == []
