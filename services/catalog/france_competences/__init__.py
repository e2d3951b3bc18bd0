"""Reading the official France Compétences exports (XML V4.1 flow and the 10-file CSV zip)."""
