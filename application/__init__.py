"""Use cases of the network: commands and queries taking an actor and plain values."""
