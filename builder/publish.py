"""Publish a built dataset folder as one version of a Hugging Face dataset repository.

One commit holds every file of the version (and removes files of the previous one that are not in it), made
on top of the branch head read just before (``parent_commit``; retried when someone else committed in
between), then the tag ``vX.Y.Z`` on exactly that commit, then a check that the Hub holds what the manifest
says. CHANGELOG.md, generated here, compares the version with the previous tag's files by primary key.

The token is huggingface_hub's business (``HF_TOKEN`` or ``hf auth login``): it is never read, printed or
written here.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import RepoFile

from .changes import TableChanges, changelog, diff, entry, read_tables
from .check import check_dataset
from .errors import PublishError, RemoteMismatch, TagExists
from .files import sha256_file

REPO_TYPE = "dataset"
BRANCH = "main"
CHANGELOG = "CHANGELOG.md"
KEEP = frozenset({".gitattributes"})  # files of the repository that belong to no version
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
RETRY_STATUSES = (409, 412)  # the branch moved under us: read it again and commit again


@dataclass(frozen=True)
class Published:
    repo_id: str
    version: str
    commit: str
    files: int
    previous: str | None
    changes: Mapping[str, TableChanges]

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    def __str__(self) -> str:
        since = (f"; since {self.previous}: " + ", ".join(
            f"{t} +{len(c.added)} -{len(c.removed)} ~{len(c.changed)}" for t, c in self.changes.items())
            if self.previous else "; first version")
        return f"published {self.repo_id} {self.tag} at commit {self.commit} ({self.files} files{since})"


@dataclass(frozen=True)
class _Remote:
    head: str
    tags: dict[str, str]  # name -> commit
    files: frozenset[str]


def semver(version: str) -> tuple[int, int, int]:
    match = SEMVER.fullmatch(version)
    if not match:
        raise PublishError(f"version {version!r} is not X.Y.Z (semantic versioning, no leading zeros)")
    major, minor, patch = map(int, match.groups())
    return major, minor, patch


def _status(err: HfHubHTTPError) -> int | None:
    return err.response.status_code if err.response is not None else None


def _hub_error(repo_id: str, doing: str, err: HfHubHTTPError) -> PublishError:
    """A PublishError that says what was being done, where, and what the Hub answered."""
    message = getattr(err, "server_message", None) or str(err).splitlines()[0]
    return PublishError(f"{repo_id}: {doing} failed: HTTP {_status(err)}: {message}")


@contextmanager
def _hub(repo_id: str, doing: str) -> Iterator[None]:
    try:
        yield
    except HfHubHTTPError as err:
        raise _hub_error(repo_id, doing, err) from err


def _remote(api: HfApi, repo_id: str) -> _Remote:
    with _hub(repo_id, "reading the branches and tags"):
        refs = api.list_repo_refs(repo_id, repo_type=REPO_TYPE)
    heads = {b.name: b.target_commit for b in refs.branches}
    if BRANCH not in heads:
        raise PublishError(f"{repo_id}: no branch {BRANCH!r} to publish on")
    with _hub(repo_id, f"listing the files at {heads[BRANCH]}"):
        files = api.list_repo_files(repo_id, revision=heads[BRANCH], repo_type=REPO_TYPE)
    return _Remote(heads[BRANCH], {t.name: t.target_commit for t in refs.tags}, frozenset(files))


def previous_tag(tags: Mapping[str, str], version: str) -> str | None:
    """The highest published version below ``version``; refuses when a higher one is published (main holds
    the newest version)."""
    published = {semver(name[1:]): name for name in tags if name.startswith("v") and SEMVER.fullmatch(name[1:])}
    newer = sorted(v for v in published if v > semver(version))
    if newer:
        raise PublishError(f"v{version} is older than the published {published[newer[-1]]}: publish a higher version")
    older = sorted(v for v in published if v < semver(version))
    return published[older[-1]] if older else None


def _download(api: HfApi, repo_id: str, revision: str, rel: str, into: Path) -> Path | None:
    try:
        return Path(api.hf_hub_download(repo_id, rel, repo_type=REPO_TYPE, revision=revision, local_dir=into))
    except HfHubHTTPError as err:
        if _status(err) == 404:
            return None
        raise


def _notes(api: HfApi, repo_id: str, tag: str | None, commit: str | None, folder: Path, manifest: Mapping,
           version: str) -> tuple[str, dict[str, TableChanges]]:
    """CHANGELOG.md for this version, and the changes since the previous tag (its files downloaded)."""
    rows = dict(manifest["rows"])
    if tag is None or commit is None:
        return changelog(entry(version, manifest, rows), None), {}
    with tempfile.TemporaryDirectory(prefix="turmoil-previous-") as tmp, _hub(repo_id, f"downloading {tag}"):
        into = Path(tmp)
        old_manifest_path = _download(api, repo_id, commit, "manifest.json", into)
        if old_manifest_path is None:
            raise PublishError(f"{repo_id}: {tag} has no manifest.json: it was not published by this builder")
        old_manifest = json.loads(old_manifest_path.read_text(encoding="utf-8"))
        shards = sorted(rel for rel in old_manifest["files"] if rel.endswith(".parquet"))
        wrong = []
        for rel in shards:
            path = _download(api, repo_id, commit, rel, into)
            found = sha256_file(path) if path else "nothing (missing)"
            if found != old_manifest["files"][rel]:
                wrong.append(f"{rel}: sha256 {found}, {tag}'s manifest says {old_manifest['files'][rel]}")
        if wrong:
            raise RemoteMismatch(f"{repo_id}@{tag}", wrong)
        changes = diff(read_tables(into, shards), read_tables(folder, manifest["files"]))
        old_log = _download(api, repo_id, commit, CHANGELOG, into)
        text = entry(version, manifest, rows, tag, old_manifest, changes)
        return changelog(text, old_log.read_text(encoding="utf-8") if old_log else None), changes


def _git_blob_oid(path: Path) -> str:
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_remote(api: HfApi, repo_id: str, commit: str, expected: Mapping[str, Path],
                  sha256: Mapping[str, str]) -> None:
    """The files at ``commit`` are exactly ``expected`` (repository path -> local file), with the same sizes and
    checksums: sha256 for LFS files (as the manifest lists them), the git blob id for the others."""
    with _hub(repo_id, f"listing the files at {commit}"):
        remote = {e.path: e for e in api.list_repo_tree(repo_id, revision=commit, recursive=True, repo_type=REPO_TYPE)
                  if isinstance(e, RepoFile)}
    problems = []
    for rel, path in sorted(expected.items()):
        got = remote.get(rel)
        if got is None:
            problems.append(f"{rel}: missing on the Hub")
            continue
        size = path.stat().st_size
        if got.size != size:
            problems.append(f"{rel}: size expected {size} bytes, found {got.size} on the Hub")
        if got.lfs is not None and got.lfs.sha256 != sha256[rel]:
            problems.append(f"{rel}: sha256 expected {sha256[rel]}, found {got.lfs.sha256} on the Hub")
        elif got.lfs is None and got.blob_id != (local := _git_blob_oid(path)):
            problems.append(f"{rel}: git blob expected {local} (sha256 {sha256[rel]}), found {got.blob_id} on the Hub")
    problems += [f"{rel}: on the Hub but not part of this version" for rel in sorted(set(remote) - set(expected) - KEEP)]
    if problems:
        raise RemoteMismatch(f"{repo_id}@{commit}", problems)


def publish(folder: Path, repo_id: str, version: str, *, api: HfApi | None = None, attempts: int = 5,
            backoff: float = 1.0) -> Published:
    """Publish ``folder`` as ``v{version}`` of the dataset repository ``repo_id`` (created if missing)."""
    folder = Path(folder)
    manifest = check_dataset(folder)  # every checksum and row count, or DatasetProblem naming each file
    semver(version)
    if manifest["dataset_version"] != version:
        raise PublishError(f"{folder}: the folder holds dataset version {manifest['dataset_version']} (manifest.json "
                           f"and every Parquet file say so), not {version}")
    local = {rel: folder / rel for rel in [*manifest["files"], "manifest.json"]}
    if CHANGELOG in local or KEEP & local.keys():
        raise PublishError(f"{folder}: {CHANGELOG} and .gitattributes are the repository's, not the build's")
    sha256 = {**manifest["files"], "manifest.json": sha256_file(folder / "manifest.json")}
    api = api or HfApi()
    tag = f"v{version}"
    with _hub(repo_id, "creating the repository"):
        api.create_repo(repo_id, repo_type=REPO_TYPE, exist_ok=True)

    notes: dict[str | None, tuple[str, dict[str, TableChanges]]] = {}
    for attempt in range(1, attempts + 1):
        remote = _remote(api, repo_id)
        if tag in remote.tags:
            raise TagExists(f"{repo_id}: {tag} is already published (commit {remote.tags[tag]}); versions are never "
                            f"overwritten: build and publish a new version")
        previous = previous_tag(remote.tags, version)
        if previous not in notes:
            notes[previous] = _notes(api, repo_id, previous, remote.tags.get(previous or ""), folder, manifest, version)
        log, changes = notes[previous]
        operations = [CommitOperationAdd(rel, str(path)) for rel, path in sorted(local.items())]
        operations.append(CommitOperationAdd(CHANGELOG, log.encode("utf-8")))
        operations += [CommitOperationDelete(rel) for rel in sorted(remote.files - local.keys() - {CHANGELOG} - KEEP)]
        try:
            info = api.create_commit(
                repo_id, operations, commit_message=f"turmoil {tag}", repo_type=REPO_TYPE, revision=BRANCH,
                commit_description=f"Dataset version {version}, schema {manifest['schema_version']}, builder "
                                   f"{manifest['builder_version']}.", parent_commit=remote.head)
            break
        except HfHubHTTPError as err:
            if _status(err) in RETRY_STATUSES and attempt < attempts:
                time.sleep(backoff * attempt)
                continue
            raise _hub_error(repo_id, f"committing {tag} on {remote.head} (attempt {attempt} of {attempts})",
                             err) from err
    try:
        api.create_tag(repo_id, tag=tag, revision=info.oid, repo_type=REPO_TYPE, tag_message=f"turmoil {tag}")
    except HfHubHTTPError as err:
        if _status(err) == 409:
            raise TagExists(f"{repo_id}: {tag} was tagged by someone else while commit {info.oid} was made") from err
        raise _hub_error(repo_id, f"tagging {info.oid} as {tag}", err) from err

    with tempfile.TemporaryDirectory(prefix="turmoil-changelog-") as tmp:
        (Path(tmp) / CHANGELOG).write_text(log, encoding="utf-8")
        expected = {**local, CHANGELOG: Path(tmp) / CHANGELOG}
        verify_remote(api, repo_id, info.oid, expected, {**sha256, CHANGELOG: sha256_file(expected[CHANGELOG])})
    return Published(repo_id, version, info.oid, len(expected), previous, changes)
