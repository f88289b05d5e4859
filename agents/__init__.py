"""Stream processors, one module per concern. Each agent decodes, calls plain
domain functions, and writes tables and output topics; business rules live in
:mod:`domain`."""
