"""Best-of-N selection among a generator's solutions: process and outcome reward models,
majority vote and the oracle (Lightman et al. 2023; Uesato et al. 2022)."""
