"""What a reader sees: the paper's facts, tables over fits, figures, and the report's content."""
