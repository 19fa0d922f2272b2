"""Students of supervision tasks: models trained on a supervisor's labels."""
