"""Python logic of the behavioral segmentation dbt project: the CLI, the sample
data generator, the loader and the algorithms that Python models import."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
