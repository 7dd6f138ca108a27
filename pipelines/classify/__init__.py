"""Framework-free archetype classification (DOMAIN.md §3).

* :mod:`.definitions` loads MTGOFormatData folders (``load_format``, ``load_all``);
* :mod:`.reference` is the slow, obviously-correct evaluator (the oracle);
* :mod:`.matcher` is the compiled matcher used in bulk (``compile_format``);
* :mod:`.explain`, :mod:`.check`, :mod:`.detect` and :mod:`.cli` serve the command line.
"""

from pipelines.classify.definitions import DefinitionError, FormatDefinitions
from pipelines.classify.definitions_loader import load_all, load_format
from pipelines.classify.matcher import CompiledFormat, compile_format
from pipelines.classify.result import ConflictMode, Detection, Method

__all__ = [
    "CompiledFormat",
    "ConflictMode",
    "DefinitionError",
    "Detection",
    "FormatDefinitions",
    "Method",
    "compile_format",
    "load_all",
    "load_format",
]
