"""What an experiment is, as data: networks, presets, fit settings, tasks, execution paths and
the images a fit writes. Free of torch, so the planner and the report stand on it too."""
