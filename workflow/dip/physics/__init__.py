"""How an observation is made from a clean image: forward operators, degradations, masks."""
