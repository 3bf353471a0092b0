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
