"""The steps of a documentation page, taken from the page itself.

A test that runs what a page tells readers to do reads the commands from
the page's reStructuredText source, so that the page cannot drift from
what is tested. A step is the literal block (``::`` or ``.. code-block::``)
that follows a comment naming its kind::

    .. test: shell

    ::

        panko-dbsync --config-file /etc/panko/panko.conf

The kinds are ``shell`` (commands run in order, by one shell),
``background`` (one long-running command a line, such as a server) and
any other word, the path of a file the commands expect, whose text the
block is. Blocks without a comment are not run.
"""

import re
import shlex
import textwrap

MARKER = re.compile(r'^\.\. test: (\S+)\s*$')
CODE_BLOCK = re.compile(r'^\s*\.\. code-block::')


def steps(path):
    """The page's steps, as (kind, text), in the page's order."""
    with open(path) as f:
        lines = f.read().splitlines()
    return [(match.group(1), literal_block(lines, index + 1))
            for index, match in enumerate(map(MARKER.match, lines))
            if match]


def literal_block(lines, start):
    """The text of the first literal block from line ``start`` on."""
    index = next(i for i in range(start, len(lines))
                 if lines[i].rstrip().endswith('::') or
                 CODE_BLOCK.match(lines[i]))
    index += 1
    # Skip the blank lines and a directive's options.
    while index < len(lines) and (not lines[index].strip() or
                                  lines[index].strip().startswith(':')):
        index += 1
    block = []
    while index < len(lines) and (not lines[index].strip() or
                                  lines[index].startswith(' ')):
        block.append(lines[index])
        index += 1
    return textwrap.dedent('\n'.join(block)).strip() + '\n'


def replace(text, replacements):
    """``text`` with each key of ``replacements`` replaced, in one pass.

    The longest key that matches wins, and a replacement is never
    replaced again.
    """
    pattern = re.compile('|'.join(map(re.escape, sorted(
        replacements, key=len, reverse=True))))
    return pattern.sub(lambda match: replacements[match.group()], text)


def script(page_steps):
    """A shell script doing the shell and file steps, in order."""
    parts = ['set -ex']
    for kind, text in page_steps:
        if kind == 'shell':
            parts.append(text)
        elif kind != 'background':
            target = shlex.quote(kind)
            parts.append('mkdir -p "$(dirname %s)"\n'
                         "cat >> %s <<'END_OF_DOC_STEP'\n%sEND_OF_DOC_STEP"
                         % (target, target, text))
    return '\n'.join(parts) + '\n'
