"""The network side of coprove: CLI now; daemons, peer mesh and client later."""
