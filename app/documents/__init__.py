"""Documents the service hands out (PDF), rendered from the domain's state."""
