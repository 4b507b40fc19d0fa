"""Every sequence of a sign-on: staff, signers and strangers act in any order, through the pages
they use, and after every step the sign-on's invariants hold.

The rules are the actions of each kind of person: open, invite those added since, forward, sign,
decline, withdraw, ask through the open link, confirm, approve (one or several), reject, correct
a printed line, change the text slightly or materially, reconfirm, remind, move the deadline,
let time pass, close, publish, each kind of correction, and merge two organizations. Each acts
by pressing the button on its page (tests/support/forms.py), as a browser would.

The invariants: no page answers 500; the tally puts each invited organization in one column, and
the tracker, dashboard, export, signers' count and the member portal agree with it; the event
chain verifies; the published list is the approved signatures at publication, and each later
version is the one before plus its correction; no email is sent twice.

Profiles (HYPOTHESIS_PROFILE): "ci" (the default, a few hundred examples, the same each run) and
"deep" for a long local search. A failing example Hypothesis finds is kept below as a test of its
own (see test_a_found_sequence_*).
"""

import csv
import datetime
import io
import itertools
import os
import re
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, RequestFactory, TestCase
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from coalition.core.models import EmailDelivery
from coalition.crm.models import Membership
from letters import publishing
from letters.caching import LOCAL
from letters.models import LetterPage, Publication
from letters.services import approve_for_circulation
from letters.versions import render_publication_pdf
from signatories import selectors
from signatories.models import Action, Invitation, Signature, SignOn
from signatories.portal.selectors import overview
from signatories.services import Actor
from signatories.services.holds import hold_for
from tests.factories import ContactFactory, OrganizationFactory, StaffFactory
from tests.support.forms import press, submit
from tests.support.signing import make_members, open_new_sign_on

settings.register_profile(
    "ci",
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "deep",
    max_examples=3000,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
# What the examples reached, across the run: a rule never reached would prove nothing.
SEEN: Counter[str] = Counter()
# Names strangers type through the open link: new ones, one twice in other spellings, and one of
# the members' (who was invited, and is refused there).
REQUESTED_NAMES = [
    "Robot Makers Guild",
    "robot makers guild",
    "Société des Robots Québécois",
    "Ελληνική Ένωση Ρομπότ",
    "Association of Widget Makers 0",
]
ADDRESSES = ["sam@robots.example.org", "zoe@robots.example.org", "nikos@robots.example.gr"]


def ids_of(queryset: Any) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True))


class SignOnMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        cache.clear()
        LOCAL.forget()
        mail.outbox = []
        self.clock = time_machine.travel(START, tick=False)
        self.now = self.clock.start()
        self.answers: Counter[int] = Counter()
        self.failures: list[str] = []
        self.expected_versions: dict[int, list[dict[str, Any]]] = {}
        self.joined = 0
        self.portal_turn = 0

    def teardown(self) -> None:
        self.clock.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # -- Doing things as people do ---------------------------------------------------------

    def after_commit(self) -> Any:
        """What a request leaves for after its commit runs, as the worker would run it: the
        emails; the PDF, which no invariant reads, stays queued (it takes a second to draw)."""
        return TestCase.captureOnCommitCallbacks(execute=False)

    def run(self, callbacks: list[Any]) -> None:
        while callbacks:
            batch, callbacks[:] = list(callbacks), []
            with TestCase.captureOnCommitCallbacks(execute=False) as more:
                for callback in batch:
                    target = getattr(callback, "func", None)
                    if getattr(target, "__self__", None) is render_publication_pdf:
                        continue
                    callback()
            callbacks.extend(more)

    def note(self, response: Any, what: str) -> Any:
        if response is not None:
            self.answers[response.status_code] += 1
            if response.status_code >= 500:
                self.failures.append(f"{what}: {response.status_code}")
        return response

    def act(self, client: Client, url: str, button: str, what: str, **kwargs: Any) -> Any:
        with self.after_commit() as callbacks:
            done = submit(client, url, button, **kwargs)
        self.run(callbacks)
        self.note(done.page, f"{what} (its page)")
        return self.note(done.response, what)

    def follow_on(self, client: Client, page: Any, url: str, button: str, what: str, **kw: Any):
        with self.after_commit() as callbacks:
            done = press(client, page, url, button, **kw)
        self.run(callbacks)
        return self.note(done.response, what)

    @property
    def sign_on(self) -> SignOn:
        return SignOn.objects.select_related("letter").get(pk=self.sign_on_id)

    def invitations(self) -> list[Invitation]:
        return list(Invitation.objects.filter(sign_on_id=self.sign_on_id).order_by("pk"))

    def signatures(self, **filters: Any) -> list[Signature]:
        return list(Signature.objects.filter(letter_id=self.letter_id, **filters).order_by("pk"))

    # -- The world -------------------------------------------------------------------------

    @initialize(publish_at_goal=st.booleans())
    def open_a_sign_on(self, publish_at_goal: bool) -> None:
        # Each example is a new world: its database is rolled back, and so is the cache, where
        # the tally's counts are kept by sign-on and record head (on SQLite the next example's
        # rows take the same ids again).
        cache.clear()
        self.staff = StaffFactory(username="staff", email="staff@example.org")
        self.staff_client = Client(raise_request_exception=False)
        self.staff_client.force_login(self.staff)
        self.public = Client(raise_request_exception=False)
        self.members = make_members(4)
        with self.after_commit() as callbacks:
            # With a goal of 2 organizations: reached (or not) amid everything else, closing
            # and publishing by itself in half the examples.
            sign_on = open_new_sign_on(
                self.members,
                days=10,
                actor=Actor(user=self.staff, label="staff"),
                goal_organizations=2,
                publish_at_goal=publish_at_goal,
            )
        self.run(callbacks)
        self.sign_on_id, self.letter_id = sign_on.pk, sign_on.letter_id
        self.tracker = reverse("signatories_admin:tracker", args=[sign_on.pk])
        self.issued_open_link = False
        self.act(
            self.staff_client,
            self.tracker,
            "Create an open link",
            "open link",
            changes={"accepts_requests": "on"},
        )
        self.open_link = self._open_link_from_messages()

    def _open_link_from_messages(self) -> str:
        page = self.staff_client.get(self.tracker)
        found = re.search(r"/sign/open/([A-Za-z0-9_-]{43})/", page.content.decode())
        return found.group(0) if found else ""

    # -- Signers ---------------------------------------------------------------------------

    def _link(self, invitation: Invitation) -> str:
        return f"/sign/{selectors.invitation_link_token(invitation)}/"

    @rule(index=st.integers(0, 30))
    def sign(self, index: int) -> None:
        invitation = self.invitations()[index % len(self.invitations())]
        self.act(
            self.public,
            self._link(invitation),
            "Sign the letter",
            "sign",
            changes={"authorized": "on"},
        )

    @rule(index=st.integers(0, 30))
    def decline(self, index: int) -> None:
        invitation = self.invitations()[index % len(self.invitations())]
        self.act(self.public, self._link(invitation), "Decline to sign", "decline")

    @rule(index=st.integers(0, 30), colleague=st.integers(0, 2))
    def forward(self, index: int, colleague: int) -> None:
        invitation = self.invitations()[index % len(self.invitations())]
        self.act(
            self.public,
            self._link(invitation),
            "Send them a link",
            "forward",
            changes={
                "forward-name": f"Colleague {colleague}",
                "forward-email": f"colleague{colleague}@awm.example.org",
            },
        )

    def _signature_link(self, signature: Signature) -> str:
        return f"/sign/s/{selectors.signature_link_token(signature)}/"

    @rule(index=st.integers(0, 30))
    def withdraw(self, index: int) -> None:
        signed = self.signatures(response="signed")
        if not signed:
            return
        signature = signed[index % len(signed)]
        link = self._signature_link(signature)
        question = self.note(self.public.get(link, {"withdraw": "1"}), "withdraw (its question)")
        if question.status_code == 200:
            self.follow_on(
                self.public, question, f"{link}?withdraw=1", "Withdraw the signature", "withdraw"
            )

    @rule(name=st.sampled_from(REQUESTED_NAMES), address=st.sampled_from(ADDRESSES))
    def ask_through_the_open_link(self, name: str, address: str) -> None:
        if not self.open_link:
            return
        self.act(
            self.public,
            self.open_link,
            "Ask to sign for the organization",
            "open-link request",
            changes={
                "organization_name": name,
                "display_name": name,
                "signer_name": "Sam Rivera",
                "signer_title": "Director",
                "signer_email": address,
                "authorized": "on",
            },
        )

    @rule(index=st.integers(0, 30))
    def confirm(self, index: int) -> None:
        waiting = self.signatures(status="unconfirmed")
        if waiting:
            link = self._signature_link(waiting[index % len(waiting)])
            self.act(self.public, link, "^Confirm$", "confirm")

    @rule(index=st.integers(0, 30))
    def reconfirm(self, index: int) -> None:
        waiting = self.signatures(status="needs_reconfirmation")
        if waiting:
            link = self._signature_link(waiting[index % len(waiting)])
            self.act(self.public, link, "Reconfirm the signature", "reconfirm")

    # -- Staff ----------------------------------------------------------------------------

    REVIEW = "/admin/sign-ons/review/"

    @rule(index=st.integers(0, 30), corrected=st.booleans())
    def approve(self, index: int, corrected: bool) -> None:
        queue = ids_of(selectors.review_queue())
        if not queue:
            return
        pk = queue[index % len(queue)]
        changes: dict[str, Any] = {"note": "She agreed by phone."}
        if corrected:
            changes[f"display_name-{pk}"] = "A Corrected Line"
        self.act(
            self.staff_client,
            self.REVIEW,
            "^Approve",
            "approve",
            changes=changes,
            sending_to=f"/review/{pk}/approve/",
        )

    @rule(indexes=st.lists(st.integers(0, 30), min_size=1, max_size=3))
    def approve_several(self, indexes: list[int]) -> None:
        queue = ids_of(selectors.review_queue())
        if queue:
            ticked = sorted({str(queue[i % len(queue)]) for i in indexes})
            self.act(
                self.staff_client,
                self.REVIEW,
                "Approve the ticked",
                "approve several",
                changes={"signature": ticked, "note": "Agreed by phone."},
            )

    @rule(index=st.integers(0, 30))
    def reject(self, index: int) -> None:
        candidates = ids_of(selectors.review_queue())
        if candidates:
            pk = candidates[index % len(candidates)]
            self.act(
                self.staff_client,
                self.REVIEW,
                "Reject the ticked",
                "reject",
                changes={"signature": [str(pk)], "reason": "Not a member."},
            )

    @rule(index=st.integers(0, 30), line=st.sampled_from(["Widget Makers", "Ελληνικά Γραφεία"]))
    def correct_a_line(self, index: int, line: str) -> None:
        queue = ids_of(selectors.review_queue())
        if queue:
            pk = queue[index % len(queue)]
            self.act(
                self.staff_client,
                self.REVIEW,
                "Correct the line only",
                "correct a line",
                changes={f"display_name-{pk}": line},
                sending_to=f"/review/{pk}/display-name/",
            )

    @rule(material=st.booleans())
    def change_the_text(self, material: bool) -> None:
        letter = self.sign_on.letter
        letter.body = [{"type": "paragraph", "value": f"<p>Widgets, {Counter(self.answers)}.</p>"}]
        revision = letter.save_revision(user=self.staff)
        approval = approve_for_circulation(revision=revision, user=self.staff)
        self.act(
            self.staff_client,
            self.tracker,
            "Circulate this revision",
            "change the text",
            changes={
                "approval": str(approval.pk),
                "change": "material" if material else "minor",
                "note": "Reworded the second ask.",
            },
        )

    @rule()
    def remind(self) -> None:
        url = reverse("signatories_admin:remind", args=[self.sign_on_id])
        self.act(self.staff_client, url, "Send the reminder", "remind")

    @rule(days=st.integers(-9, 12))
    def move_the_deadline(self, days: int) -> None:
        url = reverse("signatories_admin:deadline", args=[self.sign_on_id])
        moved = timezone.localtime(self.sign_on.deadline + datetime.timedelta(days=days))
        page = self.note(self.staff_client.get(url), "move the deadline (its page)")
        with self.after_commit() as callbacks:
            shown = press(
                self.staff_client,
                page,
                url,
                "See the new date",
                changes={"deadline": moved.strftime("%Y-%m-%dT%H:%M")},
            )
        self.run(callbacks)
        self.note(shown.response, "move the deadline (its confirmation)")
        if shown.response is not None and shown.response.status_code == 200:
            self.follow_on(self.staff_client, shown.response, url, "Move the deadline", "move")

    @rule(hours=st.integers(1, 24 * 8))
    def time_passes(self, hours: int) -> None:
        self.now.shift(datetime.timedelta(hours=hours))
        # Staff sign in again when their session (two weeks) has run out, as they would.
        self.staff_client.force_login(self.staff)
        from signatories.services import close_due_sign_ons

        with self.after_commit() as callbacks:
            close_due_sign_ons()
        self.run(callbacks)

    @rule()
    def close(self) -> None:
        url = reverse("signatories_admin:close", args=[self.sign_on_id])
        self.act(self.staff_client, url, "Close the sign-on now", "close")

    @rule()
    def publish(self) -> None:
        before = self.sign_on.status
        lines = [line.__dict__ for line in Signature.objects.printable_lines(self.sign_on.letter)]
        url = reverse("signatories_admin:publish", args=[self.sign_on_id])
        self.act(self.staff_client, url, "^Publish with these", "publish")
        if before != SignOn.Status.PUBLISHED and self.sign_on.status == SignOn.Status.PUBLISHED:
            self.expected_versions[1] = lines

    @rule(index=st.integers(0, 30))
    def add_a_late_signatory(self, index: int) -> None:
        url = reverse("signatories_admin:corrections", args=[self.letter_id])
        organizations = self.members.organizations
        organization = organizations[index % len(organizations)]
        self.act(
            self.staff_client,
            url,
            "^Add$",
            "add a signatory",
            changes={
                "organization": str(organization.pk),
                "display_name": organization.printed_name,
                "reason": "Signed by email after the close.",
            },
        )

    @rule(index=st.integers(0, 30))
    def withdraw_a_printed_signatory(self, index: int) -> None:
        printed = list(Signature.objects.printable().filter(letter_id=self.letter_id))
        if printed:
            signature = printed[index % len(printed)]
            url = reverse("signatories_admin:retract", args=[self.letter_id, signature.pk])
            self.act(
                self.staff_client,
                url,
                "^Withdraw",
                "withdraw a printed signatory",
                changes={"reason": "Asked by phone."},
            )

    @rule(with_text=st.booleans())
    def publish_a_correction(self, with_text: bool) -> None:
        latest = Publication.objects.filter(letter_id=self.letter_id).order_by("-version").first()
        if latest is None or latest.version >= 4:
            return  # a few corrections say as much as many
        url = reverse("signatories_admin:corrections", args=[self.letter_id])
        page = self.note(self.staff_client.get(url), "corrections (its page)")
        changes = {"note": "A late signature.", "with_latest_text": "on" if with_text else None}
        shown = press(self.staff_client, page, url, "See version", changes=changes)
        self.note(shown.response, "see the correction")
        if shown.response is None or shown.response.status_code != 200:
            return
        lines = [line.__dict__ for line in Signature.objects.printable_lines(self.sign_on.letter)]
        preview = shown.response.request["PATH_INFO"]
        self.follow_on(self.staff_client, shown.response, preview, "^Publish version", "correct")
        newest = Publication.objects.filter(letter_id=self.letter_id).order_by("-version").first()
        if newest is not None and newest.version == latest.version + 1:
            self.expected_versions[newest.version] = lines

    @rule()
    def a_member_joins_and_is_invited(self) -> None:
        self.joined += 1
        organization = OrganizationFactory(name=f"Late Joiners {self.joined}")
        Membership.objects.create(coalition=self.members.coalition, organization=organization)
        ContactFactory(organization=organization, is_authorized_signer=True, is_primary=True)
        url = reverse("signatories_admin:invite", args=[self.sign_on_id])
        self.act(self.staff_client, url, "^Invite", "invite those added since")

    @rule(first=st.integers(0, 30), second=st.integers(0, 30))
    def merge_two_organizations(self, first: int, second: int) -> None:
        organizations = self.members.organizations
        survivor = organizations[first % len(organizations)]
        duplicate = organizations[second % len(organizations)]
        if (
            survivor.pk == duplicate.pk
            or type(survivor)
            .objects.filter(pk__in=[survivor.pk, duplicate.pk], merged_into__isnull=True)
            .count()
            != 2
        ):
            return
        url = reverse("coalition_organizations:merge", args=[survivor.pk])
        self.act(
            self.staff_client,
            f"{url}?duplicate={duplicate.pk}",
            "^Merge ",
            "merge",
        )

    # -- What always holds ----------------------------------------------------------------

    @invariant()
    def everything_agrees(self) -> None:
        """One invariant that reads the sign-on once and checks each rule against it."""
        assert not self.failures, self.failures
        sign_on = self.sign_on
        counts = selectors.tally(sign_on)
        self.check_columns(counts)
        self.check_counts(sign_on, counts)
        self.check_portal(counts)
        assert selectors.verify_event_chain(sign_on=sign_on) == []
        self.check_versions()
        self.check_hold(sign_on)
        self.check_emails()
        self.check_goal(sign_on, counts)

    def check_goal(self, sign_on: SignOn, counts: selectors.Tally) -> None:
        """The goal is recorded reached once, when it was; by itself, the sign-on then closed."""
        goal = selectors.goal_of(sign_on, counts)
        assert goal is not None
        recorded = sign_on.events.filter(action=Action.GOAL_REACHED).count()
        assert recorded == (1 if sign_on.goal_reached_at else 0)
        if sign_on.goal_reached_at is not None:
            SEEN["goal reached"] += 1
            if sign_on.publish_at_goal:
                assert sign_on.status != SignOn.Status.OPEN, "reached, and still open"
        elif sign_on.status == SignOn.Status.OPEN:
            assert not goal.reached, "the goal was reached and nobody was told"

    def check_hold(self, sign_on: SignOn) -> None:
        """The letter's hold on Wagtail's own doors says what its sign-on and versions say now."""
        letter = LetterPage.objects.get(pk=sign_on.letter_id)
        needed = hold_for(letter)
        refused = publishing.refusal(letter)
        if needed is None:
            assert refused is None
        else:
            assert refused is not None and refused.message == needed.message
            assert refused.url == reverse(needed.url_name, args=needed.url_args)

    def check_emails(self) -> None:
        """Each email the outbox decided to send went once; the same email twice is a defect,
        except a reminder staff sent again on purpose (its page says who gets it), and the same
        words for another event of the record (a deadline moved back to a date it had)."""
        delivered = EmailDelivery.objects.filter(status=EmailDelivery.Status.SENT)
        assert delivered.count() == len(mail.outbox), (delivered.count(), len(mail.outbox))
        occasions: dict[tuple[str, str], set[str]] = {}
        for recipient, subject, occasion in delivered.values_list(
            "recipient", "subject", "occasion"
        ):
            occasions.setdefault((recipient.casefold(), subject), set()).add(occasion)
        same = Counter(
            (tuple(m.to), m.subject, m.body)
            for m in mail.outbox
            if not m.subject.startswith("Reminder")
        )
        twice = [
            key
            for key, count in same.items()
            if count > 1
            and len(occasions.get((key[0][0].casefold(), key[1]), set()) - {""}) < count
        ]
        assert not twice, f"an email went twice: {twice[:1]}"

    def check_columns(self, counts: selectors.Tally) -> None:
        """Each invited organization is in one column of the tracker, and only one."""
        invited = {i.organization_id for i in self.invitations()}
        assert sorted(row.organization.pk for row in counts.invited) == sorted(invited)
        assert sum(counts.totals[column] for column in selectors.COLUMNS) == len(invited)

    def check_counts(self, sign_on: SignOn, counts: selectors.Tally) -> None:
        """The dashboard, the signers' count, what prints and the export say what the tracker says."""
        progress = selectors.progress_of([sign_on])[0]
        assert progress.invited == counts.totals["total"]
        assert progress.signed == counts.totals["signed"]
        assert progress.declined == counts.totals["declined"]
        assert progress.printed == counts.printed
        assert progress.waiting_for_review == counts.waiting_for_review
        assert progress.waiting_for_signer == counts.waiting_for_signer
        assert selectors.signed_so_far(sign_on).startswith(f"{counts.printed_organizations} ")
        if sign_on.status != SignOn.Status.CANCELLED:
            printable = Signature.objects.printable().filter(sign_on=sign_on).count()
            assert printable == counts.printed
        export = self.staff_client.get(
            reverse("signatories_admin:export", args=[sign_on.pk, "csv"])
        )
        assert export.status_code == 200
        lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))[1:]
        assert Counter(line[3] for line in lines) == Counter(r.state_label for r in counts.rows)

    def check_portal(self, counts: selectors.Tally) -> None:
        """A member's portal states its organization's answer as the tracker does."""
        self.portal_turn += 1
        row = counts.invited[self.portal_turn % len(counts.invited)]
        contact = row.organization.contacts.order_by("pk").first()
        if contact is None:
            return
        seen = overview(RequestFactory().get("/portal/"), contact)
        for item in seen.open_requests:
            if item.sign_on.pk == self.sign_on_id:
                assert item.state_label == row.state_label, row.organization.name

    def check_versions(self) -> None:
        """The published list is what was approved then; each correction changes only itself."""
        versions = list(Publication.objects.filter(letter_id=self.letter_id).order_by("version"))
        for version in versions:
            expected = self.expected_versions.get(version.version)
            if expected is not None:
                assert version.signatories == expected, version.version
        for before, after in itertools.pairwise(versions):
            added = [line["text"] for line in after.changes.get("added", [])]
            removed = [line["text"] for line in after.changes.get("removed", [])]
            was = Counter(line["text"] for line in before.signatories)
            now = Counter(line["text"] for line in after.signatories)
            assert was + Counter(added) - Counter(removed) == now, after.version


def examples() -> int:
    """The CI profile's number of examples: most on PostgreSQL, which production runs on; fewer
    on SQLite, whose run repeats the same rules on another engine."""
    default = "150" if connection.vendor == "postgresql" else "60"
    return int(os.environ.get("SIGN_ON_MACHINE_EXAMPLES", default))


@pytest.mark.django_db
def test_a_found_sequence_a_deadline_moved_back_and_again_emails_each_move() -> None:
    """Found by the machine: extended, brought forward, extended to the same moment again. Each
    move is an event of its own and is emailed; the second extension's words are the first's."""
    machine = SignOnMachine()
    try:
        machine.open_a_sign_on(publish_at_goal=True)
        for _ in range(3):
            machine.a_member_joins_and_is_invited()
        machine.everything_agrees()
        for days in (5, -5, 5):
            machine.move_the_deadline(days=days)
            machine.everything_agrees()
        extended = [m for m in mail.outbox if m.subject.startswith("Deadline extended")]
        assert len(extended) == 2 * len({tuple(m.to) for m in extended})
    finally:
        machine.teardown()


@pytest.mark.django_db
def test_every_sequence_of_a_sign_on_keeps_its_invariants() -> None:
    chosen = (
        PROFILE
        if os.environ.get("HYPOTHESIS_PROFILE")
        else settings(PROFILE, max_examples=examples())
    )
    SEEN.clear()
    run_state_machine_as_test(SignOnMachine, settings=chosen)
    assert SEEN["goal reached"], "no example reached the sign-on's goal"
