"""Typed exceptions. Library code raises these; only ``builder/__main__.py`` turns them into exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class TurmoilError(Exception):
    """Base class of every error the builder raises on purpose."""


class UsageError(TurmoilError):
    """The builder was asked for something that cannot work (the command line exits 2)."""


@dataclass(frozen=True)
class Reject:
    """An input file that cannot become an article, and why."""

    path: str  # relative to the input folder, '/'-separated
    reason: str  # a short code: empty, binary, undecodable, nul_byte, symlink, too_large, no_text, unreadable
    detail: str  # what was found and what to do about it
    offset: int | None = None  # byte offset of the offending byte, where there is one

    def __str__(self) -> str:
        where = f" at byte {self.offset}" if self.offset is not None else ""
        return f"{self.path}{where}: {self.reason}: {self.detail}"

    def as_dict(self) -> dict:
        return {"path": self.path, "reason": self.reason, "detail": self.detail, "offset": self.offset}


class RejectedInputs(TurmoilError):
    """Some inputs were rejected and the build was not told to allow that."""

    def __init__(self, rejects: list[Reject]):
        self.rejects = rejects
        lines = "\n".join(f"  {r}" for r in rejects)
        super().__init__(
            f"{len(rejects)} input file(s) rejected; nothing was written. Fix or remove them, "
            f"or pass --allow-rejects to build without them:\n{lines}"
        )


@dataclass(frozen=True)
class Violation:
    """One record that breaks the JSON Schema contract, located precisely."""

    table: str
    record: str  # the record's id (article_id, paragraph_id, or link index)
    source_path: str | None  # the input file the record came from, when known
    field: str  # JSON pointer into the record, e.g. /removed/3/char_end
    message: str

    def __str__(self) -> str:
        src = f" (from {self.source_path})" if self.source_path else ""
        return f"{self.table} {self.record}{src}: field {self.field or '/'}: {self.message}"


class ContractViolation(TurmoilError):
    """Records that do not match the schemas: every violation, not just the first."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        lines = "\n".join(f"  {v}" for v in violations[:200])
        more = f"\n  ... and {len(violations) - 200} more" if len(violations) > 200 else ""
        super().__init__(f"{len(violations)} schema violation(s):\n{lines}{more}")


class Problems(TurmoilError):
    """Every problem found at one place (a folder, a repository), one per line."""

    what = "problem(s)"

    def __init__(self, where: str, problems: list[str]):
        self.where = where
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{where}: {len(problems)} {self.what}:\n{lines}")


class DatasetProblem(Problems):
    """A dataset folder that does not check out (missing file, wrong checksum, wrong row count...)."""


class CacheError(TurmoilError):
    """A file of the machine's cache (``TURMOIL_CACHE_DIR``, by default ~/.cache/turmoil) is damaged; deleting
    it has it made again."""


class CardError(TurmoilError):
    """The dataset card template and the data or schemas do not fit together (a placeholder, a reason...)."""


class PublishError(TurmoilError):
    """A version could not be published, or what was published does not match the local folder."""


class TagExists(PublishError):
    """The version's tag is already on the Hub: versions are never overwritten."""


class RemoteMismatch(PublishError, Problems):
    """Files on the Hub after an upload that differ from the local folder: every difference, by file."""

    what = "file(s) on the Hub do not match the local folder"
