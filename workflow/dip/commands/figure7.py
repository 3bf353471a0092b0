"""Figure 7: kate text inpainting (top) and Barbara with half of the pixels missing (bottom), PSNR per panel.

Our outputs are output.npy files; --*-prep crops them (and the prepared observed image and
ground truth) back to the original extent (prep.json `box`). The published outputs are
source-size images: when prep.json has a `source_box` (a quick run's centre crop) they are cut
to that window so every panel shows the same pixels. The PSNR under each panel is computed
here against the ground truth.
"""

from ..data.images import load_image
from ..files.jsonio import read_json
from ..report.figures import figure7, save
from ..scoring.evaluate import load_array, to_original, to_source_window


def add_arguments(p):
    for who in ("kate", "barbara"):
        p.add_argument(f"--{who}-observed", required=True, help=f"{who}: observed.png (masked input)")
        p.add_argument(f"--{who}-output", required=True, help=f"{who}: our output.npy")
        p.add_argument(f"--{who}-gt", required=True, help=f"{who}: gt.png at the prepared size")
        p.add_argument(f"--{who}-prep", help=f"{who}: prep.json (original box)")
    p.add_argument("--barbara-papyan", required=True, help="Papyan et al.'s published Barbara output")
    p.add_argument("--barbara-published-dip", required=True, help="the authors' published DIP Barbara output")
    p.add_argument("--out-png", required=True)
    p.add_argument("--out-pdf", required=True)


def _prep(args, who: str) -> dict | None:
    path = getattr(args, f"{who}_prep")
    return read_json(path) if path else None


def _ours(args, who: str) -> dict:
    prep = _prep(args, who)
    out = load_array(getattr(args, f"{who}_output"))
    if out.ndim == 3 and out.shape[2] == 1:
        out = out[..., 0]
    return {
        "observed": to_original(load_image(getattr(args, f"{who}_observed")), prep),
        "ours": to_original(out, prep),
        "gt": to_original(load_image(getattr(args, f"{who}_gt")), prep),
    }


def run(args) -> int:
    barbara = _ours(args, "barbara")
    prep = _prep(args, "barbara")
    barbara["papyan"] = to_source_window(load_image(args.barbara_papyan), prep)
    barbara["published_dip"] = to_source_window(load_image(args.barbara_published_dip), prep)
    # 200 dpi keeps a 512-pixel image near full resolution in its panel.
    save(figure7(_ours(args, "kate"), barbara), args.out_png, args.out_pdf, dpi=200)
    return 0
