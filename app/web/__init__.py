"""HTTP views served by Faust's aiohttp web server (DESIGN.md, "HTTP API").

Every module of this package is imported by autodiscovery; one module per
resource. Lookups of keyed state use :func:`app.web.routing.route_to_owner`: the worker asked
answers from its own table partition or forwards the GET to the owner.
"""
