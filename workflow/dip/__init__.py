"""dip: a faithful, fast Deep Image Prior engine (Ulyanov, Vedaldi, Lempitsky, CVPR 2018)."""

__version__ = "0.1.0"
