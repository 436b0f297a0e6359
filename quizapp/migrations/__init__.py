"""Alembic migrations; `quizapp init` runs them to head."""
