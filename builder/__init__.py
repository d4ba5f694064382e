"""turmoil builder: raw scraped pages -> validated, translation-linked Parquet tables.

Run it from the repository as ``python -m builder``; see ``builder/pipeline.py`` for the stages.
"""

__version__ = "0.2.0"
