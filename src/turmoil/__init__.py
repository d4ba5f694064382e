"""turmoil: a clean, multilingual, translation-linked news corpus.

>>> import turmoil
>>> turmoil.load("articles").height
5
>>> sorted(turmoil.scan("paragraphs").select("lang").unique().collect()["lang"])
['fr', 'it', 'ja', 'pt', 'zh']

The data of the installed version ships inside the package and loads offline, checked against its
manifest. ``revision="1.0.1"`` loads another published version from the Hugging Face Hub instead
(needs the ``hub`` extra: ``pip install "turmoil[hub]"``).
"""

from __future__ import annotations

from ._loader import REPO_ID, TABLES, IntegrityError, data_dir, load, manifest, scan, to_hf

version: str = manifest()["dataset_version"]
__version__ = version

__all__ = ["REPO_ID", "TABLES", "IntegrityError", "data_dir", "load", "manifest", "scan", "to_hf", "version"]
