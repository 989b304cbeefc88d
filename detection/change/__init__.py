"""The CHANGE detector: compare each patrol with earlier flights of the same route, aligned in time and space."""
