"""propfee: property-fee collection and owner relations over one SQLite file."""

__version__ = "0.2.0"
