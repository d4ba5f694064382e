"""Publishing, for real, against the Hub stand-in of tests/hubstub.py on 127.0.0.1: repository, one commit per
version, the tag, the check of the Hub's copy, the changelog, refusals, and `datasets` reading what was
published. Nothing here reaches the network; caches live in tmp_path."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import polars as pl
import pyarrow.parquet as pq
import pytest
from huggingface_hub import HfApi, constants

from builder import pipeline
from builder.changes import changelog, diff_table, entry
from builder.check import check_dataset
from builder.errors import DatasetProblem, PublishError, RemoteMismatch, TagExists
from builder.pipeline import Options, build
from builder.publish import CHANGELOG, previous_tag, publish
from builder.versions import versions
from conftest import ROOT, SEEDS
from hubstub import Blob, Hub

TOKEN = "hf_stand_in_secret_0123456789"
REPO = "turmoil-org/turmoil"


@pytest.fixture(scope="module")
def hub():
    with Hub(TOKEN) as running:
        yield running
    assert running.unknown == [], f"routes the stand-in lacks: {running.unknown}"


@pytest.fixture(scope="module")
def api(hub):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(constants, "HF_HUB_DISABLE_XET", True)  # plain LFS uploads, which the stand-in speaks
        mp.setattr(constants, "HF_HUB_OFFLINE", False)  # other modules set HF_HUB_OFFLINE=1; the stand-in is local
        yield HfApi(endpoint=hub.url, token=TOKEN)


def hub_env(hub: Hub, tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    return {**env, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf"),
            "HF_DATASETS_CACHE": str(tmp_path / "hf" / "datasets"), "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
            "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture(scope="module")
def second_build(tmp_path_factory):
    """Version 1.0.1: the seeds without their first page."""
    seeds = tmp_path_factory.mktemp("seeds-1.0.1")
    for page in sorted(SEEDS.glob("*.txt"))[1:]:
        shutil.copy(page, seeds / page.name)
    out = tmp_path_factory.mktemp("build-1.0.1") / "dataset"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "versions", lambda: {**versions(), "dataset_version": "1.0.1"})
        build(Options(seeds=seeds, out=out))
    return out


@pytest.fixture(scope="module")
def published(hub, api, seeds_build, second_build):
    """1.0.0 then 1.0.1 published to REPO."""
    return publish(seeds_build, REPO, "1.0.0", api=api), publish(second_build, REPO, "1.0.1", api=api)


def local_files(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------------------------- the happy path


def test_each_version_is_one_tagged_commit_holding_exactly_its_files(hub, published, seeds_build, second_build):
    repo = hub.repos[REPO]
    for result, folder in zip(published, (seeds_build, second_build)):
        assert repo.tags[result.tag] == result.commit
        files = hub.files(REPO, result.tag)
        assert set(files) == set(local_files(folder)) | {CHANGELOG, ".gitattributes"}
        assert all(files[rel] == data for rel, data in local_files(folder).items())
    first, second = published
    assert repo.commits[second.commit].parent == first.commit  # one commit per version, nothing in between
    assert repo.branches["main"] == second.commit


def test_commit_payload_parent_lfs_and_regular_files(hub, published, seeds_build):
    first_payload = next(p for p in hub.commit_payloads if p[0]["value"]["summary"] == "turmoil v1.0.0")
    header, *operations = first_payload
    assert header["value"]["parentCommit"] == hub.repos[REPO].commits[published[0].commit].parent
    by_path = {op["value"]["path"]: op["key"] for op in operations}
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    assert by_path == {rel: "lfsFile" if rel.endswith(".parquet") else "file"
                       for rel in [*manifest["files"], "manifest.json", CHANGELOG]}
    lfs = {op["value"]["path"]: op["value"]["oid"] for op in operations if op["key"] == "lfsFile"}
    assert lfs == {rel: manifest["files"][rel] for rel in lfs}


def test_changelog_compares_with_the_previous_tag_by_primary_key(hub, published):
    first, second = published
    assert first.previous is None and second.previous == "v1.0.0"
    log = hub.files(REPO, "v1.0.1")[CHANGELOG].decode()
    assert log.startswith("# Changelog\n\n## v1.0.1\n")
    assert "| articles | article_id | 5 | 4 | 0 | 1 | 0 |" in log
    removed = second.changes["paragraphs"].removed
    assert len(removed) == second.changes["paragraphs"].before - second.changes["paragraphs"].after > 0
    assert "## v1.0.0\n\nFirst published version" in log  # the previous file's history, kept below
    assert hub.files(REPO, "v1.0.0")[CHANGELOG].decode().removeprefix("# Changelog\n\n") in log
    assert "articles +0 -1 ~0" in str(second)


def test_publishing_an_existing_tag_is_refused_and_changes_nothing(hub, api, published, seeds_build):
    commits = len(hub.repos[REPO].commits)
    with pytest.raises(TagExists, match="v1.0.0 is already published"):
        publish(seeds_build, REPO, "1.0.0", api=api)
    assert len(hub.repos[REPO].commits) == commits


# ------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("path", ["build_report.json", "articles/train-00000-of-00001.parquet"])
def test_a_folder_whose_checksums_do_not_match_is_refused_before_any_request(hub, api, seeds_build, second_build,
                                                                              tmp_path, path):
    folder = shutil.copytree(seeds_build, tmp_path / "tampered")
    (folder / path).write_bytes((second_build / path).read_bytes())  # another version's file in its place
    requests = len(hub.requests)
    with pytest.raises(DatasetProblem) as err:
        publish(folder, "turmoil-org/tampered", "1.0.0", api=api)
    expected = json.loads((folder / "manifest.json").read_text())["files"][path]
    found = hashlib.sha256((folder / path).read_bytes()).hexdigest()
    assert f"{path}: sha256 {found} differs from the manifest's {expected}" in err.value.problems
    assert len(hub.requests) == requests


@pytest.mark.parametrize(("version", "message"), [
    pytest.param("9.9.9", "holds dataset version 1.0.0", id="not-the-folder's"),
    pytest.param("1.0", "is not X.Y.Z", id="not-semver"),
    pytest.param("01.0.0", "is not X.Y.Z", id="leading-zero"),
])
def test_a_version_other_than_the_folder_is_refused(hub, api, seeds_build, version, message):
    requests = len(hub.requests)
    with pytest.raises(PublishError, match=message):
        publish(seeds_build, "turmoil-org/versions", version, api=api)
    assert len(hub.requests) == requests


@pytest.mark.parametrize(("tags", "version", "expected"), [
    pytest.param({}, "1.0.0", None, id="first"),
    pytest.param({"v1.0.0": "a", "v1.2.0": "b", "v1.10.0": "c"}, "1.11.0", "v1.10.0", id="numeric-order"),
    pytest.param({"v1.0.0": "a", "not-a-version": "b"}, "2.0.0", "v1.0.0", id="other-tags-ignored"),
])
def test_previous_tag(tags, version, expected):
    assert previous_tag(tags, version) == expected


def test_an_older_version_than_the_published_ones_is_refused():
    with pytest.raises(PublishError, match="older than the published v1.2.0"):
        previous_tag({"v1.0.0": "a", "v1.2.0": "b"}, "1.1.0")


# ------------------------------------------------------------------------------------------- concurrency


def test_a_commit_made_meanwhile_is_retried_on_the_new_head(hub, api, seeds_build):
    repo_id = "turmoil-org/busy"

    def someone_else_commits(hub, repo):
        repo.commit(repo.branches["main"], "someone else", {**repo.resolve("main").files,
                                                            "notes.txt": Blob(b"hello", lfs=False)})

    hub.before_commit.append(someone_else_commits)
    result = publish(seeds_build, repo_id, "1.0.0", api=api, backoff=0)
    assert hub.statuses("POST", f"/api/datasets/{repo_id}/commit/") == [412, 200]
    assert "notes.txt" not in hub.files(repo_id, result.tag)  # the version's commit holds only the version
    assert hub.repos[repo_id].commits[result.commit].title == "turmoil v1.0.0"


@pytest.mark.parametrize(("path", "found"), [
    pytest.param("build_report.json", "git blob", id="regular-file"),
    pytest.param("articles/train-00000-of-00001.parquet", "sha256", id="lfs-file"),
])
def test_a_hub_copy_that_differs_is_reported_by_file(hub, api, seeds_build, path, found):
    repo_id = f"turmoil-org/corrupt-{path.split('/')[0].replace('.', '-')}"

    def corrupt(hub, repo, commit):
        blob = commit.files[path]
        commit.files[path] = Blob(blob.data[:-1] + bytes([blob.data[-1] ^ 1]), lfs=blob.lfs)

    hub.after_commit.append(corrupt)
    with pytest.raises(RemoteMismatch) as err:
        publish(seeds_build, repo_id, "1.0.0", api=api)
    [problem] = err.value.problems
    assert problem.startswith(f"{path}: {found} expected ") and problem.endswith("on the Hub")


# ------------------------------------------------------------------------------------------- the command


def test_command_line_publishes_with_the_token_from_the_environment_and_never_shows_it(hub, seeds_build,
                                                                                       tmp_path):
    command = [sys.executable, "-m", "builder", "publish", str(seeds_build), "--repo-id", "turmoil-org/cli",
               "--version", "1.0.0"]
    runs = [subprocess.run(command, cwd=ROOT, env=hub_env(hub, tmp_path, HF_TOKEN=token), capture_output=True,
                           text=True, timeout=120) for token in ("wrong-token", TOKEN, TOKEN)]
    assert [r.returncode for r in runs] == [1, 0, 1]
    assert "HTTP 401" in runs[0].stderr
    assert runs[1].stdout.startswith("published turmoil-org/cli v1.0.0 at commit ")
    assert "v1.0.0 is already published" in runs[2].stderr
    assert all(TOKEN not in r.stdout + r.stderr for r in runs)
    assert all(TOKEN.encode() not in data for data in hub.files("turmoil-org/cli", "v1.0.0").values())
    assert not list((tmp_path / "hf").rglob("token"))


# ------------------------------------------------------------------------------------------- reading it back


def test_datasets_loads_each_published_version_from_the_hub(hub, published, seeds_build, second_build, tmp_path):
    script = textwrap.dedent("""
        import json, sys
        import datasets
        repo, wanted = sys.argv[1], json.loads(sys.argv[2])
        rows = {f"{tag}/{config}": datasets.load_dataset(repo, config, revision=tag, split="train").to_list()
                for tag, config in wanted}
        print(json.dumps(rows, default=str))
    """)
    folders = {"v1.0.0": seeds_build, "v1.0.1": second_build}
    expected = {f"{tag}/{table}": pq.read_table(folder / table).to_pylist()
                for tag, folder in folders.items() for table in ("articles", "paragraphs", "translation_links")}
    wanted = [key.split("/") for key in expected]
    done = subprocess.run([sys.executable, "-c", script, REPO, json.dumps(wanted)], env=hub_env(hub, tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert loaded == json.loads(json.dumps(expected, default=str))
    assert check_dataset(seeds_build) and check_dataset(second_build)  # reading never touched the folders


def test_turmoil_loads_each_published_version_from_the_hub(hub, published, seeds_build, second_build, tmp_path):
    """`turmoil.load(table, revision=...)` fetches the tagged version through huggingface_hub's cache and
    checks it against its manifest; polars reads the same rows from the local folders."""
    script = textwrap.dedent("""
        import json, sys
        import turmoil
        repo = sys.argv[1]
        rows = {f"{version}/{table}": turmoil.load(table, revision=version, repo_id=repo).to_dicts()
                for version in ("1.0.0", "1.0.1") for table in turmoil.TABLES}
        print(json.dumps(rows, default=str))
    """)
    folders = {"1.0.0": seeds_build, "1.0.1": second_build}
    expected = {f"{version}/{table}": pl.read_parquet(folder / table / "*.parquet").to_dicts()
                for version, folder in folders.items() for table in ("articles", "paragraphs", "translation_links")}
    done = subprocess.run([sys.executable, "-c", script, REPO], env=hub_env(hub, tmp_path), capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == json.loads(json.dumps(expected, default=str))


# ------------------------------------------------------------------------------------------- changes


ARTICLE = {"article_id": "a0000000000000001", "title": "one"}


@pytest.mark.parametrize(("old", "new", "added", "removed", "changed"), [
    pytest.param([ARTICLE], [ARTICLE], 0, 0, 0, id="same"),
    pytest.param([], [ARTICLE], 1, 0, 0, id="added"),
    pytest.param([ARTICLE], [], 0, 1, 0, id="removed"),
    pytest.param([ARTICLE], [{**ARTICLE, "title": "two"}], 0, 0, 1, id="changed"),
])
def test_diff_by_primary_key(old, new, added, removed, changed):
    result = diff_table("articles", old, new)
    assert (len(result.added), len(result.removed), len(result.changed)) == (added, removed, changed)


def test_links_are_keyed_by_level_source_and_target():
    link = {"level": "article", "source_id": "a1", "target_id": "a2", "score": 0.5}
    result = diff_table("translation_links", [link], [{**link, "score": 0.9}, {**link, "level": "paragraph"}])
    assert result.changed == (("article", "a1", "a2"),) and result.added == (("paragraph", "a1", "a2"),)


def test_a_duplicate_primary_key_is_a_dataset_problem():
    with pytest.raises(DatasetProblem, match="appears twice"):
        diff_table("articles", [], [ARTICLE, ARTICLE])


def test_changelog_keeps_older_entries_below_the_newest():
    v = {"schema_version": "1.0.0", "builder_version": "0.1.0"}
    first = changelog(entry("1.0.0", v, {"articles": 5}), None)
    second = changelog(entry("1.0.1", v, {"articles": 4}, "v1.0.0", v,
                             {"articles": diff_table("articles", [ARTICLE], [])}), first)
    assert second.index("## v1.0.1") < second.index("## v1.0.0") and second.count("# Changelog") == 1
    assert "- articles, removed: `a0000000000000001`" in second
