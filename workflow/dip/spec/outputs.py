"""The images every fit writes and scores, and what each one is (no torch: the report reads it)."""

#: name -> (label in tables, what the image is). `output` is the paper's; the others are ours.
OUTPUTS = {
    "output": ("Ours: the paper's output",
               "the image the authors' procedure ends with: the network in train mode after the "
               "last update, fed the last iteration's input z + σ_r·n (the Table-1, denoising and "
               "super-resolution notebooks), or z where the notebook shows f(z) (text, vase and "
               "library inpainting)"),
    "output_clean": ("Noise-free output",
                     "the network in train mode after the last update, fed z without input noise"),
    "ema": ("Output average",
            "the exponential moving average (weight 0.99) of every training output"),
    "output_es": ("Stopped without ground truth",
                  "the training output of the iteration ES-WMV detects without the ground truth "
                  "(the lowest variance of the last W outputs); the final output when the fit is too "
                  "short to fill a window"),
}
