"""Reading the estate: surveys, the collection and daily reports, the full export."""
