from django.core.management.base import BaseCommand

from signatories.services import send_due_reminders


class Command(BaseCommand):
    help = (
        "Remind the organizations that have not responded, where the schedule says a reminder is "
        "due (run it from cron every few minutes; it never sends the same reminder twice)."
    )

    def handle(self, *args: str, **options: object) -> None:
        reminded = send_due_reminders()
        for invitation in reminded:
            self.stdout.write(
                f"Reminded {invitation.organization.name} of “{invitation.sign_on.letter.title}”."
            )
        if not reminded:
            self.stdout.write("No reminder is due.")
