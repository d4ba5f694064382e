"""A Hugging Face Hub stand-in for the tests: dataset repos in memory, served on 127.0.0.1.

It answers the endpoints that ``huggingface_hub`` (create_repo, create_commit with LFS uploads, create_tag,
list_repo_refs, list_repo_tree, get_paths_info, hf_hub_download) and ``datasets.load_dataset`` call, the way
the Hub does, and nothing else: an unknown route is a 404 recorded in ``Hub.unknown``. Writes need
``Authorization: Bearer <token>``. Parquet files are stored as LFS objects (upload through the LFS batch API
and a PUT), other files as regular blobs in the commit payload. Run it alone with ``python tests/hubstub.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
DATE = "2024-01-01T00:00:00.000Z"  # every commit's date: the stand-in has no clock


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Blob:
    data: bytes
    lfs: bool

    def entry(self, path: str) -> dict:
        entry = {"type": "file", "path": path, "size": len(self.data), "oid": git_blob_oid(self.data)}
        if self.lfs:
            entry["lfs"] = {"oid": hashlib.sha256(self.data).hexdigest(), "size": len(self.data), "pointerSize": 134}
        return entry


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    files: dict[str, Blob]


@dataclass
class Repo:
    repo_id: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision) or self.tags.get(revision) or revision
        return self.commits.get(oid)

    def commit(self, parent: str | None, title: str, files: dict[str, Blob]) -> Commit:
        seed = json.dumps([parent, title, len(self.commits), sorted((p, b.entry(p)["oid"]) for p, b in files.items())])
        commit = Commit(hashlib.sha1(seed.encode()).hexdigest(), parent, title, files)
        self.commits[commit.oid] = commit
        self.branches["main"] = commit.oid
        return commit


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra: object):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


class Hub:
    """The state, and the server around it. ``with Hub(token) as hub: ... hub.url ...``"""

    def __init__(self, token: str):
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}  # sha256 -> content
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every request
        self.unknown: list[str] = []  # routes the stand-in does not implement
        self.commit_payloads: list[list[dict]] = []  # every commit's ndjson lines (contents left out)
        self.before_commit: list = []  # callables(hub, repo) run once each before the next commit is applied
        self.after_commit: list = []  # callables(hub, repo, commit) run once each after the next commit
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="hubstub", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Hub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    # ------------------------------------------------------------------------------------------ helpers

    def repo(self, repo_id: str) -> Repo:
        if repo_id not in self.repos:
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return self.repos[repo_id]

    def commit_at(self, repo_id: str, revision: str) -> Commit:
        commit = self.repo(repo_id).resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    def files(self, repo_id: str, revision: str) -> dict[str, bytes]:
        return {path: blob.data for path, blob in self.commit_at(repo_id, revision).files.items()}

    def statuses(self, method: str, pattern: str) -> list[int]:
        return [status for m, path, status in self.requests if m == method and re.search(pattern, path)]


# ------------------------------------------------------------------------------------------------ routes


def _create_repo(hub: Hub, body: dict) -> dict:
    if body.get("type") != "dataset":
        raise HubError(400, "the stand-in only holds dataset repos")
    repo_id = f"{body['organization']}/{body['name']}" if body.get("organization") else body["name"]
    if repo_id in hub.repos:
        raise HubError(409, "You already created this dataset repo", url=f"{hub.url}/datasets/{repo_id}")
    repo = hub.repos[repo_id] = Repo(repo_id)
    repo.commit(None, "initial commit", {".gitattributes": Blob(GITATTRIBUTES, lfs=False)})
    return {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id}


def _info(hub: Hub, repo_id: str, revision: str) -> dict:
    commit = hub.commit_at(repo_id, revision)
    return {"id": repo_id, "_id": repo_id, "sha": commit.oid, "private": False, "gated": False, "disabled": False,
            "downloads": 0, "likes": 0, "tags": [], "lastModified": DATE, "createdAt": DATE,
            "siblings": [{"rfilename": path} for path in sorted(commit.files)]}


def _refs(hub: Hub, repo_id: str) -> dict:
    repo = hub.repo(repo_id)

    def ref(kind: str, name: str, oid: str) -> dict:
        return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}

    return {"branches": [ref("heads", n, o) for n, o in sorted(repo.branches.items())],
            "tags": [ref("tags", n, o) for n, o in sorted(repo.tags.items())], "converts": [], "pullRequests": []}


def _preupload(hub: Hub, repo_id: str, revision: str, body: dict) -> dict:
    hub.commit_at(repo_id, revision)
    return {"files": [{"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(".parquet") else "regular",
                       "shouldIgnore": False, "oid": None} for f in body["files"]]}


def _lfs_batch(hub: Hub, repo_id: str, body: dict) -> dict:
    hub.repo(repo_id)
    objects = []
    for obj in body["objects"]:
        answer = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
        if obj["oid"] not in hub.lfs:
            answer["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{obj['oid']}", "expires_in": 3600}}
        objects.append(answer)
    return {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}


def _lfs_put(hub: Hub, oid: str, data: bytes) -> dict:
    if hashlib.sha256(data).hexdigest() != oid:
        raise HubError(400, f"LFS upload: content does not hash to {oid}")
    hub.lfs[oid] = data
    return {}


def _commit(hub: Hub, repo_id: str, revision: str, body: bytes) -> dict:
    repo = hub.repo(repo_id)
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    hub.commit_payloads.append([{**line, "value": {k: v for k, v in line["value"].items() if k != "content"}}
                                for line in lines])
    header = lines[0]["value"]
    while hub.before_commit:
        hub.before_commit.pop(0)(hub, repo)
    head = repo.branches.get(revision)
    if head is None:
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
    parent = header.get("parentCommit")
    if parent is not None and parent != head:
        raise HubError(412, f"A commit has happened since. Please refresh and try again (parent {parent}, head {head})")
    files = dict(repo.commits[head].files)
    for line in lines[1:]:
        key, value = line["key"], line["value"]
        if key == "file":
            files[value["path"]] = Blob(base64.b64decode(value["content"]), lfs=False)
        elif key == "lfsFile":
            if value["oid"] not in hub.lfs:
                raise HubError(400, f"{value['path']}: LFS object {value['oid']} was never uploaded")
            files[value["path"]] = Blob(hub.lfs[value["oid"]], lfs=True)
        elif key == "deletedFile":
            if files.pop(value["path"], None) is None:
                raise HubError(404, f"A file with this name doesn't exist: {value['path']}", "EntryNotFound")
        elif key == "deletedFolder":
            files = {p: b for p, b in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
        else:
            raise HubError(400, f"unknown commit operation {key!r}")
    commit = repo.commit(head, header["summary"], files)
    while hub.after_commit:
        hub.after_commit.pop(0)(hub, repo, commit)
    return {"commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{commit.oid}", "commitOid": commit.oid,
            "success": True, "pullRequestUrl": None}


def _tag(hub: Hub, repo_id: str, revision: str, body: dict) -> dict:
    repo = hub.repo(repo_id)
    commit = hub.commit_at(repo_id, revision)
    if body["tag"] in repo.tags:
        raise HubError(409, f"Tag {body['tag']} already exists")
    repo.tags[body["tag"]] = commit.oid
    return {}


def _entries(commit: Commit, under: str, recursive: bool, expand: bool) -> list[dict]:
    prefix = under.strip("/") + "/" if under.strip("/") else ""
    files = {p: b for p, b in commit.files.items() if p.startswith(prefix)}
    if prefix and not files:
        raise HubError(404, f"{under} does not exist", "EntryNotFound")
    found: dict[str, dict] = {}
    for path, blob in sorted(files.items()):
        parts = path[len(prefix):].split("/")
        for depth in range(1, len(parts)):
            folder = prefix + "/".join(parts[:depth])
            if recursive or depth == 1:
                oid = hashlib.sha1(folder.encode() + commit.oid.encode()).hexdigest()
                found.setdefault(folder, {"type": "directory", "path": folder, "oid": oid})
        if recursive or len(parts) == 1:
            found[path] = blob.entry(path)
    entries = list(found.values())
    if expand:
        for entry in entries:
            entry["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": DATE}
    return entries


def _paths_info(commit: Commit, paths: list[str], expand: bool) -> list[dict]:
    found = []
    for path in paths:
        path = path.strip("/")
        if path in commit.files:
            found.append(commit.files[path].entry(path))
        elif any(p.startswith(path + "/") for p in commit.files):
            found.append({"type": "directory", "path": path,
                          "oid": hashlib.sha1(path.encode() + commit.oid.encode()).hexdigest()})
    if expand:
        for entry in found:
            entry["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": DATE}
    return found


# ------------------------------------------------------------------------------------------------ HTTP

REPO = r"(?P<repo>[^/]+/[^/]+)"
SEGMENT = r"(?P<rev>[^/]+)"


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: the tests read hub.requests instead
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            body = self._body()
            try:
                with hub.lock:
                    status, headers, payload = self._route(method, split.path, query, body)
            except HubError as err:
                status, payload = err.status, json.dumps({"error": err.message, **err.extra}).encode()
                headers = {"Content-Type": "application/json", "X-Error-Message": err.message}
                if err.code:
                    headers["X-Error-Code"] = err.code
            hub.requests.append((method, split.path, status))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _authorized(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {hub.token}":
                raise HubError(401, "Invalid credentials in Authorization header")

        def _route(self, method: str, path: str, query: dict, body: bytes) -> tuple[int, dict, bytes]:
            def ok(data: object) -> tuple[int, dict, bytes]:
                return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()

            def match(pattern: str):
                return re.fullmatch(pattern, path)

            if method == "POST" and path == "/api/repos/create":
                self._authorized()
                return ok(_create_repo(hub, json.loads(body)))
            if method == "POST" and path == "/api/validate-yaml":
                content = json.loads(body)["content"]
                front = re.match(r"---\n(.*?)\n---\n", content, re.S)
                try:
                    yaml.safe_load(front.group(1) if front else "")
                except yaml.YAMLError as err:
                    return 400, {"Content-Type": "application/json"}, json.dumps(
                        {"errors": [{"message": str(err)}], "warnings": []}).encode()
                return ok({"errors": [], "warnings": []})
            if method == "GET" and (m := match(rf"/api/datasets/{REPO}(?:/revision/{SEGMENT})?")):
                return ok(_info(hub, m["repo"], unquote(m["rev"] or "main")))
            if method == "GET" and (m := match(rf"/api/datasets/{REPO}/refs")):
                return ok(_refs(hub, m["repo"]))
            if method == "POST" and (m := match(rf"/api/datasets/{REPO}/preupload/{SEGMENT}")):
                self._authorized()
                return ok(_preupload(hub, m["repo"], unquote(m["rev"]), json.loads(body)))
            if method == "POST" and (m := match(rf"/datasets/{REPO}\.git/info/lfs/objects/batch")):
                self._authorized()
                return ok(_lfs_batch(hub, m["repo"], json.loads(body)))
            if method == "PUT" and (m := match(r"/lfs-upload/(?P<oid>[0-9a-f]{64})")):
                return ok(_lfs_put(hub, m["oid"], body))
            if method == "POST" and (m := match(rf"/api/datasets/{REPO}/commit/{SEGMENT}")):
                self._authorized()
                return ok(_commit(hub, m["repo"], unquote(m["rev"]), body))
            if method == "POST" and (m := match(rf"/api/datasets/{REPO}/tag/{SEGMENT}")):
                self._authorized()
                return ok(_tag(hub, m["repo"], unquote(m["rev"]), json.loads(body)))
            if method == "GET" and (m := match(rf"/api/datasets/{REPO}/tree/{SEGMENT}(?P<under>/.*)?")):
                commit = hub.commit_at(m["repo"], unquote(m["rev"]))
                return ok(_entries(commit, unquote(m["under"] or ""), query.get("recursive", "").lower() == "true",
                                   query.get("expand", "").lower() == "true"))
            if method == "POST" and (m := match(rf"/api/datasets/{REPO}/paths-info/{SEGMENT}")):
                form = parse_qs(body.decode())
                commit = hub.commit_at(m["repo"], unquote(m["rev"]))
                return ok(_paths_info(commit, form.get("paths", []), form.get("expand", [""])[-1].lower() == "true"))
            if method in ("GET", "HEAD") and (m := match(rf"/datasets/{REPO}/resolve/{SEGMENT}/(?P<file>.+)")):
                return self._resolve(m["repo"], unquote(m["rev"]), unquote(m["file"]))
            hub.unknown.append(f"{method} {path}")
            raise HubError(404, f"the stand-in has no route {method} {path}")

        def _resolve(self, repo_id: str, revision: str, path: str) -> tuple[int, dict, bytes]:
            commit = hub.commit_at(repo_id, revision)
            if path not in commit.files:
                raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
            blob = commit.files[path]
            entry = blob.entry(path)
            etag = entry["lfs"]["oid"] if blob.lfs else entry["oid"]
            headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{etag}"', "Accept-Ranges": "bytes",
                       "Content-Type": "application/octet-stream"}
            if blob.lfs:
                headers |= {"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(blob.data))}
            data = blob.data
            ranged = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range") or "")
            if ranged and data:
                start, end = ranged.groups()
                first = int(start) if start else max(0, len(data) - int(end))
                last = min(int(end), len(data) - 1) if start and end else len(data) - 1
                headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
                return 206, headers, data[first:last + 1]
            return 200, headers, data

    return Handler


if __name__ == "__main__":  # a stand-in to try `python -m builder publish` against by hand
    import argparse
    import time

    cli = argparse.ArgumentParser(description="serve a Hub stand-in on 127.0.0.1 until interrupted")
    cli.add_argument("--token", required=True, help="the token writes must carry (HF_TOKEN of the client)")
    args = cli.parse_args()
    with Hub(args.token) as running:
        print(running.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
