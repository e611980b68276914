"""assay's main job on bundled data (HumanEval), run by ``assay demo`` and ``make run``."""

from assay.demo.humaneval import DemoResult, build_demo_data, run_demo

__all__ = ["DemoResult", "build_demo_data", "run_demo"]
