"""Running a fit: the loop, its numeric path, devices and GPU slots, the run folder's life,
and the speed benchmark. Knows nothing of Snakemake or the config."""
