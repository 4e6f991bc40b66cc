"""Customer emails: one per milestone of an order, prepared (rendered and stored) once per
cause and sent once.

The outbox runs ``email_for_event`` for every routed topic. It decides which email the event
means (or none), prepares the ``Notification`` under a key naming the cause, so a second run
finds the first one's row, and sends it unless it was sent already. A mail server that does
not answer is retried with backoff by the outbox; one that refuses the address for good
(5xx) fails the notification at once, and staff see it with the server's reason.
"""

from __future__ import annotations

import smtplib
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.email_context import customer_context
from notifications.enums import NotificationErrorCode, NotificationKind, NotificationState
from notifications.locks import lock_notification
from notifications.models import Notification
from notifications.rendering import RenderedEmail, render_email
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, Conflict, NotFound
from oms.common.outbox import GiveUp, TryLater, outbox_enqueue
from orders.models import Order
from returns.models import Return

SEND_TASK = "notifications.tasks.send_notification"

# Order status reached -> the email that tells the customer.
_STATUS_KINDS = {
    "order.created": NotificationKind.ORDER_RECEIVED,
    "order.paid": NotificationKind.PAYMENT_CONFIRMED,
    "order.updated": NotificationKind.ORDER_UPDATED,
    "order.shipped": NotificationKind.SHIPPED,
    "order.executed": NotificationKind.DELIVERED,
    "order.cancelled": NotificationKind.CANCELLED,
    "order.returned": NotificationKind.RETURN_RECEIVED,
    "refund.issued": NotificationKind.REFUND_ISSUED,
    "order.feedback_requested": NotificationKind.FEEDBACK_REQUEST,
}
# Return (RMA) status reached -> the email that tells the customer. A cancelled return
# (withdrawn before its parcel arrived) and an inspected one send none; a refunded one is
# told by ``refund.issued``, whose email names the return.
_RETURN_KINDS = {
    "return.requested": NotificationKind.RETURN_REQUESTED,
    "return.approved": NotificationKind.RETURN_APPROVED,
    "return.rejected": NotificationKind.RETURN_REJECTED,
    "return.received": NotificationKind.RETURN_RECEIVED,
}
# The parcel's latest tracking status -> the email it is worth.
_TRACKING_KINDS = {
    "out_for_delivery": NotificationKind.OUT_FOR_DELIVERY,
    "delayed": NotificationKind.DELAYED,
    "exception": NotificationKind.DELAYED,
    "attempted_delivery": NotificationKind.DELAYED,
}


def email_kind_and_key(payload: dict[str, Any]) -> tuple[str, str] | None:
    """Which customer email an outbox event means, and the key naming its cause; None when
    the event is worth no email. Tracking emails go at most once per parcel journey, kind
    and day: carriers repeat "out for delivery" scans."""
    topic = payload.get("topic", "")
    number = payload.get("order", "")
    if topic == "shipment.tracking_updated":
        kind = _TRACKING_KINDS.get(payload["snapshot"].get("tracking_status", ""))
        if kind is None:
            return None
        return kind, f"email:{kind}:{number}:{payload['shipment']}:{payload['occurred_at'][:10]}"
    kind = _RETURN_KINDS.get(topic)
    if kind is not None:
        return kind, f"email:{kind}:{number}:{payload['return']}:{payload['event']}"
    kind = _STATUS_KINDS.get(topic)
    if kind is None:
        return None
    if topic in ("order.created", "order.feedback_requested"):  # once per order
        return kind, f"email:{kind}:{number}"
    if topic == "refund.issued":
        return kind, f"email:{kind}:{number}:{payload['refund']}"
    return kind, f"email:{kind}:{number}:{payload['event']}"


def _message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return make_msgid(idstring="oms", domain=domain)


def notification_prepare(
    *,
    key: str,
    kind: str,
    recipients: list[str],
    rendered: RenderedEmail,
    order: Order | None = None,
    attach_invoice: bool = False,
    resend_of: Notification | None = None,
    requested_by_id: int | None = None,
) -> Notification:
    """Stores a rendered notification under ``key``; the one stored before when ``key`` exists
    (a second run of the same cause renders nothing new)."""
    existing = Notification.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Notification.objects.create(
                key=key,
                kind=kind,
                order=order,
                recipients=recipients,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                attach_invoice=attach_invoice,
                message_id=_message_id(),
                resend_of=resend_of,
                requested_by_id=requested_by_id,
            )
    except IntegrityError:  # prepared at the same moment by another run of the same cause
        return Notification.objects.get(key=key)


def _attachments(notification: Notification) -> list[tuple[str, bytes, str]]:
    if not notification.attach_invoice or notification.order_id is None:
        return []
    from orders.invoice_pdf import invoice_pdf
    from orders.models import Invoice

    invoice = Invoice.objects.filter(order_id=notification.order_id).first()
    if invoice is None:
        raise TryLater(f"The invoice of order {notification.order_id} is not issued yet.")
    return [(f"{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")]


def _refused_for_good(exc: smtplib.SMTPException) -> bool:
    """5xx answers about the address or the message are final; the rest may pass later
    (4xx, a dropped connection, a failed log-in that an operator will fix)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for address, (code, msg) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {error}"
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__


def notification_deliver(notification_id: int, attempt: int) -> Notification:
    """Sends a prepared notification unless it was sent (or failed for good) already. Raises
    TryLater while the mail server does not take it, GiveUp when it refuses it for good."""
    notification = Notification.objects.get(pk=notification_id)
    if notification.state != NotificationState.PENDING:
        return notification
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=notification.recipients,
        headers={"Message-ID": notification.message_id},
    )
    message.attach_alternative(notification.body_html, "text/html")
    for name, content, mimetype in _attachments(notification):
        message.attach(name, content, mimetype)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        error = _describe(exc)
        Notification.objects.filter(pk=notification.pk).update(attempts=attempt, last_error=error)
        if isinstance(exc, smtplib.SMTPException) and _refused_for_good(exc):
            raise GiveUp(error) from exc
        raise TryLater(error) from exc
    Notification.objects.filter(pk=notification.pk).update(
        state=NotificationState.SENT, sent_at=timezone.now(), attempts=attempt, last_error=""
    )
    notification.refresh_from_db()
    return notification


def notification_mark_failed(notification_id: int, error: str) -> None:
    Notification.objects.filter(pk=notification_id, state=NotificationState.PENDING).update(
        state=NotificationState.FAILED, failed_at=timezone.now(), last_error=error
    )


# --- the outbox handlers ---------------------------------------------------------------------


def email_for_event(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler (order, return and tracking events): prepares and sends the customer's
    email."""
    found = email_kind_and_key(payload)
    if found is None:
        return
    kind, key = found
    notification = Notification.objects.filter(key=key).first()
    if notification is None:
        order = Order.objects.select_related("shipping_address").filter(number=payload["order"]).first()
        if order is None or not order.customer_email:
            return
        if payload.get("topic") == "order.returned" and _told_by_return_emails(order):
            return
        attach_invoice = kind == NotificationKind.PAYMENT_CONFIRMED
        if attach_invoice:
            _ensure_invoice(order)
        notification = notification_prepare(
            key=key,
            kind=kind,
            recipients=[order.customer_email],
            rendered=render_email(kind, customer_context(kind, order, payload)),
            order=order,
            attach_invoice=attach_invoice,
        )
    notification_deliver(notification.pk, attempt)


def _told_by_return_emails(order: Order) -> bool:
    """An order that became returned because its returns (RMAs) brought every unit back: each
    return's arrival had its own email, so the order's move to returned sends none. Without a
    received return the order came back otherwise (a parcel returned to sender), and its
    ``order.returned`` email is the only one."""
    return Return.objects.filter(order=order, received_at__isnull=False).exists()


def _ensure_invoice(order: Order) -> None:
    from orders.services import invoice_issue

    try:
        invoice_issue(actor=Actor.system("invoicing"), number=order.number)
    except ApplicationError as exc:  # never paid after all: the email goes without one
        raise GiveUp(exc.message) from exc


def email_for_event_failed(payload: dict[str, Any], error: str) -> None:
    found = email_kind_and_key(payload)
    if found is None:
        return
    notification = Notification.objects.filter(key=found[1]).first()
    if notification is not None:
        notification_mark_failed(notification.pk, error)


def notification_send_handler(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler (resends, staff alerts): sends the prepared notification."""
    notification_deliver(payload["notification"], attempt)


def notification_send_failed(payload: dict[str, Any], error: str) -> None:
    notification_mark_failed(payload["notification"], error)


def notification_enqueue(notification: Notification) -> None:
    """In the caller's transaction: the notification is sent after commit, from the outbox."""
    outbox_enqueue(task=SEND_TASK, key=f"notification:{notification.pk}", payload={"notification": notification.pk})


# --- staff ----------------------------------------------------------------------------------


@transaction.atomic
def notification_resend(*, notification_id: int, actor: Actor) -> Notification:
    """Sends a notification again, as a new notification with the same content (so the log
    shows both). A customer email goes to the order's current address, which staff may have
    corrected after a bounce. Raises NotFound, and Conflict ``nothing_to_resend`` while the
    original is still being sent."""
    # Locked: two clicks on "resend" number their copies one after the other.
    original = lock_notification(notification_id)
    if original is None:
        raise NotFound(f"No notification {notification_id}.", code=NotificationErrorCode.NOTIFICATION_NOT_FOUND)
    if original.state == NotificationState.PENDING:
        raise Conflict(
            "This email is still being sent; resend it once it has been sent or has failed.",
            code=NotificationErrorCode.NOTHING_TO_RESEND,
            extra={"notification": original.pk, "state": original.state},
        )
    recipients = list(original.recipients)
    if original.order is not None and not original.kind.startswith("staff_") and original.order.customer_email:
        recipients = [original.order.customer_email]
    count = Notification.objects.filter(resend_of=original).count()
    copy = notification_prepare(
        key=f"resend:{original.pk}:{count + 1}",
        kind=original.kind,
        recipients=recipients,
        rendered=RenderedEmail(original.subject, original.body_text, original.body_html),
        order=original.order,
        attach_invoice=original.attach_invoice,
        resend_of=original,
        requested_by_id=actor.user_id,
    )
    notification_enqueue(copy)
    return copy
