"""Deep-learning interview practice: the application package."""
