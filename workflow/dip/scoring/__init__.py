"""How a result is scored: PSNR and SSIM, and a fit's evaluation against its ground truth."""
