"""Write the data registry sheet (workflow/registry.tsv) from a mirror's MANIFEST.tsv.

Every MANIFEST row with a pinned public URL and an image mode becomes one registry entry:
its path (also its path in a mirror and under data/raw/), the image name and role an
experiment asks for, the set it belongs to, its size, the URL and the sha256. Rows without a URL are
files computed from others (the derived Table-1 masks): the workflow computes those itself.

    python workflow/scripts/registry_from_manifest.py /path/to/mirror/MANIFEST.tsv workflow/registry.tsv
"""

import argparse
import csv
import re
import sys
from pathlib import Path

COLUMNS = ("path", "image", "set", "role", "width", "height", "sha256", "url")

#: The BM3D test-set file names of the published Table-1 files, by image name.
TABLE1_NAMES = {"Lena512": "lena", "peppers256": "peppers", "Cameraman256": "cameraman"}
#: Suffix of a published Table-1 file -> role.
TABLE1_ROLES = {"masked": "masked", "deep_prior": "dip", "papyan": "papyan", "voronoi": "voronoi"}

#: (path pattern, set, role); `name` in the pattern is the image name. First match wins.
RULES = [
    (r"table1/(?P<name>[^/]+)\.png", "table1", "gt"),
    (r"table1/dip_project_page/(?P<name>.+)_(?P<kind>masked|deep_prior|papyan|voronoi)\.png", "table1", None),
    (r"dip/inpainting/(?P<name>[^/]+)_mask\.png", "inpainting", "mask"),
    (r"dip/inpainting/(?P<name>[^/]+)\.png", "inpainting", "gt"),
    (r"dip/restoration/(?P<name>[^/]+)\.png", "restoration", "gt"),
    (r"dip/denoising/(?P<name>[^/]+)_GT\.png", "denoising", "gt"),
    (r"dip/denoising/(?P<name>[^/]+)\.jpg", "denoising", "observed"),  # a real noisy photo
    (r"dip/sr/(?P<name>[^/]+)_GT\.png", "sr", "gt"),
    (r"dip/sr/(?P<name>[^/]+)_crop\.png", "sr", "crop"),
    (r"dip/flash_no_flash/(?P<name>[^_/]+)_00_flash\.jpg", "flash_no_flash", "flash"),
    (r"dip/flash_no_flash/(?P<name>[^_/]+)_01_noflash\.jpg", "flash_no_flash", "noflash"),
    (r"dip/feature_inversion/(?P<name>[^/]+)\.jpg", "feature_inversion", "gt"),
    (r"dip/(?P<name>teaser)_compiled\.jpg", "teaser", "figure"),
    (r"sr/(?P<s>Set5|Set14)/(?P<x>x4|x8)/(?P<name>[^/]+)_GT\.png", "{s}_{x}", "gt"),
    (r"sr/(?P<s>Set5|Set14)/(?P<x>x4|x8)/(?P<name>[^/]+)_bicubic\.png", "{s}_{x}", "bicubic"),
    (r"sr/(?P<s>Set5|Set14)/HR_original/(?P<name>[^/]+?)(_GT)?\.bmp", "{s}_hr", "hr"),
    (r"denoising_color/(?P<name>[^/]+)_GT\.png", "denoising_color", "gt"),
]


def classify(path: str) -> tuple[str, str, str]:
    """(image, set, role) of a MANIFEST path; an unknown layout is an error, not a guess."""
    for pattern, set_, role in RULES:
        m = re.fullmatch(pattern, path)
        if m:
            g = m.groupdict()
            name = TABLE1_NAMES.get(g["name"], g["name"]).lower()
            role = role or TABLE1_ROLES[g["kind"]]
            return name, set_.format(**g).lower(), role
    raise SystemExit(f"no registry rule for MANIFEST path {path}; add one to RULES")


def registry_lines(manifest: Path) -> list[str]:
    rows = list(csv.DictReader(manifest.open(newline=""), delimiter="\t"))
    entries = []
    for row in rows:
        if not row["raw_url"] or not row["mode"]:
            continue
        image, set_, role = classify(row["path"])
        entries.append((row["path"], image, set_, role, row["raw_url"], row["sha256"],
                        int(row["width"]), int(row["height"])))
    # Table 1 first, then the official repo's data: where an image has several files for a
    # role, the first one listed is the one an experiment gets unless it names a set.
    order = ["table1/", "dip/inpainting/", "dip/", "sr/", "denoising_color/"]
    entries.sort(key=lambda e: (next(i for i, p in enumerate(order) if e[0].startswith(p)), e[0]))
    seen = {}
    lines = ["\t".join(COLUMNS) + "\n"]
    for path, image, set_, role, url, sha, width, height in entries:
        if (set_, image, role) in seen:
            raise SystemExit(f"{path} and {seen[set_, image, role]} are both {set_}/{image}/{role}")
        seen[set_, image, role] = path
        lines.append("\t".join(map(str, (path, image, set_, role, width, height, sha, url))) + "\n")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("sheet", type=Path, help="the registry sheet to write (TSV)")
    args = parser.parse_args(argv)
    args.sheet.write_text("".join(registry_lines(args.manifest)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
