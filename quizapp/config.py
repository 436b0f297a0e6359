"""All configuration in one place, read from the environment."""

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    questions_dir: Path
    data_dir: Path


def get_settings() -> Settings:
    data_dir = Path(os.environ.get("QUIZAPP_DATA_DIR", ROOT / "data"))
    url = os.environ.get("QUIZAPP_DATABASE_URL") or f"sqlite:///{data_dir / 'quizapp.db'}"
    questions = Path(os.environ.get("QUIZAPP_QUESTIONS_DIR", ROOT / "questions"))
    return Settings(database_url=url, questions_dir=questions, data_dir=data_dir)
