"""Chapter drivers: the code each chapter notebook calls (config validation, runs, tables, figures)."""
