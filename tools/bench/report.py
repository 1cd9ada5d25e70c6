"""Machine conditions, tables and JSON for every benchmark's results."""

import datetime
import json
import os
import platform
import subprocess
import sys


def conditions():
    """What the figures depend on: machine, load, versions, code."""
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        'cpu': _cpu_model(),
        'cpus': os.cpu_count(),
        'load_average': [round(x, 2) for x in os.getloadavg()],
        'memory_gb': round(os.sysconf('SC_PAGE_SIZE')
                           * os.sysconf('SC_PHYS_PAGES') / 2 ** 30, 1),
        'python': platform.python_version(),
        'commit': _git('rev-parse', '--short', 'HEAD'),
        'dirty': bool(_git('status', '--porcelain', '--untracked-files=no')),
    }


def _cpu_model():
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git(*args):
    try:
        return subprocess.run(
            ('git',) + args, capture_output=True, text=True, check=True,
            cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def table(columns, rows):
    """Rows of dicts as a text table with the given (key, title) columns."""
    cells = [[title for _, title in columns]]
    for row in rows:
        cells.append([_cell(row.get(key)) for key, _ in columns])
    widths = [max(len(line[i]) for line in cells)
              for i in range(len(columns))]
    lines = ['  '.join(
        text.rjust(width) if n else text.ljust(width)
        for n, (text, width) in enumerate(zip(line, widths, strict=True)))
        for line in cells]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, float):
        return '%.1f' % value if value < 100 else '%.0f' % value
    return str(value)


def emit(name, results, columns, rows, json_path=None):
    """Print the table; write (or print) the JSON document."""
    document = {'benchmark': name, 'conditions': conditions(),
                'results': results}
    print(table(columns, rows))
    print('load average at the end: %s' % ', '.join(
        '%.2f' % x for x in os.getloadavg()))
    if json_path == '-':
        json.dump(document, sys.stdout, indent=2, default=str)
        print()
    elif json_path:
        with open(json_path, 'w') as output:
            json.dump(document, output, indent=2, default=str)
        print('JSON written to %s' % json_path)
    return document
