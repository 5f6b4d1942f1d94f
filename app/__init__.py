"""kmop-registry: the system of record for kmo-portefeuille service-provider registrations."""
