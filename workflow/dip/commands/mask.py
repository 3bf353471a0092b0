"""Make an inpainting mask PNG (255 = known): Bernoulli, rendered text, or recovered.

    dip mask bernoulli --size 512 --missing 0.5 --seed 0 --out mask.png
    dip mask text --like photo.png --holes 0.05 --seed 0 --out mask.png
    dip mask derived --gt barbara.png --masked barbara_masked.png --out mask.png
"""

from pathlib import Path

from ..data.images import parse_size, read_image, to_uint8
from ..errors import DipError
from ..physics import masks


def add_arguments(p):
    p.add_argument("kind", choices=["bernoulli", "text", "derived"])
    p.add_argument("--size", metavar="H[xW]", help="mask size (bernoulli, text)")
    p.add_argument("--like", type=Path, help="take the size from this image (bernoulli, text)")
    p.add_argument("--missing", type=float, default=0.5, help="bernoulli: fraction missing")
    p.add_argument("--holes", type=float, default=0.05, help="text: fraction covered by text")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gt", type=Path, help="derived: the ground truth")
    p.add_argument("--masked", type=Path, help="derived: the published masked input")
    p.add_argument("--out", type=Path, required=True)


def run(args) -> int:
    if args.kind == "derived":
        if args.gt is None or args.masked is None:
            raise DipError("derived masks need --gt and --masked")
        mask, ambiguous = masks.derive_mask(to_uint8(read_image(args.gt)[0]), to_uint8(read_image(args.masked)[0]))
        note = f", {int(ambiguous.sum())} ambiguous pixels (ground truth 0) marked missing"
    else:
        if (args.size is None) == (args.like is None):
            raise DipError(f"{args.kind} masks need exactly one of --size and --like")
        shape = parse_size(args.size) if args.size else read_image(args.like)[0].shape[:2]
        if args.kind == "bernoulli":
            mask = masks.bernoulli_mask(shape, args.missing, args.seed)
        else:
            mask = masks.text_mask(shape, args.holes, args.seed)
        note = ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    masks.save_mask(args.out, mask)
    print(f"{args.out}: known fraction {mask.mean():.4f}{note}")
    return 0
