"""HTTP: routers per audience, problem+json errors, authentication."""
