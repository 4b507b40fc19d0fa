"""The one way a staff view shows what a service refused: on the form's field, or as a message."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpRequest
from django.test import RequestFactory

from signatories.admin_views.common import showing_refusal
from signatories.errors import SignOnError, TransitionNotAllowed


class RecirculationForm(forms.Form):
    approval = forms.CharField()
    note = forms.CharField(required=False)


def posted() -> HttpRequest:
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def said(request: HttpRequest) -> list[str]:
    return [str(message) for message in get_messages(request)]


def test_it_puts_the_refusal_on_the_field_it_names() -> None:
    request, form = posted(), RecirculationForm({"approval": "3"})
    assert form.is_valid()
    with showing_refusal(request, form=form) as refusal:
        raise SignOnError("This revision is the one already circulated.", field="revision")
    # The services name the revision; the form chooses it by its approval.
    assert form.errors == {"approval": ["This revision is the one already circulated."]}
    assert refusal and refusal.on_form
    assert said(request) == []


def test_it_says_a_refusal_of_no_field_of_the_form_as_a_message_after_its_prefix() -> None:
    request, form = posted(), RecirculationForm({"approval": "3"})
    assert form.is_valid()
    with showing_refusal(request, form=form, prefix="Nothing was done: ") as refusal:
        raise TransitionNotAllowed("The sign-on is closed.")
    assert refusal and not refusal.on_form
    assert not form.errors
    assert said(request) == ["Nothing was done: The sign-on is closed."]


def test_without_a_form_every_refusal_is_a_message() -> None:
    request = posted()
    with showing_refusal(request) as refusal:
        raise SignOnError("The reason is too long: at most 2000 characters.", field="reason")
    assert refusal.error is not None and refusal.error.field == "reason"
    assert said(request) == ["The reason is too long: at most 2000 characters."]


def refuse() -> None:
    raise SignOnError("Refused.")


def test_what_follows_the_calls_runs_only_when_nothing_was_refused() -> None:
    request, done = posted(), []
    with showing_refusal(request) as refusal:
        done.append("called")
    assert done == ["called"] and not refusal
    with showing_refusal(request):
        refuse()
        done.append("not reached")
    assert done == ["called"]


def test_it_lets_any_other_error_through() -> None:
    request = posted()
    with pytest.raises(ValueError), showing_refusal(request):
        raise ValueError("a bug, not a refusal")
    assert said(request) == []
