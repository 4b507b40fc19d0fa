"""A link per invited person, signer links derived from a nonce, one signature per mailbox, and
an event chain keyed with a secret outside the database that records the state each change made.
"""

import base64
import hashlib
import hmac
import json
import secrets

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models
from django.utils.crypto import salted_hmac

ACTIVE = ["unconfirmed", "pending_review", "approved", "needs_reconfirmation"]


def email_key(address):
    # As signatories.addresses.email_key on the day of this migration.
    local, at, domain = address.strip().casefold().rpartition("@")
    if not at:
        return address.strip().casefold()
    local = local.split("+", 1)[0]
    if domain in {"gmail.com", "googlemail.com"}:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}"


def new_link(kind):
    """A nonce and the hash of the token it derives, as signatories.tokens on this day."""
    nonce = secrets.token_urlsafe(16)
    mac = salted_hmac(f"signatories.tokens.{kind}", nonce, algorithm="sha256")
    token = base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
    return nonce, hashlib.sha256(token.encode()).hexdigest()


def invitations_per_person(apps, schema_editor):
    """Each organization-wide invitation becomes the invitation of its first recipient."""
    Invitation = apps.get_model("signatories", "Invitation")
    Contact = apps.get_model("coalition", "Contact")
    for invitation in Invitation.objects.all():
        contacts = Contact.objects.filter(organization_id=invitation.organization_id)
        contact = None
        for address in invitation.emailed_to or []:
            contact = contacts.filter(email__iexact=address).first()
            if contact is not None:
                break
        contact = contact or contacts.order_by("-is_primary", "name").first()
        invitation.contact = contact
        invitation.name = contact.name if contact else ""
        invitation.email = contact.email if contact else f"invitation-{invitation.pk}@invalid"
        # The old links were random tokens, kept only as hashes, that no email can carry again:
        # each invitation gets a link the reminders can derive (the old one stops working).
        invitation.token_nonce, invitation.token_hash = new_link("invitation")
        invitation.save(update_fields=["contact", "name", "email", "token_nonce", "token_hash"])


def signer_email_keys(apps, schema_editor):
    """Each signature's mailbox key, and a link of the signer's own that emails can carry."""
    Signature = apps.get_model("signatories", "Signature")
    for signature in Signature.objects.exclude(signer_email=""):
        signature.signer_email_key = email_key(signature.signer_email)
        signature.token_nonce, signature.token_hash = new_link("signature")
        signature.save(update_fields=["signer_email_key", "token_nonce", "token_hash"])


def _iso(value):
    return value.isoformat() if value else None


# As each model's chain_state() on the day of this migration.
STATE = {
    "sign_on": lambda r: {
        "status": r.status,
        "revision": r.revision_id,
        "text_hash": r.text_hash,
        "deadline": r.deadline.isoformat(),
        "open_link_token_hash": r.open_link_token_hash,
        "accepts_requests": r.accepts_requests,
        "auto_approve_authorized": r.auto_approve_authorized,
    },
    "invitation": lambda r: {
        "organization": r.organization_id,
        "contact": r.contact_id,
        "email": r.email,
        "token_hash": r.token_hash,
        "forwarded_by": r.forwarded_by_id,
        "opened_at": _iso(r.opened_at),
        "responded_at": _iso(r.responded_at),
        "reminders_sent": r.reminders_sent,
    },
    "signature": lambda r: {
        "organization": r.organization_id,
        "response": r.response,
        "status": r.status,
        "display_name": r.display_name,
        "group": r.group,
        "signer_name": r.signer_name,
        "signer_title": r.signer_title,
        "signer_email": r.signer_email,
        "affiliation": r.affiliation,
        "logo": r.logo_id,
        "text_hash": r.text_hash,
        "token_hash": r.token_hash,
    },
}


def baseline_states(Event, sign_on, invitations, signatures):
    """Each row's state as of now, recorded on the latest event that touched it: the rows are
    checked against the chain from here on (earlier events recorded no state)."""
    states = {}
    latest = Event.objects.filter(sign_on=sign_on).order_by("-sequence").first()
    if latest is None:
        return states
    states.setdefault(latest.pk, {})["sign_on"] = STATE["sign_on"](sign_on)
    for kind, rows, field in (
        ("invitation", invitations, "invitation"),
        ("signature", signatures, "signature"),
    ):
        for row in rows:
            event = (
                Event.objects.filter(sign_on=sign_on, **{field: row})
                .order_by("-sequence")
                .first()
            )
            if event is not None:
                states.setdefault(event.pk, {})[kind] = STATE[kind](row)
    return states


def rekey_event_chains(apps, schema_editor):
    """Hash every chain again, as HMACs keyed outside the database, recording the rows' state."""
    SignOn = apps.get_model("signatories", "SignOn")
    Event = apps.get_model("signatories", "Event")
    Invitation = apps.get_model("signatories", "Invitation")
    Signature = apps.get_model("signatories", "Signature")
    explicit = getattr(settings, "EVENT_CHAIN_KEY", "")
    key = (
        explicit.encode()
        if explicit
        else salted_hmac(
            "signatories.event-chain", "key", secret=settings.SECRET_KEY, algorithm="sha256"
        ).digest()
    )
    for sign_on in SignOn.objects.all():
        states = baseline_states(
            Event,
            sign_on,
            Invitation.objects.filter(sign_on=sign_on),
            Signature.objects.filter(sign_on=sign_on),
        )
        previous = ""
        for event in Event.objects.filter(sign_on=sign_on).order_by("sequence"):
            state = states.get(event.pk, {})
            payload = {
                "sign_on": event.sign_on_id,
                "sequence": event.sequence,
                "action": event.action,
                "invitation": event.invitation_id,
                "signature": event.signature_id,
                "organization": event.organization_id,
                "user": event.user_id,
                "actor": event.actor,
                "ip_address": event.ip_address,
                "user_agent": event.user_agent,
                "text_hash": event.text_hash,
                "detail": event.detail,
                "state": state,
                "created_at": event.created_at.isoformat(timespec="microseconds"),
                "previous_hash": previous,
            }
            encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
            digest = hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
            # Events refuse updates through the model; the historical model has no such guard.
            Event.objects.filter(pk=event.pk).update(
                previous_hash=previous, hash=digest, state=state
            )
            previous = digest
        SignOn.objects.filter(pk=sign_on.pk).update(last_event_hash=previous)


class Migration(migrations.Migration):
    dependencies = [
        ("coalition", "0004_organization_pending_and_merged"),
        ("signatories", "0006_open_link"),
    ]

    operations = [
        migrations.AddField(
            model_name="signon",
            name="recipients",
            field=models.CharField(
                choices=[
                    ("signers", "Authorized signers, or the primary contact where none is listed"),
                    ("all", "Every contact of the organization"),
                ],
                default="signers",
                help_text="Each person invited gets a link of their own; the organization answers once.",
                max_length=20,
                verbose_name="who is invited at each organization",
            ),
        ),
        # Invitations: one per person.
        migrations.RemoveConstraint(
            model_name="invitation", name="one_invitation_per_organization"
        ),
        migrations.AddField(
            model_name="invitation",
            name="contact",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty when a colleague was forwarded the request at an address not on file.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="invitations",
                to="coalition.contact",
            ),
        ),
        migrations.AddField(
            model_name="invitation",
            name="name",
            field=models.CharField(
                default="", help_text="The person invited, as greeted.", max_length=255
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="invitation",
            name="email",
            field=models.EmailField(
                default="", help_text="The address the link was sent to.", max_length=254
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="invitation",
            name="forwarded_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The invitation of the colleague who passed the request on.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="forwards",
                to="signatories.invitation",
            ),
        ),
        migrations.AddField(
            model_name="invitation",
            name="token_nonce",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.RunPython(invitations_per_person, migrations.RunPython.noop),
        migrations.RemoveField(model_name="invitation", name="emailed_to"),
        migrations.AlterModelOptions(
            name="invitation",
            options={"ordering": ["sign_on", "organization__sort_name", "name"]},
        ),
        migrations.AddConstraint(
            model_name="invitation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("contact__isnull", False)),
                fields=("sign_on", "contact"),
                name="one_invitation_per_contact",
            ),
        ),
        migrations.AddConstraint(
            model_name="invitation",
            constraint=models.UniqueConstraint(
                models.F("sign_on"),
                django.db.models.functions.text.Lower("email"),
                name="one_invitation_per_address",
            ),
        ),
        # Signatures: a link of the signer's own, one per mailbox, reasons computed when read.
        migrations.RenameField(
            model_name="signature", old_name="withdraw_token_hash", new_name="token_hash"
        ),
        migrations.AddField(
            model_name="signature",
            name="token_nonce",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="signature",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="signature",
            name="signer_email_key",
            field=models.CharField(blank=True, max_length=254),
        ),
        migrations.RunPython(signer_email_keys, migrations.RunPython.noop),
        migrations.RemoveField(model_name="signature", name="review_reasons"),
        migrations.RemoveConstraint(
            model_name="signature", name="one_active_signature_per_individual"
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(
                models.F("letter"),
                models.F("signer_email_key"),
                condition=models.Q(
                    ("organization__isnull", True),
                    ("status__in", ACTIVE),
                    models.Q(("signer_email_key", ""), _negated=True),
                ),
                name="one_active_signature_per_individual_mailbox",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(
                condition=models.Q(("token_hash", ""), _negated=True),
                fields=("token_hash",),
                name="signature_token_hash_unique",
            ),
        ),
        # The chain: keyed, recording state, its head kept with each publication.
        migrations.AddField(
            model_name="event",
            name="state",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(rekey_event_chains, migrations.RunPython.noop),
        migrations.AddField(
            model_name="publication",
            name="chain_head",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="publication",
            name="chain_length",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
