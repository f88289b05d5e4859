"""Tables: changelog-backed state, one module per table family."""
