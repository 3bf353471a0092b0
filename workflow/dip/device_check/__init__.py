"""The device check: what one call on a lent GPU machine measures, within a budget of seconds.

    python -m dip.device_check --out DIR [--budget 480] [--data .device-data] [--toy]
    python -m dip.device_check --fetch .device-data      (here, before: the Table-1 images)

In order, each step given what the budget leaves:

1. ``environment``: GPU name, memory and compute capability, driver, CUDA, cuDNN, torch, CPU.
2. ``gpu_tests``: ``pytest -m gpu`` (tests/test_gpu.py; skipped without CUDA).
3. ``bench``: every candidate path (dip.engine.precision.candidate_paths) at 256² and 512², each
   group of paths taking turns with fp32 eager in one run; GFLOP/s and the share of the
   card's peak where the card is known.
4. ``sharing``: k = 1, 2, 4 fits of one 512² image on one GPU at once (``dip fit`` processes
   through the GPU slots); the iterations per second of all k together.
5. ``table1``: paper-length Table-1 fits (seed 0, the authors' masks, the preset's 11,000
   iterations) in fast mode, house and peppers first, then the other nine, then house in
   faithful mode; as many at once as step 4 found best, each started only if it is predicted
   to end within the budget, and stopped (SIGTERM: a checkpoint) if the budget runs out
   anyway. Each is scored beside the paper's number and the authors' published output.

Writes summary.json, summary.md and fits.tar.gz (each fit's output.png, trace, meta and
metrics) into --out. The summary names every figure it could not measure and why. It runs from
the source tree (no install, no Snakemake, no network): the images come from --data, made here
by --fetch through the data registry (its sha256 checked). ``--toy`` runs the same lines at toy
size (64² crops, a few iterations): on the CPU, the test suite's guard against rot; on a GPU, a
smoke run before the real one.
"""
