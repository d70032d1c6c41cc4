"""Running the model many times: replications, comparisons, grids and sweeps, and where they run."""
