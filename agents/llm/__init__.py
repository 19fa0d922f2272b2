"""Language-model agents and the one language-model interface (filled in below)."""
