"""The project's own system checks: what its settings name must exist."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

#: Settings that name, by dotted path, how the apps take part in each other's work.
COMPOSED = (
    "CRM_MERGE_PARTICIPANTS",
    "CRM_TIMELINE_SOURCES",
    "LETTER_IMPORTER",
    "LETTER_OPEN_DATA",
    "LETTER_SIGNATORY_LINES",
    "LETTER_VERSION_FILES",
)


@register()
def composition(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Each dotted path the composing settings name imports (`manage.py check`, every deploy)."""
    errors = []
    for name in COMPOSED:
        value = getattr(settings, name, ())
        for path in [value] if isinstance(value, str) else value:
            if not path:
                continue
            try:
                import_string(path)
            except ImportError as error:
                errors.append(
                    Error(
                        f"{name} names {path!r}, which cannot be imported: {error}",
                        hint="Name an object by its full dotted path, e.g. 'signatories.crm.MERGE_PARTICIPANT'.",
                        id="project.E001",
                    )
                )
    return errors


@register(Tags.security, deploy=True)
def checkpoints(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """A record's head kept only in the database can be set back by whoever writes to it."""
    if getattr(settings, "EVENT_CHECKPOINTS", ""):
        return []
    return [
        Warning(
            "EVENT_CHECKPOINTS is not set: the heads of the sign-ons' records are kept only in "
            "the database, where a rewrite that removes the last events cannot be told.",
            hint="Set EVENT_CHECKPOINTS to a file outside the database's reach (another volume, "
            "or one whose lines are shipped elsewhere).",
            id="project.W001",
        )
    ]


@register(Tags.security, deploy=True)
def pdf_signing(app_configs: Any = None, **kwargs: Any) -> list[Warning | Error]:
    """Published PDFs are signed with the coalition's certificate, when one is set and opens."""
    from letters import signing

    try:
        found = signing.signer()
    except signing.SigningError as error:
        return [
            Error(
                str(error),
                hint="Point PDF_SIGNING_CERT at the coalition's PKCS#12 file and set "
                "PDF_SIGNING_PASSWORD to its password.",
                id="project.E002",
            )
        ]
    if found is not None:
        return []
    return [
        Warning(
            "PDF_SIGNING_CERT is not set: published letters' PDFs go out unsigned, and nobody "
            "holding a copy can prove that the coalition published it.",
            hint="Set PDF_SIGNING_CERT to the coalition's PKCS#12 file (with "
            "PDF_SIGNING_PASSWORD), and PDF_TIMESTAMP_URL to an RFC 3161 time-stamping "
            "authority.",
            id="project.W002",
        )
    ]
