"""Staff screens of fulfillment under /staff/: the picker's and the packer's, built for a
keyboard-wedge barcode scanner (one focused input, Enter submits) on a phone or handheld.

Every POST validates its form, calls one service and redirects (Post/Redirect/Get); what the
service answers comes back as a message: green when done, red when refused. A refused scan is
a result of the service (only its accuracy event is written); any other refusal is an
ApplicationError, and nothing changed. htmx (``hx-boost`` in the templates) only spares the
full page load; every screen works without it.
"""
