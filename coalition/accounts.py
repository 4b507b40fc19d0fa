from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class ClosedSignupAdapter(DefaultAccountAdapter):
    """Accounts are created by staff, never by visitors."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
