"""The networks as torch modules, built from their spec (dip.spec.network)."""
