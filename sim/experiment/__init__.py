"""Experiments: variants x replications (x sweep points) with common random numbers."""

from sim.experiment.runner import Results, load_results, run_experiment
from sim.experiment.spec import ExperimentSpec, load_experiment

__all__ = ["ExperimentSpec", "Results", "load_experiment", "load_results", "run_experiment"]
