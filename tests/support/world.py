"""A small world with one of everything a door can open: letters published, in review and out
for sign-on, signatures in several states, members with contacts, an image, a document, a
collection, a redirect, a proposal, and a user for each role. Built through the services, as
staff and signers would build it."""

import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as PillowImage
from wagtail.admin.models import EditingSession
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import (
    Collection,
    Locale,
    Page,
    Site,
    Task,
    TaskState,
    UploadedFile,
    Workflow,
    WorkflowState,
)

from coalition.crm.models import Interaction, ProfileProposal
from letters import passages
from letters.models import LetterPage, WordImportJob
from signatories import selectors, services
from signatories.inputs import Commenting
from signatories.models import DraftComment, DraftShare, Signature, SignOn
from tests.factories import (
    ContactFactory,
    OrganizationFactory,
    SignatureFactory,
    UserFactory,
    letter_index,
    make_letter,
    publish,
)
from tests.support.signing import (
    STAFF_ACTOR,
    Members,
    ask_to_sign,
    decline,
    make_members,
    open_new_sign_on,
    sign,
)

# The people a door is tried as. Staff roles hold a second factor unless their name says not.
ROLES = (
    "anonymous",
    "member",
    "editor",
    "moderator",
    "coalition_manager",
    "publisher",
    "staff_without_mfa",
    "superuser",
)
GROUPS = {
    "editor": "Editors",
    "moderator": "Moderators",
    "coalition_manager": "Coalition managers",
    "publisher": "Publishers",
    "staff_without_mfa": "Editors",
}


@dataclass
class World:
    published: LetterPage
    draft: LetterPage
    members: Members
    sign_on: SignOn
    signature: Signature
    request: Signature
    member_organization: Any
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # Primary keys of one real object of each kind a path parameter names, by kind.
    ids: dict[str, object] = field(default_factory=dict)


def _png() -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (40, 20), "#336699").save(buffer, format="PNG")
    return buffer.getvalue()


def _user(role: str) -> Any:
    user = UserFactory(
        username=role,
        email=f"{role.replace('_', '-')}@example.org",
        is_staff=role != "member",
        is_superuser=role == "superuser",
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    if role in GROUPS:
        user.groups.add(Group.objects.get(name=GROUPS[role]))
    if role not in ("member", "staff_without_mfa"):
        TOTP.activate(user, generate_totp_secret())
    return user


def _letters() -> tuple[LetterPage, LetterPage, Members, SignOn, dict[str, Any]]:
    """A published letter with a signatory, one in internal review, one out for sign-on."""
    published = make_letter(live=False, title="A published letter", slug="published")
    printed = SignatureFactory(
        letter=published, organization=OrganizationFactory(name="Printed Guild")
    )
    publish(published)
    in_review = make_letter(live=False, title="A letter in review", slug="in-review")
    workflow = in_review.get_workflow()
    workflow_state = workflow.start(in_review, UserFactory(username="author"))
    members = make_members(3)
    sign_on = open_new_sign_on(members)
    return (
        published,
        in_review,
        members,
        sign_on,
        {
            "printed_signature": printed.pk,
            "workflow": workflow.pk,
            "workflow_state": workflow_state.pk,
            "task_state": TaskState.objects.filter(workflow_state=workflow_state).first().pk,
        },
    )


def _shared_draft(letter: LetterPage, members: Members) -> tuple[DraftShare, DraftComment]:
    """The letter's draft shared with a member, who suggested wording for its first passage."""
    [share] = services.share_draft(letter=letter, contacts=[members.contacts[0]], actor=STAFF_ACTOR)
    _, draft = selectors.latest_draft(letter)
    first = next(passages.passages(draft))
    comment = services.comment_on_draft(
        share=share,
        passage=first.key,
        commenting=Commenting(suggestion="A better opening."),
        text_hash=passages.text_hash(first.text),
        actor=STAFF_ACTOR,
    )
    return share, comment


def _files(user: Any) -> dict[str, object]:
    image = get_image_model().objects.create(
        title="Logo", file=ContentFile(_png(), name="logo.png"), width=40, height=20
    )
    document = get_document_model().objects.create(
        title="Annex", file=ContentFile(b"An annex.", name="annex.txt")
    )
    uploaded = UploadedFile.objects.create(
        file=ContentFile(_png(), name="upload.png"), uploaded_by_user=user
    )
    return {"image": image.pk, "document": document.pk, "uploaded_file": uploaded.pk}


def _after_publication(published: LetterPage) -> dict[str, object]:
    """The published letter's recipient, a delivery by post with its scan, and an answer with
    its file, published."""
    import datetime

    from signatories.answer_files import check_upload
    from tests.support.recipients import jane

    recipient = jane(published)
    scan = check_upload(
        SimpleUploadedFile("receipt.png", _png(), content_type="image/png"), label="Scan"
    )
    delivery = services.record_hand_delivery(
        recipient=recipient,
        method="post",
        delivered_on=datetime.date(2026, 1, 5),
        scan=scan,
        note="",
        actor=STAFF_ACTOR,
    )
    answer = services.record_answer(
        recipient=recipient,
        received_on=datetime.date(2026, 2, 1),
        text="Thank you for your letter.",
        file=check_upload(
            SimpleUploadedFile("answer.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
            label="File",
        ),
        actor=STAFF_ACTOR,
    )
    services.publish_answer(answer=answer, actor=STAFF_ACTOR)
    return {"delivery": delivery.pk, "answer": answer.pk, "answer_key": answer.public_key}


def _translated(letter: LetterPage) -> LetterPage:
    """The letter in French, made by Wagtail's "Translate" and published: its pages and PDF
    read under the letter's address, at in/fr/."""
    from wagtail.actions.copy_for_translation import CopyPageForTranslationAction

    locale = Locale.objects.create(language_code="fr")
    translation = CopyPageForTranslationAction(letter, locale, copy_parents=True).execute(
        skip_permission_checks=True
    )
    translation.title = "Une lettre commune"
    translation.save_revision().publish()
    return translation


def build_world() -> World:
    """Everything in one go; a few seconds, once per test that needs it."""
    published, in_review, members, sign_on, ids = _letters()
    invitations = list(sign_on.invitations.order_by("organization__name"))
    signature = sign(invitations[0])
    decline(invitations[1])
    open_link = services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    request = ask_to_sign(sign_on)
    draft = sign_on.letter

    member_organization = members.organizations[2]
    member_contact = member_organization.contacts.get()
    users = {role: _user(role) for role in ROLES if role != "anonymous"}
    member_contact.email = users["member"].email
    member_contact.user = users["member"]
    member_contact.save()
    ContactFactory(organization=OrganizationFactory(name="Κοινότητα Ελλήνων"))
    Interaction.objects.create(
        organization=member_organization, summary="Called about the spring letter."
    )
    proposal = ProfileProposal.objects.create(
        organization=member_organization,
        contact=member_contact,
        proposed_by=f"{member_contact.name} <{member_contact.email}>",
        changes={"website": "https://widgets.example.org"},
        previous={"website": ""},
    )
    superuser = users["superuser"]
    # Someone else's: a passkey with made-up key data of one's own would be asked for at once.
    passkey = Authenticator.objects.create(
        user=UserFactory(username="keyholder"),
        type=Authenticator.Type.WEBAUTHN,
        data={"name": "Desk key", "credential": {}, "passwordless": False},
    )
    session = EditingSession.objects.create(
        user=superuser,
        content_type=ContentType.objects.get_for_model(Page),
        object_id=str(draft.pk),
        last_seen_at=timezone.now(),
    )
    draft_share, draft_comment = _shared_draft(draft, members)
    ids["translation"] = _translated(published).pk
    ids.update(_files(superuser))
    ids.update(_after_publication(published))
    ids.update(
        root=Page.get_first_root_node().pk,
        home=Site.objects.get(is_default_site=True).root_page_id,
        index=letter_index().pk,
        draft=draft.pk,
        published=published.pk,
        in_review=in_review.pk,
        first_revision=draft.revisions.order_by("pk").first().pk,
        latest_revision=draft.latest_revision_id,
        sign_on=sign_on.pk,
        request=request.pk,
        draft_share=draft_share.pk,
        draft_comment=draft_comment.pk,
        proposal=proposal.pk,
        passkey=passkey.pk,
        editing_session=session.pk,
        collection=Collection.get_first_root_node().add_child(name="Annexes").pk,
        redirect=Redirect.objects.create(old_path="/old-letter", redirect_link="/letters/").pk,
        task=Task.objects.order_by("pk").first().pk,
        word_import=WordImportJob.objects.create(
            id=uuid.uuid4(), name="letter.docx", status=WordImportJob.Status.DONE
        ).pk,
    )
    assert Workflow.objects.filter(pk=ids["workflow"]).exists()
    assert WorkflowState.objects.filter(pk=ids["workflow_state"]).exists()
    return World(
        published=published,
        draft=draft,
        members=members,
        sign_on=sign_on,
        signature=signature,
        request=request,
        member_organization=member_organization,
        users=users,
        tokens={
            "invitation": selectors.invitation_link_token(invitations[2]),
            "signature": selectors.signature_link_token(signature),
            "open_link": open_link,
            "draft": selectors.draft_link_token(draft_share),
            "passage": draft_comment.passage,
        },
        ids=ids,
    )
