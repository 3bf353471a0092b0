"""Fetch registry files, verified by sha256, from the mirror first, then the pinned URL.

    dip download --path table1/barbara.png --url URL --sha256 HEX [--mirror M] --out data/raw/table1/barbara.png
    dip download --configfile config.yaml [PATH ...]     (default: every file the experiments need)

The mirror is a directory laid out like the registry paths or a base URL; without --mirror,
$DIP_DATA_MIRROR (with --configfile: the config's `mirror`, else $DIP_DATA_MIRROR).
"""

from pathlib import Path

from .. import pipeline
from ..data import registry
from ..errors import DipError
from ..pipeline import reports


def add_arguments(p):
    p.add_argument("paths", nargs="*", help="registry paths (with --configfile)")
    p.add_argument("--configfile", type=Path,
                   help="workflow config (its registry sheet is read relative to its folder)")
    p.add_argument("--root", default=registry.RAW_ROOT, help="where --configfile downloads land")
    p.add_argument("--path", help="registry path of the one file (its path in the mirror)")
    p.add_argument("--url", help="pinned URL of the one file")
    p.add_argument("--sha256", help="expected sha256 of the one file")
    p.add_argument("--out", type=Path, help="destination of the one file")
    p.add_argument("--mirror", help="directory or base URL tried before the pinned URL")


def run(args) -> int:
    single = (args.path, args.url, args.sha256, args.out)
    if args.configfile is not None:
        if any(x is not None for x in single):
            raise DipError("--configfile and --path/--url/--sha256/--out do not go together")
        config = pipeline.load_config(args.configfile)
        mirror = args.mirror or registry.mirror_setting(config)
        needed = [raw.removeprefix(registry.RAW_ROOT + "/") for raw in reports.raw_files(pipeline.plan(config))]
        for path in args.paths or needed:
            print(registry.fetch(registry.entry(config, path), args.root, mirror))
        return 0
    if any(x is None for x in single):
        raise DipError("give --configfile, or all of --path, --url, --sha256 and --out")
    item = registry.Entry(args.path, image="", set="", role="", url=args.url, sha256=args.sha256.lower())
    print(registry.download(item, args.out, args.mirror or registry.mirror_setting({})))
    return 0
