"""The command line: ``python -m builder {build,validate,eval-pages,eval-links} --help``.

The only place that prints errors and turns them into exit codes: 0 fine, 1 the data is wrong
(rejects, violations, failed checks), 2 the command was used wrongly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import TurmoilError, UsageError
from .executors import default_workers
from .read import MAX_BYTES


def _progress(total: int):  # type: ignore[no-untyped-def]
    from tqdm import tqdm  # the bar goes to stderr, and only when stderr is a terminal

    return tqdm(total=total, unit="shard", disable=None, file=sys.stderr).update


def cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import Options, build
    from .write import dump_json

    summary = build(Options(seeds=args.seeds, out=args.out, allow_rejects=args.allow_rejects,
                            max_bytes=args.max_bytes, workers=args.workers, executor=args.executor,
                            ray_address=args.ray_address, work=args.work, shard_files=args.shard_files),
                    progress=_progress)
    if args.timings:
        args.timings.write_bytes(dump_json(summary.timings()))
    print(summary)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .check import check_dataset

    manifest = check_dataset(args.folder)
    rows = ", ".join(f"{n} {t}" for t, n in manifest["rows"].items())
    print(f"{args.folder}: ok ({rows}; dataset {manifest['dataset_version']}, schema {manifest['schema_version']}, "
          f"builder {manifest['builder_version']})")
    return 0


def cmd_eval_pages(args: argparse.Namespace) -> int:
    from .evaluate_pages import eval_pages, format_pages

    print(format_pages(eval_pages(args.gold, args.build)))
    return 0


def cmd_eval_links(args: argparse.Namespace) -> int:
    from .evaluate import eval_links, format_report

    print(format_report(eval_links(args.gold, args.build)))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from huggingface_hub.utils import disable_progress_bars

    from .publish import publish

    if not sys.stderr.isatty():  # upload bars only on a terminal, as for the build's
        disable_progress_bars()
    print(publish(args.folder, args.repo_id, args.version))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m builder", description=__doc__.split("\n\n")[0])
    top.add_argument("--version", action="version", version=f"turmoil builder {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build the dataset folder from raw pages",
                       description="Read every file under --seeds and write the dataset folder --out: Parquet "
                                   "tables, manifest.json, build_report.json. Ends with a one-line summary.")
    b.add_argument("--seeds", type=Path, default=Path("seeds"), help="input folder (default: seeds/)")
    b.add_argument("--out", type=Path, default=Path("build/dataset"), help="output folder (default: build/dataset/)")
    b.add_argument("--allow-rejects", action="store_true",
                   help="write the dataset even if some inputs are rejected (they are listed in build_report.json)")
    b.add_argument("--max-bytes", type=int, default=MAX_BYTES,
                   help=f"inputs larger than this are rejected as too_large (default: {MAX_BYTES})")
    b.add_argument("--workers", type=int, default=default_workers(),
                   help="processes for the per-document and linking work (default: the number of cores)")
    b.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where the work runs: processes on this machine (default), or a Ray cluster (the ray extra)")
    b.add_argument("--ray-address", default=None,
                   help="with --executor ray: the address of an existing cluster (e.g. auto, ray://head:10001); "
                        "default: start a local one")
    b.add_argument("--work", type=Path, default=None,
                   help="folder for the work files a stopped build resumes from (default: .OUT.work beside "
                        "OUT); on a multi-node cluster it must be on storage every node sees")
    b.add_argument("--shard-files", type=int, default=None,
                   help="input files per unit of work (default: 256, or fewer so that each worker gets about 8 "
                        "units); the output does not depend on it")
    b.add_argument("--timings", type=Path, default=None,
                   help="write seconds per stage, pages and input bytes to this JSON file")
    b.set_defaults(run=cmd_build)

    v = sub.add_parser("validate", help="re-check a dataset folder",
                       description="Check manifest checksums, row counts, versions and every record against the "
                                   "schemas; list every problem.")
    v.add_argument("folder", type=Path)
    v.set_defaults(run=cmd_validate)

    evaluations = [  # name, what it measures, run
        ("eval-pages", "language, title, date and paragraphs of the articles", cmd_eval_pages),
        ("eval-links", "translation_links: article pairs (after transitive closure) and aligned paragraph pairs, "
                       "precision, recall and F1", cmd_eval_links),
    ]
    for name, measures, run in evaluations:
        e = sub.add_parser(name, help=f"{measures.split(':')[0]} against a gold file",
                           description=f"Compare a built dataset with gold.json (format of "
                                       f"shared/eval/ntrex-dev/gold.json): {measures}.")
        e.add_argument("gold", type=Path)
        e.add_argument("build", type=Path)
        e.set_defaults(run=run)

    p = sub.add_parser("publish", help="publish a dataset folder as one version on the Hugging Face Hub",
                       description="Check the folder, then make one commit holding every file of the version "
                                   "(with a generated CHANGELOG.md), tag it vX.Y.Z, and check the Hub's copy against "
                                   "the manifest. Refuses a version whose tag exists. The token comes from HF_TOKEN "
                                   "or `hf auth login`; HF_ENDPOINT chooses the Hub.")
    p.add_argument("folder", type=Path, help="a dataset folder written by `build`")
    p.add_argument("--repo-id", required=True, help="the dataset repository, ORG/NAME (created if missing)")
    p.add_argument("--version", required=True, help="X.Y.Z: must be the folder's dataset version")
    p.set_defaults(run=cmd_publish)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TurmoilError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
