"""Staff pages of orders under /staff/: an order's invoice to download.

The permission decorator and the PDF answer are the same as those of the warehouse screens
(``fulfillment/views/common.py``), written out here because orders may not import
fulfillment (docs/architecture.md, dependency direction).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from oms.common.errors import NotFound
from orders.invoice_pdf import invoice_filename, invoice_pdf
from orders.selectors import invoice_of_order

DOWNLOAD_INVOICE = "orders.download_invoice"

View = Callable[..., HttpResponse]


def staff_permission(perm: str) -> Callable[[View], View]:
    """Anonymous visitors go to the log-in; signed-in users without ``perm`` get 403."""

    def decorate(view: View) -> View:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


@require_GET
@staff_permission(DOWNLOAD_INVOICE)
def invoice_download(request: HttpRequest, number: str) -> HttpResponse:
    """The order's invoice PDF, shown in the browser (saved as ``<invoice number>.pdf``); a
    page saying why when the order is unknown or not invoiced yet (404)."""
    try:
        invoice = invoice_of_order(number=number)
    except NotFound as exc:
        heading = f"No invoice for order {number}" if exc.code != "order_not_found" else f"No order {number}"
        context = {"heading": heading, "message": exc.message, "number": number}
        return render(request, "orders/invoice_missing.html", context, status=404)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice_filename(invoice)}"'
    return response
