"""Owner relations: profiles' tags and care, complaints and service requests."""
