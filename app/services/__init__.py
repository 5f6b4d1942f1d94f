"""The thin layer that runs a command: load stream -> decide -> append -> project, in one
transaction. The API, the CLI and the deadline job all come through here."""
