"""The pure domain: events, commands, deciders, policies. No I/O, no wall clock."""
