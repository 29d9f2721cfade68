"""logtrack: count listing-detail views in access logs for flexmls ViewTracking."""

__version__ = "0.1.0"
