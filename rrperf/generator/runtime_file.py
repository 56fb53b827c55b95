"""The runtime declaration file both generators write beside the models.

Every generated model imports the small runtime library from the module ``'rrperf-runtime'``.
So that an output folder type-checks as produced, with nothing else than the compiler::

    npx tsc --strict --noEmit models/*.ts models/types/*.ts

both generators (legacy, and the staged pipeline under every strategy) write the declaration
of that module into the folder as ``rrperf-runtime.d.ts``: an ambient ``declare module
'rrperf-runtime' { ... }`` file, the one shipped in ``rrperf/generator/runtime/``.

Why an ambient declaration rather than rewriting the imports to a relative ``./rrperf-runtime``:
the module name is the contract through which an application supplies the implementation (a
package, or a path alias in its ``tsconfig.json``); a relative import could only ever resolve
to a file inside the generated folder, so an application with its own runtime would have to
put it there, and the model files of the ``types/`` folder and of the root would need
different paths. With the ambient file the model files do not change at all; an application
that declares ``'rrperf-runtime'`` itself leaves the file out (``rrperf generate --no-runtime``,
``generate(..., runtime=False)``). tsc reads an ambient declaration when the file is part of the
program: listed on the command line (as above) or matched by the ``include`` of a
``tsconfig.json`` that covers the folder.

The content lives here only: :func:`runtime_files` is what every generator path calls.
"""

from __future__ import annotations

import functools

from rrperf.generator.render import RUNTIME_DTS

__all__ = ["RUNTIME_PATH", "runtime_file", "runtime_files"]

#: Relative path of the declaration file in the output folder.
RUNTIME_PATH = "rrperf-runtime.d.ts"


@functools.cache
def runtime_file() -> tuple[str, str]:
    """``(relative path, text)`` of the runtime declaration file (read once per process).

    >>> path, text = runtime_file()
    >>> path, "declare module 'rrperf-runtime'" in text
    ('rrperf-runtime.d.ts', True)
    """
    return RUNTIME_PATH, RUNTIME_DTS.read_text(encoding="utf-8")


def runtime_files(include: bool = True) -> dict[str, str]:
    """The runtime file as the ``{relative path: text}`` mapping the writers take.

    Parameters
    ----------
    include : bool
        ``False`` gives an empty mapping (an application that brings its own runtime).

    Returns
    -------
    dict of str to str
    """
    if not include:
        return {}
    path, text = runtime_file()
    return {path: text}
