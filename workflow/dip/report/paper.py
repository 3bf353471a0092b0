"""Numbers published in the paper: the one source the report and the tests read.

Table 1 of Ulyanov et al. (CVPR 2018): PSNR (dB) for inpainting with 50 % of pixels missing.
"""

TABLE1_IMAGES = (
    "barbara", "boat", "house", "lena", "peppers", "cameraman",
    "couple", "fingerprint", "hill", "man", "montage",
)

#: Column headers the paper uses for each image.
TABLE1_LABELS = {
    "barbara": "Barbara", "boat": "Boat", "house": "House", "lena": "Lena",
    "peppers": "Peppers", "cameraman": "C.man", "couple": "Couple",
    "fingerprint": "Finger", "hill": "Hill", "man": "Man", "montage": "Montage",
}

TABLE1_DIP = {
    "barbara": 32.22, "boat": 33.06, "house": 39.16, "lena": 36.16, "peppers": 33.05,
    "cameraman": 29.8, "couple": 32.52, "fingerprint": 32.84, "hill": 32.77, "man": 32.20,
    "montage": 34.54,
}

#: Convolutional sparse coding (Papyan et al., ICCV 2017), as quoted in Table 1.
TABLE1_PAPYAN = {
    "barbara": 28.14, "boat": 31.44, "house": 34.58, "lena": 35.04, "peppers": 31.11,
    "cameraman": 27.90, "couple": 31.18, "fingerprint": 31.34, "hill": 32.35, "man": 31.92,
    "montage": 28.05,
}

#: Settings of the paper's runs, by engine preset: (setting, what the paper and its supplementary
#: material state, what the official code does). "–" where the paper text gives no value.
HYPERPARAMETERS = {
    "table1": (
        ("network", "skip encoder-decoder, 5 scales, n_d = n_u = 128, n_s = 4, k_d = k_u = 3, k_s = 1",
         "skip(): the same; 2,217,573 parameters for one output channel"),
        ("upsampling", "bilinear", "bilinear (behaves as align_corners=True before PyTorch 0.4)"),
        ("input z", "–", "32 channels, U(0, 1) × 0.1, image size"),
        ("input noise σ_r per iteration", "–", "0.03"),
        ("optimiser", "–", "Adam, default betas, constant learning rate"),
        ("learning rate", "–", "0.001"),
        ("iterations", "–", "11000"),
        ("loss", "‖(f_θ(z) − x₀) ⊙ m‖²", "mean((out − x₀)² · m)"),
        ("backtracking", "–", "every 50th iteration, before the step: on a > 5 dB drop of the training "
         "output's masked PSNR, copy the last good weights back (weights only; the step still "
         "follows); runs only with plotting on (the default)"),
        ("Barbara padding", "–", "reflection pad to 514 × 514; PSNR on the padded image"),
        ("final image", "–", "network in train mode fed the last noisy input z + σ_r·n"),
        ("BN γ initialisation", "–", "U(0, 1) (PyTorch ≤ 0.4)"),
    ),
    "text_inpainting": (
        ("network", "skip encoder-decoder, 5 scales", "skip(): n_d = n_u = n_s = 128, nearest; 3,002,627 parameters"),
        ("upsampling", "–", "nearest"),
        ("input z", "–", "32 channels, U(0, 1) × 0.1"),
        ("input noise σ_r per iteration", "–", "0.03"),
        ("optimiser", "–", "Adam, default betas, constant learning rate"),
        ("learning rate", "–", "0.01"),
        ("iterations", "–", "6001"),
        ("loss", "‖(f_θ(z) − x₀) ⊙ m‖²", "mean((out − x₀)² · m)"),
        ("backtracking", "–", "none"),
        ("final image", "–", "network in train mode fed z (the noisy input is local to the closure)"),
    ),
}

#: Where our run departs from, or has to choose between, the paper and the official code.
PITFALLS = (
    ("BN initialisation and bilinear upsampling",
     "PyTorch ≤ 0.4 drew BN γ from U(0, 1) and upsampled bilinearly like align_corners=True; "
     "current PyTorch uses γ = 1 and align_corners=False. The paper was made with the old behaviour."),
    ("Final image", "The notebooks show the network in train mode (BN on the image's own statistics) "
     "after the last update; the Table-1 notebook feeds it the last noisy input z + σ_r·n, not z."),
    ("Backtracking", "The official notebook only backtracks when plotting is on, so whether the paper's runs did is unknown."),
    ("Seeds", "Nothing in the official code is seeded and run-to-run scatter is never reported."),
    ("Barbara padding", "The Table-1 notebook reflection-pads Barbara to 514 × 514 and scores the padded image."),
    ("Determinism", "Bilinear upsampling has no deterministic CUDA backward kernel; nearest does."),
)

#: Super-resolution, 4x, PSNR on Y (the official evaluation script), by registry set: the mean
#: over the set for DIP and for bicubic upsampling (paper, Sec. 4 and its SR table). The
#: per-image numbers go under "images" (registry image name -> dB) where a source gives them.
SR = {
    "set5_x4": {"dip": 29.90, "bicubic": 28.43, "images": {}},
    "set14_x4": {"dip": 27.00, "bicubic": 26.05, "images": {}},
}

#: Colour denoising, Gaussian sigma 25, the nine-image set (paper, Sec. 4): one run at 1800
#: iterations, with the output average, and the average of two runs.
DENOISING = {
    "denoising_color": {"single": 29.22, "average": 30.43, "two_runs": 31.00},
}
