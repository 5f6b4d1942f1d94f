"""The public web page: the public search module for people, server-rendered in Dutch."""
